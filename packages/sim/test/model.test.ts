import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatedMemory, type SimulatedRegion } from '@ixy/memory';
import { Cable, type CableEnd } from '../src/cable.js';
import { IxgbeModel } from '../src/ixgbe-model.js';
import { ModelError, type DriverMistake } from '../src/model-error.js';
import * as M from '../src/model-registers.js';

const TWO_POW_32 = 4294967296;
const RDBAL = (q: number): number => 0x01000 + q * 0x40;
const RDBAH = (q: number): number => RDBAL(q) + 4;
const RDLEN = (q: number): number => RDBAL(q) + 8;
const RDH = (q: number): number => RDBAL(q) + 0x10;
const RDT = (q: number): number => RDBAL(q) + 0x18;
const RXDCTL = (q: number): number => RDBAL(q) + 0x28;
const TDBAL = (q: number): number => 0x06000 + q * 0x40;
const TDBAH = (q: number): number => TDBAL(q) + 4;
const TDLEN = (q: number): number => TDBAL(q) + 8;
const TDH = (q: number): number => TDBAL(q) + 0x10;
const TDT = (q: number): number => TDBAL(q) + 0x18;
const TXDCTL = (q: number): number => TDBAL(q) + 0x28;
const SRRCTL0 = 0x02100;
const ENABLE = 1 << 25;
const TX_CMD = M.TXD_CMD_EOP | M.TXD_CMD_RS | M.TXD_CMD_IFCS | M.TXD_CMD_DEXT | (M.TXD_DTYP_DATA << M.TXD_DTYP_SHIFT);

/** A bare-hands driver for the model: rings and buffers in simulated memory, raw registers. */
class Bench {
  readonly name = `model-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  readonly cable = Cable.open(this.name, { slots: 16 });
  readonly model = new IxgbeModel({ memory: simulatedMemory });
  readonly end: CableEnd = this.cable.attach(0);
  readonly peer: CableEnd = this.cable.attach(1);
  readonly regions: SimulatedRegion[] = [];
  constructor() {
    this.model.plug(this.end);
  }
  alloc(size: number): SimulatedRegion {
    const r = simulatedMemory.allocate(size);
    this.regions.push(r);
    return r;
  }
  setBase(bal: number, bah: number, len: number, addr: number, bytes: number): void {
    this.model.write32(bal, addr % TWO_POW_32);
    this.model.write32(bah, Math.floor(addr / TWO_POW_32));
    this.model.write32(len, bytes);
  }
  /** RX queue 0 with `count` descriptors and buffers; returns ring words and buffer region. */
  setupRx(
    count = 16,
    srrctl = M.SRRCTL_DESCTYPE_ADV_ONEBUF | M.SRRCTL_DROP_EN | 2,
  ): { ring: Uint32Array; bufs: SimulatedRegion } {
    const m = this.model;
    const ringRegion = this.alloc(count * 16);
    const bufs = this.alloc(count * 2048);
    const ring = new Uint32Array(ringRegion.buffer, 0, count * 4);
    for (let i = 0; i < count; i++) {
      const a = bufs.physAddr(i * 2048);
      ring.set([a % TWO_POW_32, Math.floor(a / TWO_POW_32), 0, 0], i * 4);
    }
    m.write32(SRRCTL0, srrctl);
    this.setBase(RDBAL(0), RDBAH(0), RDLEN(0), ringRegion.physAddr(0), count * 16);
    m.write32(M.RDRXCTL, m.read32(M.RDRXCTL) | M.RDRXCTL_CRCSTRIP | M.RDRXCTL_MUST_BE_1);
    m.write32(M.RXCTRL, M.RXCTRL_RXEN);
    m.write32(RXDCTL(0), ENABLE);
    m.write32(RDT(0), count - 1);
    m.write32(M.FCTRL, M.FCTRL_BAM | M.FCTRL_UPE | M.FCTRL_MPE);
    return { ring, bufs };
  }
  setupTx(count = 16): { ring: Uint32Array; bufs: SimulatedRegion } {
    const m = this.model;
    const ringRegion = this.alloc(count * 16);
    const bufs = this.alloc(count * 2048);
    this.setBase(TDBAL(0), TDBAH(0), TDLEN(0), ringRegion.physAddr(0), count * 16);
    m.write32(TXDCTL(0), ENABLE);
    m.write32(M.DMATXCTL, M.DMATXCTL_TE);
    return { ring: new Uint32Array(ringRegion.buffer, 0, count * 4), bufs };
  }
  txDescriptor(ring: Uint32Array, i: number, addr: number, len: number, cmd = TX_CMD, paylen = len): void {
    ring.set([addr % TWO_POW_32, Math.floor(addr / TWO_POW_32), cmd | len, paylen << M.TXD_PAYLEN_SHIFT], i * 4);
  }
  close(): void {
    this.model.dispose(); // the bench frees memory under running queues on purpose
    for (const r of this.regions) r.free();
    this.cable.close();
    Cable.remove(this.name);
  }
}

let bench: Bench | undefined;
function open(): Bench {
  bench = new Bench();
  return bench;
}
afterEach(() => {
  bench?.close();
  bench = undefined;
});

function mistake(kind: DriverMistake, fn: () => void): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected the model to reject: ${kind}`).toBeInstanceOf(ModelError);
  expect((caught as ModelError).mistake).toBe(kind);
  expect((caught as ModelError).code).toBe('EMODEL');
}

