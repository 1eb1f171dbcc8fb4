import { describe, expect, it } from 'vitest';
import { InvalidOptionError, openDevice, registeredDrivers, type DeviceIdentity } from '@ixy/core';
import { Cable, SimDeviceAccess, type IxgbeModel, type RegisterAccess } from '@ixy/sim';
import { IXGBE_DEVICE_IDS, IxgbeDevice, ixgbeDriver, registers as R, resolveIxgbeOptions } from '../src/index.js';
import { freshCable } from './helpers.js';

/** Opens the driver on a model whose register accesses are recorded from the first one. */
function tracedOpen(options = {}): {
  dev: IxgbeDevice;
  trace: RegisterAccess[];
  cable: string;
  access: SimDeviceAccess;
} {
  const cable = freshCable();
  const access = new SimDeviceAccess(`sim:${cable}:0`);
  const trace = access.model.startTrace();
  const dev = ixgbeDriver.open(access, { linkTimeoutMs: 0, ...options }) as IxgbeDevice;
  access.model.stopTrace();
  return { dev, trace, cable, access };
}

const W = 'write';

describe('ixgbe initialisation (§4.6.3) against the model', () => {
  it('programs the card in the datasheet order', () => {
    const { dev, trace, cable } = tracedOpen({ ringSize: 256 });
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
      const eimc1 = step(
        'EIMC',
        find(W, R.IXGBE_EIMC, (v) => v === 0xffffffff),
      );
      const gioDis = step(
        'CTRL.GIO_DIS',
        find(W, R.IXGBE_CTRL, (v) => (v & R.IXGBE_CTRL_GIO_DIS) !== 0, eimc1),
      );
      const gioIdle = step(
        'STATUS.GIO reads 0',
        find('read', R.IXGBE_STATUS, (v) => (v & R.IXGBE_STATUS_GIO) === 0, gioDis),
      );
      const rst = step(
        'CTRL.RST',
        find(W, R.IXGBE_CTRL, (v) => (v & R.IXGBE_CTRL_RST_MASK) === R.IXGBE_CTRL_RST_MASK, gioIdle),
      );
      const rstDone = step(
        'CTRL reads clear',
        find('read', R.IXGBE_CTRL, (v) => (v & R.IXGBE_CTRL_RST_MASK) === 0, rst),
      );
      const eimc2 = step(
        'EIMC again',
        find(W, R.IXGBE_EIMC, (v) => v === 0xffffffff, rstDone),
      );
      const ard = step(
        'EEC.ARD',
        find('read', R.IXGBE_EEC, (v) => (v & R.IXGBE_EEC_ARD) !== 0, eimc2),
      );
      const dma = step(
        'DMAIDONE',
        find('read', R.IXGBE_RDRXCTL, (v) => (v & R.IXGBE_RDRXCTL_DMAIDONE) !== 0, ard),
      );
      // §4.6.4: auto-negotiation restarted in the link mode the EEPROM loaded (10G serial here)
      const an = step(
        'AUTOC AN restart',
        find(
          W,
          R.IXGBE_AUTOC,
          (v) => (v & R.IXGBE_AUTOC_AN_RESTART) !== 0 && (v & R.IXGBE_AUTOC_LMS_MASK) === R.IXGBE_AUTOC_LMS_10G_SERIAL,
          dma,
        ),
      );
      const stats = step('stats read', find('read', R.IXGBE_GPRC, undefined, an));
      const rxOff = step(
        'RXCTRL off',
        find(W, R.IXGBE_RXCTRL, (v) => (v & R.IXGBE_RXCTRL_RXEN) === 0, stats),
      );
      const pb = step(
        'RXPBSIZE',
        find(W, R.IXGBE_RXPBSIZE(0), (v) => v === R.IXGBE_RXPBSIZE_128KB, rxOff),
      );
      const crc = step(
        'HLREG0 CRC strip',
        find(W, R.IXGBE_HLREG0, (v) => (v & R.IXGBE_HLREG0_RXCRCSTRP) !== 0, pb),
      );
      const must = R.IXGBE_RDRXCTL_RSCACKC | R.IXGBE_RDRXCTL_FCOE_WRFIX;
      const rdrx = step(
        'RDRXCTL must-be-1 bits',
        find(W, R.IXGBE_RDRXCTL, (v) => (v & must) === must, crc),
      );
      const bam = step(
        'FCTRL.BAM',
        find(W, R.IXGBE_FCTRL, (v) => (v & R.IXGBE_FCTRL_BAM) !== 0, rdrx),
      );
      const srr = step('SRRCTL', find(W, R.IXGBE_SRRCTL(0), undefined, bam));
      const rdbal = step('RDBAL', find(W, R.IXGBE_RDBAL(0), undefined, srr));
      const rdlen = step(
        'RDLEN',
        find(W, R.IXGBE_RDLEN(0), (v) => v === 256 * 16, rdbal),
      );
      const nsdis = step(
        'CTRL_EXT.NS_DIS',
        find(W, R.IXGBE_CTRL_EXT, (v) => (v & R.IXGBE_CTRL_EXT_NS_DIS) !== 0, rdlen),
      );
      const dca = step(
        'DCA_RXCTRL bit 12',
        find(W, R.IXGBE_DCA_RXCTRL(0), (v) => (v & (1 << 12)) === 0, nsdis),
      );
      const rxOn = step(
        'RXCTRL on',
        find(W, R.IXGBE_RXCTRL, (v) => (v & R.IXGBE_RXCTRL_RXEN) !== 0, dca),
      );
      const txcrc = step(
        'HLREG0 TX',
        find(W, R.IXGBE_HLREG0, (v) => (v & 0x401) === 0x401, rxOn),
      );
      const tpb = step(
        'TXPBSIZE',
        find(W, R.IXGBE_TXPBSIZE(0), (v) => v === R.IXGBE_TXPBSIZE_40KB, txcrc),
      );
      const mx = step(
        'DTXMXSZRQ',
        find(W, R.IXGBE_DTXMXSZRQ, (v) => v === 0xffff, tpb),
      );
      const arb = step(
        'RTTDCS',
        find(W, R.IXGBE_RTTDCS, (v) => (v & R.IXGBE_RTTDCS_ARBDIS) === 0, mx),
      );
      const tdbal = step('TDBAL', find(W, R.IXGBE_TDBAL(0), undefined, arb));
      const txdctl = step(
        'TXDCTL thresholds',
        find(W, R.IXGBE_TXDCTL(0), (v) => (v & 0x7f7f7f) === (36 | (8 << 8) | (4 << 16)), tdbal),
      );
      const te = step(
        'DMATXCTL.TE',
        find(W, R.IXGBE_DMATXCTL, (v) => v === R.IXGBE_DMATXCTL_TE, txdctl),
      );
      const rxen = step(
        'RXDCTL enable',
        find(W, R.IXGBE_RXDCTL(0), (v) => (v & R.IXGBE_RXDCTL_ENABLE) !== 0, te),
      );
      const rxread = step(
        'RXDCTL reads enabled',
        find('read', R.IXGBE_RXDCTL(0), (v) => (v & R.IXGBE_RXDCTL_ENABLE) !== 0, rxen),
      );
      const rdt = step(
        'RDT = N-1',
        find(W, R.IXGBE_RDT(0), (v) => v === 255, rxread),
      );
      const txen = step(
        'TXDCTL enable',
        find(W, R.IXGBE_TXDCTL(0), (v) => (v & R.IXGBE_TXDCTL_ENABLE) !== 0, rdt),
      );
      step(
        'promisc',
        find(W, R.IXGBE_FCTRL, (v) => (v & 0x300) === 0x300, txen),
      );
      // each found after the one before: the order holds
      for (let i = 1; i < steps.length; i++)
        expect(steps[i][1], `${steps[i][0]} after ${steps[i - 1][0]}`).toBeGreaterThan(steps[i - 1][1]);
      // SRRCTL: advanced one-buffer descriptors, drop enable, 2 KiB buffers
      const srrctl = trace[srr].value;
      expect(srrctl & R.IXGBE_SRRCTL_DESCTYPE_MASK).toBe(R.IXGBE_SRRCTL_DESCTYPE_ADV_ONEBUF);
      expect(srrctl & R.IXGBE_SRRCTL_DROP_EN).toBe(R.IXGBE_SRRCTL_DROP_EN);
      expect(srrctl & R.IXGBE_SRRCTL_BSIZEPKT_MASK).toBe(2);
      // max frame 1518, no jumbo frames: what the card writes always fits a 1920-byte buffer
      const maxfrs = trace[find(W, R.IXGBE_MAXFRS)].value;
      expect(maxfrs >>> 16).toBe(1518);
      // nothing touched while the reset ran but CTRL itself
      for (let i = rst + 1; i < rstDone; i++) expect(trace[i].offset).toBe(R.IXGBE_CTRL);
      expect(dev.rxPool(0).entries).toBe(4096);
    } finally {
      dev.close();
      Cable.remove(cable);
    }
  });

  it('lets two writes of one register both reach the device (no merged writes)', () => {
    const { dev, cable, access } = tracedOpen();
    try {
      const trace = access.model.startTrace();
      const mac1 = Uint8Array.of(2, 1, 1, 1, 1, 1);
      const mac2 = Uint8Array.of(2, 2, 2, 2, 2, 2);
      dev.setMacAddress(mac1);
      dev.setMacAddress(mac2);
      dev.setPromisc(false);
      dev.setPromisc(true);
      access.model.stopTrace();
      const writes = trace.filter((a) => a.op === 'write');
      expect(writes.filter((a) => a.offset === R.IXGBE_RAL(0)).map((a) => a.value)).toEqual([0x01010102, 0x02020202]);
      expect(writes.filter((a) => a.offset === R.IXGBE_RAH(0)).length).toBe(2);
      expect(writes.filter((a) => a.offset === R.IXGBE_FCTRL).map((a) => a.value & 0x300)).toEqual([0, 0x300]);
    } finally {
      dev.close();
      Cable.remove(cable);
    }
  });

  it('keeps the link mode the EEPROM loaded (a KX4 board stays KX4) and only restarts auto-negotiation', () => {
    const cable = freshCable();
    const access = new SimDeviceAccess(`sim:${cable}:0`);
    // a fresh model for a KX4 backplane board: LMS = 001 (KX4/KX auto-negotiation)
    const kx4 = 0x1 << R.IXGBE_AUTOC_LMS_SHIFT;
    access.model.dispose();
    Object.assign(access, {
      model: new (access.model.constructor as typeof IxgbeModel)({ memory: access.dma, autoc: kx4 }),
    });
    const trace = access.model.startTrace();
    const dev = ixgbeDriver.open(access, { linkTimeoutMs: 0 }) as IxgbeDevice;
    try {
      const autoc = trace.filter((a) => a.op === 'write' && a.offset === R.IXGBE_AUTOC);
      expect(autoc).toHaveLength(1);
      expect(autoc[0].value & R.IXGBE_AUTOC_LMS_MASK).toBe(kx4);
      expect(autoc[0].value & R.IXGBE_AUTOC_AN_RESTART).toBe(R.IXGBE_AUTOC_AN_RESTART);
    } finally {
      dev.close();
      Cable.remove(cable);
    }
  });
});

