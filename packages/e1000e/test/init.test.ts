import { describe, expect, it } from 'vitest';
import { E1000eDevice, e1000eDriver, registers as R } from '../src/index.js';
import { FakeAccess, type Access } from './fake-e1000e.js';

const W = 'write';

function tracedOpen(options = {}): { dev: E1000eDevice; trace: Access[]; access: FakeAccess } {
  const access = new FakeAccess();
  const trace: Access[] = [];
  access.card.trace = trace;
  const dev = e1000eDriver.open(access, { linkTimeoutMs: 0, ...options });
  access.card.trace = null;
  return { dev, trace, access };
}

describe('e1000e initialisation (§4.6) against a fake 82574', () => {
  it('programs the card in the datasheet order', () => {
    const { dev, trace } = tracedOpen({ ringSize: 256 });
    try {
      const find = (op: string, offset: number, pred: (v: number) => boolean = () => true, from = 0): number => {
        for (let i = from; i < trace.length; i++) {
          const a = trace[i];
          if (a.op === op && a.offset === offset && pred(a.value)) return i;
        }
        throw new Error(`no ${op} of 0x${offset.toString(16)} after access ${from}`);
      };
      const steps: [string, number][] = [];
      const step = (name: string, at: number): number => {
        steps.push([name, at]);
        return at;
      };
      // §4.6 interrupts during initialization: all masked first
      const imc1 = step(
        'IMC all',
        find(W, R.E1000_IMC, (v) => v === 0xffffffff),
      );
      // §4.6 global reset: receive and transmit off, DMA stopped and idle, then the reset
      const rctlOff = step(
        'RCTL = 0',
        find(W, R.E1000_RCTL, (v) => v === 0, imc1),
      );
      const tctlOff = step(
        'TCTL.EN clear',
        find(W, R.E1000_TCTL, (v) => (v & R.E1000_TCTL_EN) === 0, rctlOff),
      );
      const gio = step(
        'CTRL.GIO_MASTER_DISABLE',
        find(W, R.E1000_CTRL, (v) => (v & R.E1000_CTRL_GIO_MASTER_DISABLE) !== 0, tctlOff),
      );
      const idle = step(
        'STATUS.GIO_MASTER_ENABLE reads 0',
        find('read', R.E1000_STATUS, (v) => (v & R.E1000_STATUS_GIO_MASTER_ENABLE) === 0, gio),
      );
      const rst = step(
        'CTRL.RST',
        find(W, R.E1000_CTRL, (v) => (v & R.E1000_CTRL_RST) !== 0, idle),
      );
      const rstDone = step(
        'CTRL.RST reads clear',
        find('read', R.E1000_CTRL, (v) => (v & R.E1000_CTRL_RST) === 0, rst),
      );
      const autoRd = step(
        'EECD.AUTO_RD',
        find('read', R.E1000_EECD, (v) => (v & R.E1000_EECD_AUTO_RD) !== 0, rstDone),
      );
      const imc2 = step(
        'IMC all again',
        find(W, R.E1000_IMC, (v) => v === 0xffffffff, autoRd),
      );
      // §4.6 link set-up: SLU, speed and duplex from the PHY
      const slu = step(
        'CTRL.SLU',
        find(
          W,
          R.E1000_CTRL,
          (v) => (v & R.E1000_CTRL_SLU) !== 0 && (v & (R.E1000_CTRL_FRCSPD | R.E1000_CTRL_FRCDPX)) === 0,
          imc2,
        ),
      );
      // §4.6 statistics: read (clear-on-read) before use
      const stats = step(
        'GPRC read',
        find('read', R.E1000_GPRC, () => true, slu),
      );
      // §4.6 receive initialization: ring, then RCTL.EN, then the tail hands the ring over
      const rdbal = step(
        'RDBAL',
        find(W, R.E1000_RDBAL, (v) => v !== 0, stats),
      );
      const rdlen = step(
        'RDLEN',
        find(W, R.E1000_RDLEN, (v) => v === 256 * 16, rdbal),
      );
      const legacy = step(
        'RFCTL.EXTEN clear',
        find(W, R.E1000_RFCTL, (v) => (v & R.E1000_RFCTL_EXTEN) === 0, rdlen),
      );
      const rctlEn = step(
        'RCTL.EN',
        find(W, R.E1000_RCTL, (v) => (v & R.E1000_RCTL_EN) !== 0, legacy),
      );
      const rdt = step(
        'RDT = size - 1',
        find(W, R.E1000_RDT, (v) => v === 255, rctlEn),
      );
      // §4.6 transmit initialization: ring, then TCTL.EN
      const tdbal = step(
        'TDBAL',
        find(W, R.E1000_TDBAL, (v) => v !== 0, rdt),
      );
      const tdlen = step(
        'TDLEN',
        find(W, R.E1000_TDLEN, (v) => v === 256 * 16, tdbal),
      );
      step(
        'TCTL.EN',
        find(W, R.E1000_TCTL, (v) => (v & (R.E1000_TCTL_EN | R.E1000_TCTL_PSP)) !== 0, tdlen),
      );
      expect(steps.map(([, at]) => at)).toEqual([...steps.map(([, at]) => at)].sort((a, b) => a - b));
    } finally {
      dev.close();
    }
  });

  it('enables receive with 2 KiB buffers, broadcasts, CRC stripped, no long packets, promiscuous by default', () => {
    const { dev, access } = tracedOpen();
    try {
      const rctl = access.card.get(R.E1000_RCTL);
      expect(rctl & R.E1000_RCTL_EN).not.toBe(0);
      expect(rctl & R.E1000_RCTL_BAM).not.toBe(0);
      expect(rctl & R.E1000_RCTL_SECRC).not.toBe(0);
      expect(rctl & (R.E1000_RCTL_BSIZE_MASK | R.E1000_RCTL_BSEX | R.E1000_RCTL_LPE | R.E1000_RCTL_SBP)).toBe(0);
      expect(rctl & (R.E1000_RCTL_LBM_MASK | R.E1000_RCTL_DTYP_MASK)).toBe(0);
      expect(rctl & (R.E1000_RCTL_UPE | R.E1000_RCTL_MPE)).toBe(R.E1000_RCTL_UPE | R.E1000_RCTL_MPE);
      expect(access.card.get(R.E1000_RXCSUM)).toBe(0);
      expect(access.card.get(R.E1000_IMS)).toBe(0); // polled: nothing unmasked
      expect(access.card.resets).toBe(1);
      expect(access.claimed).toBe(true);
    } finally {
      dev.close();
    }
  });

  it('programs 64-bit ring addresses as two halves (simulated DMA sits above 4 GiB)', () => {
    const { dev, access } = tracedOpen();
    try {
      expect(access.card.get(R.E1000_RDBAH)).toBeGreaterThan(0);
      expect(access.card.get(R.E1000_TDBAH)).toBeGreaterThan(0);
      expect(access.card.get(R.E1000_TXDCTL) & R.E1000_TXDCTL_COUNT_DESC).not.toBe(0);
      expect(access.card.get(R.E1000_TARC0) & R.E1000_TARC_ENABLE).not.toBe(0);
    } finally {
      dev.close();
    }
  });

  it('sets up 802.3x flow control when asked: thresholds inside the RX packet buffer, PAUSE sent and honoured', () => {
    const { dev, access } = tracedOpen({ flowControl: true });
    try {
      const card = access.card;
      const rxBuffer = (card.get(R.E1000_PBA) & 0xffff) * 1024;
      const high = card.get(R.E1000_FCRTH);
      expect(high).toBeGreaterThan(0);
      expect(high).toBeLessThanOrEqual(rxBuffer - 2 * 1522);
      expect(high % 8).toBe(0);
      expect(card.get(R.E1000_FCRTL)).toBe(((high - 8) | R.E1000_FCRTL_XONE) >>> 0);
      expect(card.get(R.E1000_FCT)).toBe(0x8808);
      expect(card.get(R.E1000_FCAL)).toBe(0x00c28001);
      expect(card.get(R.E1000_FCAH)).toBe(0x100);
      expect(card.get(R.E1000_CTRL) & (R.E1000_CTRL_TFCE | R.E1000_CTRL_RFCE)).toBe(
        (R.E1000_CTRL_TFCE | R.E1000_CTRL_RFCE) >>> 0,
      );
    } finally {
      dev.close();
    }
    const off = tracedOpen();
    try {
      expect(off.access.card.get(R.E1000_CTRL) & (R.E1000_CTRL_TFCE | R.E1000_CTRL_RFCE)).toBe(0);
    } finally {
      off.dev.close();
    }
  });

  it('starts non-promiscuous when asked', () => {
    const { dev, access } = tracedOpen({ promisc: false });
    try {
      expect(access.card.get(R.E1000_RCTL) & (R.E1000_RCTL_UPE | R.E1000_RCTL_MPE)).toBe(0);
    } finally {
      dev.close();
    }
  });
});