function frame(len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (seed + i * 13) & 0xff;
  f[0] = 0x02; // unicast
  return f;
}

describe('82599 model: registers', () => {
  it('resets on CTRL.RST: the bits self-clear, EEC.ARD and DMAIDONE follow, defaults return', () => {
    const { model } = open();
    model.write32(0x0a200, 0x12345678);
    model.write32(M.CTRL, M.CTRL_RST | M.CTRL_LRST);
    const quiet = performance.now() + 1.5; // §4.6.3.2: no access for about 1 ms
    while (performance.now() < quiet);
    expect(model.read32(M.CTRL) & M.CTRL_RST).not.toBe(0);
    let reads = 1;
    while (model.read32(M.CTRL) & (M.CTRL_RST | M.CTRL_LRST)) reads++;
    expect(reads).toBeLessThan(10);
    let ard = 0;
    while ((model.read32(M.EEC) & M.EEC_ARD) === 0) ard++;
    expect(ard).toBeGreaterThan(0);
    while ((model.read32(M.RDRXCTL) & M.RDRXCTL_DMAIDONE) === 0);
    expect(model.read32(0x0a200)).not.toBe(0x12345678); // MAC reloaded from "EEPROM"
    expect(model.read32(0x0a204) >>> 31).toBe(1);
    expect(model.read32(M.MAXFRS) >>> 16).toBe(1518);
    expect(model.read32(0x02200) & (1 << 12)).not.toBe(0); // DCA_RXCTRL bit 12 resets to 1
    expect(model.read32(M.HLREG0) & M.HLREG0_RXCRCSTRP).not.toBe(0);
    expect(model.read32(M.RDRXCTL) & M.RDRXCTL_CRCSTRIP).toBe(0);
  });

  it('reports the link (up, 10G) only while the cable peer is there', () => {
    const b = open();
    expect(b.model.read32(M.LINKS)).toBe((M.LINKS_UP | M.LINKS_SPEED_10G) >>> 0);
    b.peer.detach();
    expect(b.model.read32(M.LINKS) & M.LINKS_UP).toBe(0);
    b.model.plug(null);
    expect(b.model.read32(M.LINKS)).toBe(0);
  });

  it('clears statistics on read; the octet counters carry 36 bits through the high half', () => {
    const { model } = open();
    model.addCounts({ rxPackets: 3, rxBytes: 2 * TWO_POW_32 + 7, txBytes: 9, rxMissed: 4 });
    expect(model.read32(M.GPRC)).toBe(3);
    expect(model.read32(M.GPRC)).toBe(0);
    expect(model.read32(M.GORCL)).toBe(7);
    expect(model.read32(M.GORCH)).toBe(2);
    expect(model.read32(M.GORCL)).toBe(0);
    expect(model.read32(M.GORCH)).toBe(0);
    expect(model.read32(M.GOTCL)).toBe(9);
    expect(model.read32(M.MPC0)).toBe(4);
    expect(model.read32(M.MPC0)).toBe(0);
  });

  it('masks interrupts through EIMC, self-clears AUTOC restart, reads queue enables back, aliases RAL', () => {
    const { model } = open();
    model.write32(M.EIMS, 0xff);
    model.write32(M.EIMC, 0x0f);
    expect(model.read32(M.EIMS)).toBe(0xf0);
    model.write32(M.AUTOC, (3 << 13) | M.AUTOC_AN_RESTART);
    expect(model.read32(M.AUTOC)).toBe(3 << 13);
    model.write32(0x05400, 0xabcdef01);
    expect(model.read32(0x0a200)).toBe(0xabcdef01);
  });
});