describe('ixgbe driver registration and options', () => {
  const id = (vendorId: number, deviceId: number): DeviceIdentity => ({
    address: 'x',
    bus: 'pci',
    vendorId,
    deviceId,
    classCode: 0x020000,
  });

  it('registers as "ixgbe" and matches the 82599/X520/X540 family only', () => {
    expect(registeredDrivers().some((d) => d.name === 'ixgbe')).toBe(true);
    for (const dev of IXGBE_DEVICE_IDS.keys()) expect(ixgbeDriver.matches(id(0x8086, dev))).toBe(true);
    expect(ixgbeDriver.matches(id(0x8086, 0x10fb))).toBe(true);
    expect(ixgbeDriver.matches(id(0x8086, 0x1528))).toBe(true);
    expect(ixgbeDriver.matches(id(0x8086, 0x10ed))).toBe(false); // 82599 VF
    expect(ixgbeDriver.matches(id(0x8086, 0x100e))).toBe(false); // e1000
    expect(ixgbeDriver.matches(id(0x1af4, 0x10fb))).toBe(false);
  });

  it('checks its options', () => {
    expect(resolveIxgbeOptions({})).toMatchObject({
      rxQueues: 1,
      txQueues: 1,
      ringSize: 512,
      poolSize: 4096,
      safe: false,
    });
    expect(() => resolveIxgbeOptions({ ringSize: 100 })).toThrow(/power of two/);
    expect(() => resolveIxgbeOptions({ ringSize: 32 })).toThrow(/64\.\.4096/);
    expect(() => resolveIxgbeOptions({ ringSize: 8192 })).toThrow(InvalidOptionError);
    expect(() => resolveIxgbeOptions({ rxQueues: 0 })).toThrow(InvalidOptionError);
    expect(() => resolveIxgbeOptions({ txQueues: 65 })).toThrow(InvalidOptionError); // MTQC serves 64
    expect(() => resolveIxgbeOptions({ ringSize: 512, poolSize: 512 })).toThrow(InvalidOptionError);
  });

  it('opens through openDevice and releases the cable end on close', () => {
    const cable = freshCable();
    try {
      const dev = openDevice(`sim:${cable}:0`, { linkTimeoutMs: 0 });
      expect(dev.driverName).toBe('ixgbe');
      expect(dev.address).toBe(`sim:${cable}:0`);
      expect(() => openDevice(`sim:${cable}:0`, { linkTimeoutMs: 0 })).toThrow(/already open/);
      dev.close();
      dev.close(); // idempotent
      const again = openDevice(`sim:${cable}:0`, { linkTimeoutMs: 0 });
      again.close();
    } finally {
      Cable.remove(cable);
    }
  });
});