describe('82599 model: descriptor processing', () => {
  it('transmits on TDT: reads the buffer, sends the frame, writes DD back, moves TDH', () => {
    const b = open();
    const { ring, bufs } = b.setupTx();
    const f = frame(100, 1);
    bufs.bytes.set(f, 0);
    b.txDescriptor(ring, 0, bufs.physAddr(0), f.length);
    b.model.write32(TDT(0), 1);
    expect(b.model.read32(TDH(0))).toBe(1);
    expect(ring[3] & M.TXD_STAT_DD).toBe(1);
    expect(b.peer.rx.receive()).toEqual(f);
    expect(b.model.read32(M.GPTC)).toBe(1);
    expect(b.model.read32(M.GOTCL)).toBe(104);
  });

  it('gathers a packet from several data descriptors (PAYLEN in the first)', () => {
    const b = open();
    const { ring, bufs } = b.setupTx();
    const f = frame(300, 2);
    bufs.bytes.set(f.subarray(0, 100), 0);
    bufs.bytes.set(f.subarray(100), 2048);
    b.txDescriptor(ring, 0, bufs.physAddr(0), 100, TX_CMD & ~M.TXD_CMD_EOP, 300);
    b.txDescriptor(ring, 1, bufs.physAddr(2048), 200, TX_CMD, 0);
    b.model.write32(TDT(0), 1);
    expect(b.peer.rx.count).toBe(0); // EOP not yet given to the device
    b.model.write32(TDT(0), 2);
    expect(b.peer.rx.receive()).toEqual(f);
  });

  it('stalls TX while the cable is full and resumes on poll', () => {
    const b = open();
    const { ring, bufs } = b.setupTx(32);
    for (let i = 0; i < 20; i++) b.txDescriptor(ring, i, bufs.physAddr(0), 64);
    b.model.write32(TDT(0), 20);
    expect(b.model.read32(TDH(0))).toBe(16); // 16 cable slots
    expect(ring[16 * 4 + 3] & M.TXD_STAT_DD).toBe(0);
    for (let i = 0; i < 10; i++) b.peer.rx.receive();
    b.model.poll();
    expect(b.model.read32(TDH(0))).toBe(20);
  });

  it('treats a peer that died holding its end as link down once TX stalls, and then holds the rest', () => {
    const b = open();
    const { ring, bufs } = b.setupTx(32);
    for (let i = 0; i < 20; i++) b.txDescriptor(ring, i, bufs.physAddr(0), 64);
    b.model.write32(TDT(0), 20);
    expect(b.model.read32(TDH(0))).toBe(16); // stalled on the full cable
    // the peer's process is gone: the kernel dropped its lock on end 1, but its mark in the
    // cable's shared memory stays (a pid above the kernel's pid_max), as a crash leaves it
    b.peer.detach();
    const header = new Int32Array((b.cable as unknown as { buffer: ArrayBuffer }).buffer, 0, 32);
    header[16] = 0x3fffffff;
    expect(b.model.read32(M.LINKS) & M.LINKS_UP).toBe(0);
    b.model.poll();
    // no link, no transmit: the rest waits in the ring (as on the 82599) and nothing is counted as sent
    expect(b.model.read32(TDH(0))).toBe(16);
    expect(b.model.txWaiting).toBe(true);
    expect(b.model.read32(M.GPTC)).toBe(16);
  });

  it('receives into posted buffers: length, DD and EOP written back, RDH moves', () => {
    const b = open();
    const { ring, bufs } = b.setupRx();
    const f = frame(200, 3);
    b.peer.tx.send(f);
    b.model.poll();
    expect(ring[2] & (M.RXD_STAT_DD | M.RXD_STAT_EOP)).toBe(M.RXD_STAT_DD | M.RXD_STAT_EOP);
    expect(ring[3] & 0xffff).toBe(200);
    expect(bufs.bytes.subarray(0, 200)).toEqual(f);
    expect(b.model.read32(RDH(0))).toBe(1);
    expect(b.model.read32(M.GPRC)).toBe(1);
    expect(b.model.read32(M.GORCL)).toBe(204);
  });

  it('keeps the CRC when told not to strip it', () => {
    const b = open();
    const { ring, bufs } = b.setupRx(16);
    b.model.write32(M.RXCTRL, 0);
    b.model.write32(M.HLREG0, b.model.read32(M.HLREG0) & ~M.HLREG0_RXCRCSTRP);
    b.model.write32(M.RDRXCTL, b.model.read32(M.RDRXCTL) & ~M.RDRXCTL_CRCSTRIP);
    b.model.write32(M.RXCTRL, M.RXCTRL_RXEN);
    const f = frame(100, 4);
    b.peer.tx.send(f);
    b.model.poll();
    expect(ring[3] & 0xffff).toBe(104);
    expect(new DataView(bufs.buffer).getUint32(100, true)).toBe(crc32(f));
  });

  it('drops and counts frames without a free descriptor (DROP_EN), or leaves them queued without it', () => {
    const b = open();
    b.setupRx(16);
    for (let i = 0; i < 16; i++) b.peer.tx.send(frame(80, i));
    b.model.poll();
    expect(b.model.read32(RDH(0))).toBe(15);
    expect(b.model.read32(M.QPRDC0)).toBe(1);
    expect(b.model.read32(M.GPRC)).toBe(15);
    // without DROP_EN the frame waits in the packet buffer (the cable) for a descriptor
    b.model.write32(SRRCTL0, M.SRRCTL_DESCTYPE_ADV_ONEBUF | 2);
    b.peer.tx.send(frame(80, 99));
    b.model.poll();
    expect(b.end.rx.count).toBe(1);
    expect(b.model.read32(M.QPRDC0)).toBe(0);
  });

  it('drops oversize and undersize frames and counts them (ROC, RUC)', () => {
    const b = open();
    b.setupRx();
    b.peer.tx.send(frame(1515, 1)); // 1519 with CRC > 1518
    b.peer.tx.send(frame(40, 2));
    const tagged = frame(1518, 3);
    tagged[12] = 0x81;
    tagged[13] = 0x00; // VLAN-tagged: 1522 allowed
    b.peer.tx.send(tagged);
    b.model.poll();
    expect(b.model.read32(M.ROC)).toBe(1);
    expect(b.model.read32(M.RUC)).toBe(1);
    expect(b.model.read32(M.GPRC)).toBe(1);
  });
});

describe('82599 model: driver mistakes it rejects', () => {
  it('queue enabled before its ring base and length are set', () => {
    const b = open();
    mistake('ring-not-set', () => b.model.write32(RXDCTL(0), ENABLE));
    expect(b.model.read32(RXDCTL(0)) & ENABLE).toBe(0); // and it did not enable
    mistake('ring-not-set', () => b.model.write32(TXDCTL(1), ENABLE));
    const r = b.alloc(1024);
    b.model.write32(TDBAL(1), r.physAddr(0) % TWO_POW_32);
    b.model.write32(TDBAH(1), Math.floor(r.physAddr(0) / TWO_POW_32));
    mistake('ring-not-set', () => b.model.write32(TXDCTL(1), ENABLE)); // length still 0
  });

  it('ring outside registered DMA memory', () => {
    const b = open();
    b.setBase(TDBAL(0), TDBAH(0), TDLEN(0), 0x7000_0000_0000, 1024);
    mistake('dma-out-of-range', () => b.model.write32(TXDCTL(0), ENABLE));
    const r = b.alloc(4096);
    b.setBase(RDBAL(0), RDBAH(0), RDLEN(0), r.physAddr(2048), 4096); // runs past the region
    b.model.write32(SRRCTL0, M.SRRCTL_DESCTYPE_ADV_ONEBUF | 2);
    mistake('dma-out-of-range', () => b.model.write32(RXDCTL(0), ENABLE));
  });

  it('TX descriptor buffer outside DMA memory', () => {
    const b = open();
    const { ring } = b.setupTx();
    b.txDescriptor(ring, 0, 0x1000, 64);
    mistake('dma-out-of-range', () => b.model.write32(TDT(0), 1));
  });

  it('RX descriptor buffer outside DMA memory (e.g. a ring never filled: all ones)', () => {
    const b = open();
    const { ring } = b.setupRx();
    ring.fill(0xffffffff, 0, 2);
    b.peer.tx.send(frame(64, 1));
    mistake('dma-out-of-range', () => b.model.poll());
  });

  it('tail beyond the ring', () => {
    const b = open();
    b.setupTx(16);
    mistake('tail-out-of-range', () => b.model.write32(TDT(0), 16));
    b.setupRx(16);
    mistake('tail-out-of-range', () => b.model.write32(RDT(0), 17));
    mistake('tail-out-of-range', () => b.model.write32(RDH(0), 16));
  });

  it('TX frame longer than the max frame size', () => {
    const b = open();
    const { ring, bufs } = b.setupTx();
    b.txDescriptor(ring, 0, bufs.physAddr(0), 1519); // 1523 with CRC > 1518 + VLAN 4
    mistake('frame-too-large', () => b.model.write32(TDT(0), 1));
  });

  it('RX buffer size too small for a frame the max frame size lets in', () => {
    const b = open();
    b.setupRx(16, M.SRRCTL_DESCTYPE_ADV_ONEBUF | M.SRRCTL_DROP_EN | 1); // 1 KiB buffers
    b.peer.tx.send(frame(1500, 1));
    mistake('buffer-too-small', () => b.model.poll());
  });

  it('zero-length descriptor, PAYLEN not matching the data', () => {
    const b = open();
    const { ring, bufs } = b.setupTx();
    b.txDescriptor(ring, 0, bufs.physAddr(0), 0);
    mistake('bad-descriptor', () => b.model.write32(TDT(0), 1));
    const c = new Bench();
    try {
      const tx = c.setupTx();
      c.txDescriptor(tx.ring, 0, tx.bufs.physAddr(0), 100, TX_CMD, 99);
      mistake('bad-descriptor', () => c.model.write32(TDT(0), 1));
    } finally {
      c.close();
    }
  });

  it('legacy descriptors (RX descriptor type, TX DEXT clear)', () => {
    const b = open();
    const r = b.alloc(1024);
    b.setBase(RDBAL(0), RDBAH(0), RDLEN(0), r.physAddr(0), 1024);
    mistake('unsupported-descriptor', () => b.model.write32(RXDCTL(0), ENABLE)); // SRRCTL still legacy
    const { ring, bufs } = b.setupTx();
    b.txDescriptor(ring, 0, bufs.physAddr(0), 64, TX_CMD & ~M.TXD_CMD_DEXT);
    mistake('unsupported-descriptor', () => b.model.write32(TDT(0), 1));
  });

  it('register access while the reset is still running', () => {
    const b = open();
    b.model.write32(M.CTRL, M.CTRL_RST);
    mistake('access-during-reset', () => b.model.read32(M.STATUS));
    mistake('access-during-reset', () => b.model.write32(M.EIMC, 0xffffffff));
  });

  it('ring registers changed while the queue runs; misaligned rings', () => {
    const b = open();
    b.setupTx();
    mistake('config-while-enabled', () => b.model.write32(TDLEN(0), 2048));
    mistake('config-while-enabled', () => b.model.write32(TDBAL(0), 0));
    mistake('ring-misaligned', () => b.model.write32(RDBAL(1), 0x1040));
    mistake('ring-misaligned', () => b.model.write32(RDLEN(1), 1000));
  });

  it("a ring enabled over memory that another queue's ring uses", () => {
    const b = open();
    b.setupTx(16);
    const base = b.model.read32(TDBAL(0)) + b.model.read32(TDBAH(0)) * TWO_POW_32;
    b.setBase(TDBAL(1), TDBAH(1), TDLEN(1), base + 128, 256);
    mistake('ring-overlap', () => b.model.write32(TXDCTL(1), ENABLE));
    b.model.write32(SRRCTL0, M.SRRCTL_DESCTYPE_ADV_ONEBUF | 2);
    b.setBase(RDBAL(0), RDBAH(0), RDLEN(0), base, 128);
    mistake('ring-overlap', () => b.model.write32(RXDCTL(0), ENABLE));
  });

  it('an RX descriptor handed back without being refilled', () => {
    const b = open();
    const { ring } = b.setupRx(16);
    b.peer.tx.send(frame(64, 1));
    b.model.poll();
    // a driver that moves RDT around the ring without resetting descriptor 0
    b.model.write32(RDT(0), 0);
    for (let i = 0; i < 15; i++) b.peer.tx.send(frame(64, i));
    b.model.poll();
    expect(b.model.read32(RDH(0))).toBe(0);
    // it refills descriptors 1..15 but forgets descriptor 0, then hands them all back
    for (let i = 1; i < 16; i++) ring[i * 4 + 2] = 0;
    b.model.write32(RDT(0), 15);
    b.peer.tx.send(frame(64, 99));
    expect(ring[2] & M.RXD_STAT_DD).toBe(1);
    mistake('stale-descriptor', () => b.model.poll());
  });

  it('RX enabled with the two CRC-strip settings disagreeing', () => {
    const b = open();
    b.model.write32(M.RDRXCTL, 0);
    mistake('crc-strip-mismatch', () => b.model.write32(M.RXCTRL, M.RXCTRL_RXEN));
  });

  it('register accesses outside BAR0, misaligned, or not 32 bits wide', () => {
    const b = open();
    mistake('bad-register-access', () => b.model.read32(M.BAR0_SIZE));
    mistake('bad-register-access', () => b.model.write32(0x102, 1));
    mistake('bad-register-access', () => b.model.read16(0));
    mistake('bad-register-access', () => b.model.write8(0, 1));
  });
});

describe('82599 model: what real hardware needs at reset and shutdown', () => {
  it('refuses any access within about 1 ms of CTRL.RST (§4.6.3.2), then resets as usual', () => {
    let now = 1000; // the model's clock, in ms, moved by hand: no dependence on the machine's speed
    const model = new IxgbeModel({ memory: simulatedMemory, clock: () => now });
    try {
      model.write32(M.CTRL, M.CTRL_RST);
      now += 0.5;
      mistake('access-during-reset', () => model.read32(M.CTRL));
      now += 1; // the driver sleeps here
      let reads = 0;
      while ((model.read32(M.CTRL) & M.CTRL_RST) !== 0) reads++;
      expect(reads).toBeGreaterThan(0);
    } finally {
      model.dispose();
    }
  });

  it('keeps a disabled queue running until ENABLE has been read 0, and refuses to have its memory freed before', () => {
    const b = open();
    const { bufs } = b.setupRx();
    b.model.write32(RXDCTL(0), 0);
    // the queue still writes: its buffers may not be freed yet
    mistake('freed-while-active', () => bufs.free());
    expect(bufs.freed).toBe(false);
    const f = frame(100, 9);
    b.peer.tx.send(f);
    b.model.poll();
    expect(b.model.read32(M.GPRC)).toBe(1); // DMA still happened after the disable
    let reads = 0;
    while ((b.model.read32(RXDCTL(0)) & ENABLE) !== 0) reads++;
    expect(reads).toBeGreaterThan(0);
    bufs.free(); // now it has stopped
    expect(bufs.freed).toBe(true);
  });

  it('refuses a ring freed under a running TX queue', () => {
    const b = open();
    b.setupTx();
    const ring = b.regions[0];
    mistake('freed-while-active', () => ring.free());
  });

  it('refuses a reset while queues run with PCIe mastering on; master disable first (§5.2.5.3.2)', () => {
    const b = open();
    b.setupTx();
    mistake('reset-without-master-disable', () => b.model.write32(M.CTRL, M.CTRL_RST));
    expect(b.model.read32(M.STATUS) & M.STATUS_GIO).toBe(M.STATUS_GIO);
    b.model.write32(M.CTRL, b.model.read32(M.CTRL) | M.CTRL_GIO_DIS);
    expect(b.model.read32(M.STATUS) & M.STATUS_GIO).toBe(0);
    b.model.write32(M.CTRL, M.CTRL_RST); // accepted now; the reset turns mastering back on
    const quiet = performance.now() + 1.5;
    while (performance.now() < quiet);
    while ((b.model.read32(M.CTRL) & M.CTRL_RST) !== 0);
    expect(b.model.read32(M.STATUS) & M.STATUS_GIO).toBe(M.STATUS_GIO);
  });

  it('refuses RX enable with RDRXCTL bits clear that §8.2.3.8.8 says must be 1', () => {
    const b = open();
    b.model.write32(M.RDRXCTL, b.model.read32(M.RDRXCTL) | M.RDRXCTL_CRCSTRIP);
    mistake('reserved-bits', () => b.model.write32(M.RXCTRL, M.RXCTRL_RXEN));
  });

  it('serves TX queues 0..63 only (MTQC reset value) and refuses packets under 17 bytes', () => {
    const b = open();
    const ringRegion = b.alloc(16 * 16);
    b.setBase(TDBAL(64), TDBAH(64), TDLEN(64), ringRegion.physAddr(0), 16 * 16);
    mistake('queue-not-served', () => b.model.write32(TXDCTL(64), ENABLE));
    const { ring, bufs } = b.setupTx();
    b.txDescriptor(ring, 0, bufs.physAddr(0), 16);
    mistake('frame-too-small', () => b.model.write32(TDT(0), 1));
  });
});
