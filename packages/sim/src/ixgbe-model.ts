import { crc32 } from 'node:zlib';
import type { Registers } from '@ixy/core';
import type { SimulatedMemory, SimulatedRegion } from '@ixy/memory';
import type { CableEnd } from './cable.js';
import { copyBytes } from './copy-bytes.js';
import { ModelError } from './model-error.js';
import * as M from './model-registers.js';

const TWO_POW_32 = 4294967296;
const TWO_POW_36 = 68719476736;
const MIN_FRAME = 64; // on the wire, with CRC
const CRC = 4;
const VLAN_TPID = 0x8100;
/** Reads of CTRL that still show the reset bits after a reset (stands in for its ~1 ms). */
const RESET_READS = 2;
/** Reads of EEC / RDRXCTL before ARD / DMAIDONE appear after a reset. */
const EEPROM_READS = 2;
const DMA_INIT_READS = 1;
/** §4.6.3.2: after CTRL.RST the device answers no access for about 1 ms. */
const RESET_QUIET_MS = 1;
/** Reads of RXDCTL/TXDCTL that still show ENABLE after a disable: the queue finishes its DMA. */
const STOP_READS = 2;
/** TX queues MTQC serves at its reset value (no DCB, no virtualization). */
const TX_QUEUES_SERVED = 64;
/** The smallest PAYLEN an advanced TX data descriptor takes (§7.2.3.2.4). */
const MIN_TX_PAYLEN = 17;

/** One register access, as recorded by `startTrace`. */
export interface RegisterAccess {
  op: 'read' | 'write';
  offset: number;
  value: number;
}

/** Counter increments for tests (`addCounts`): drive the statistics past 32 bits. */
export interface ModelCounts {
  rxPackets?: number;
  rxBytes?: number;
  txPackets?: number;
  txBytes?: number;
  rxMissed?: number;
}

export interface IxgbeModelOptions {
  /** Where the driver's DMA memory lives (bus addresses are translated with `find`). */
  memory: SimulatedMemory;
  /** MAC address loaded from "EEPROM" into RAL0/RAH0 at every reset. */
  mac?: Uint8Array;
  /**
   * AUTOC as the EEPROM loads it at every reset: the board's link mode (default LMS = 10G
   * serial, an SFP+ board such as the X520).
   */
  autoc?: number;
  /** The clock (ms) the model times its reset with (default performance.now; tests pass their own). */
  clock?: () => number;
}

class QueueState {
  enabled = false;
  /** Reads of RXDCTL/TXDCTL that still show ENABLE after it was cleared (DMA in flight). */
  stopping = 0;
  base = 0;
  count = 0;
  region: SimulatedRegion | undefined;
  ring: Uint32Array | null = null;
  constructor(
    readonly rx: boolean,
    readonly index: number,
    /** Byte offset of the queue's register block. */
    readonly block: number,
  ) {}
}

function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}

/**
 * A model of the Intel 82599's BAR0 as far as an ixy-style driver uses it: reset with its
 * self-clearing bits, EEPROM and DMA-init done flags, link status from the cable, the receive
 * and transmit queues with advanced descriptors processed by "DMA" on simulated memory, receive
 * filters (broadcast, promiscuous, RAL0/RAH0), and clear-on-read statistics. Register offsets
 * and bits follow the datasheet; what the model does not implement reads back as written.
 *
 * The model never runs by itself: TX descriptors are processed when TDT is written (and
 * retried by `poll` when the cable was full), received frames are moved into RX rings by
 * `poll`. The simulated port calls `poll` around the driver's rxBatch and txBatch.
 *
 * Byte counters (GORC, GOTC) count frames with their 4-byte CRC, as the 82599 does; TX counts
 * padded frames at their padded size. The cable carries frames without CRC.
 */
export class IxgbeModel implements Registers {
  readonly size = M.BAR0_SIZE;
  private readonly store = new Uint32Array(M.BAR0_SIZE >>> 2);
  private readonly memory: SimulatedMemory;
  private readonly mac: Uint8Array;
  private readonly autoc: number;
  private readonly clock: () => number;
  private end: CableEnd | null = null;
  private readonly rxq: QueueState[] = [];
  private readonly txq: QueueState[] = [];
  private resetReads = 0;
  private eepromReads = 0;
  private dmaInitReads = 0;
  private txStalled = false;
  /** Ask the OS whether the peer process still lives at the next transmit (after a stall). */
  private verifyPeer = false;
  // statistics since the last read
  private gprc = 0;
  private gptc = 0;
  private gorc = 0;
  private gotc = 0;
  private gorcHigh = 0;
  private gotcHigh = 0;
  private readonly mpc = new Float64Array(8);
  private readonly qprdc = new Float64Array(16);
  private roc = 0;
  private ruc = 0;
  private trace: RegisterAccess[] | null = null;
  /** MSI-X messages the device has sent, per vector (interrupts; tests read them). */
  readonly interrupts = new Float64Array(64);
  /** 32-bit views of DMA regions, for word-wise copies. */
  private readonly regionWords = new WeakMap<SimulatedRegion, Uint32Array>();
  private wordsRegion: SimulatedRegion | undefined;
  private wordsView: Uint32Array = new Uint32Array(0);
  /** The regions the last TX and RX buffers were in (packets of one pool follow each other). */
  private txRegion: SimulatedRegion | undefined;
  private rxRegion: SimulatedRegion | undefined;

  constructor(options: IxgbeModelOptions) {
    this.memory = options.memory;
    this.mac = options.mac ?? Uint8Array.of(0x02, 0x00, 0x00, 0x82, 0x59, 0x90);
    this.autoc = options.autoc ?? M.AUTOC_LMS_10G_SERIAL;
    this.clock = options.clock ?? (() => performance.now());
    for (let i = 0; i < 128; i++) {
      this.rxq.push(new QueueState(true, i, i < 64 ? M.RX_BLOCK_LOW + i * 0x40 : M.RX_BLOCK_HIGH + (i - 64) * 0x40));
      this.txq.push(new QueueState(false, i, M.TX_BLOCK + i * 0x40));
    }
    this.powerOn();
    this.stopWatchingFrees = this.memory.onFree((region) => this.checkFree(region));
  }

  private readonly stopWatchingFrees: () => void;
  /** When the last reset began (clock ms), while `resetQuiet` is true. */
  private resetAt = 0;
  /**
   * In a reset's quiet time, until an access finds it over. A flag, so that an access reads no
   * number field: a double-valued field read allocates a heap number in code the engine has not
   * optimised (ixy-fwd's demo, with the register write deoptimised by a path first taken after
   * start-up, allocated about 2.6 MB/s here in about half its runs; Node 24).
   */
  private resetQuiet = false;

  /** Stops watching the DMA memory (the port is gone). */
  dispose(): void {
    this.stopWatchingFrees();
  }

  /**
   * Memory is about to be freed: no queue that can still write (enabled, or disabled but not yet
   * seen stopped) may have its ring or its buffers there. On a card without an IOMMU, a late
   * write would corrupt whatever the memory is used for next.
   */
  private checkFree(region: SimulatedRegion): void {
    for (const q of [...this.rxq, ...this.txq]) {
      if (!q.enabled || q.ring === null) continue;
      const what =
        q.region === region
          ? 'its descriptor ring'
          : this.ringPointsInto(q, region)
            ? `buffers of descriptors it owns`
            : null;
      if (what === null) continue;
      throw new ModelError(
        'freed-while-active',
        `memory with ${what} is freed while ${q.rx ? 'RX' : 'TX'} queue ${q.index} can still ${q.rx ? 'write to' : 'use'} it (${q.rx ? 'RXDCTL' : 'TXDCTL'}.ENABLE ${q.stopping > 0 ? 'still reads 1: wait until it reads 0' : 'is set: disable the queue and wait until ENABLE reads 0'})`,
      );
    }
  }

  /** Does a descriptor the device owns (head up to tail: RX buffers it fills, TX packets it still sends) point into `region`? */
  private ringPointsInto(q: QueueState, region: SimulatedRegion): boolean {
    const ring = q.ring as Uint32Array;
    const end = region.base + region.bytes.length;
    const tail = this.store[(q.block + M.Q_TAIL) >>> 2];
    for (let i = this.store[(q.block + M.Q_HEAD) >>> 2]; i !== tail; i = i + 1 === q.count ? 0 : i + 1) {
      const addr = ring[i << 2] + ring[(i << 2) + 1] * TWO_POW_32;
      if (addr >= region.base && addr < end) return true;
    }
    return false;
  }

  // ---- wiring ----

  /** Plugs the port into a cable end (null: unplugged, link down). */
  plug(end: CableEnd | null): void {
    this.end = end;
  }

  get cableEnd(): CableEnd | null {
    return this.end;
  }

  /** Records every register access from now on (for tests); returns the live list. */
  startTrace(): RegisterAccess[] {
    this.trace = [];
    return this.trace;
  }

  stopTrace(): RegisterAccess[] {
    const t = this.trace ?? [];
    this.trace = null;
    return t;
  }

  /** Adds to the statistics counters, as if that much traffic had passed (tests). */
  addCounts(c: ModelCounts): void {
    this.gprc += c.rxPackets ?? 0;
    this.gptc += c.txPackets ?? 0;
    this.gorc = (this.gorc + (c.rxBytes ?? 0)) % TWO_POW_36;
    this.gotc = (this.gotc + (c.txBytes ?? 0)) % TWO_POW_36;
    this.mpc[0] += c.rxMissed ?? 0;
  }

  // ---- reset ----

  private powerOn(): void {
    this.loadDefaults();
  }

  /** Register values after a reset (datasheet reset values where the driver relies on them). */
  private loadDefaults(): void {
    const s = this.store;
    s.fill(0);
    s[M.EEC >>> 2] = M.EEC_ARD;
    s[M.STATUS >>> 2] = M.STATUS_GIO; // bus mastering on
    s[M.AUTOC >>> 2] = this.autoc; // from the EEPROM
    s[M.RDRXCTL >>> 2] = M.RDRXCTL_DMAIDONE; // CRCSTRIP resets to 0
    s[M.HLREG0 >>> 2] = M.HLREG0_TXCRCEN | M.HLREG0_RXCRCSTRP | M.HLREG0_TXPADEN;
    s[M.MAXFRS >>> 2] = 1518 << 16;
    s[M.RXPBSIZE0 >>> 2] = 0x80000; // 512 KiB in PB 0
    s[M.TXPBSIZE0 >>> 2] = 0x28000; // 160 KiB in PB 0
    for (let i = 0; i < 128; i++) {
      s[this.srrctlOffset(i) >>> 2] = 2; // BSIZEPACKET 2 KiB, legacy descriptors
      s[this.dcaRxctlOffset(i) >>> 2] = 1 << 12; // reserved bit, resets to 1
    }
    const m = this.mac;
    s[M.RAL0 >>> 2] = (m[0] | (m[1] << 8) | (m[2] << 16) | (m[3] << 24)) >>> 0;
    s[(M.RAL0 + 4) >>> 2] = (m[4] | (m[5] << 8) | M.RAH_AV) >>> 0;
    for (const q of this.rxq) this.disable(q);
    for (const q of this.txq) this.disable(q);
    this.gprc = this.gptc = this.gorc = this.gotc = this.gorcHigh = this.gotcHigh = this.roc = this.ruc = 0;
    this.mpc.fill(0);
    this.qprdc.fill(0);
    this.txStalled = false;
  }

  private reset(): void {
    this.loadDefaults();
    this.store[M.CTRL >>> 2] = M.CTRL_RST | M.CTRL_LRST;
    this.resetAt = this.clock();
    this.resetQuiet = true;
    this.resetReads = RESET_READS;
    this.store[M.EEC >>> 2] &= ~M.EEC_ARD;
    this.eepromReads = EEPROM_READS;
    this.store[M.RDRXCTL >>> 2] &= ~M.RDRXCTL_DMAIDONE;
    this.dmaInitReads = DMA_INIT_READS;
  }

  private disable(q: QueueState): void {
    q.enabled = false;
    q.stopping = 0;
    q.ring = null;
    q.region = undefined;
  }

  // ---- register access ----

  private check(offset: number, write: boolean): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + 4 > M.BAR0_SIZE || (offset & 3) !== 0) {
      throw new ModelError(
        'bad-register-access',
        `32-bit ${write ? 'write' : 'read'} at ${hex(offset)} is outside BAR0 or misaligned`,
      );
    }
    if (this.resetQuiet) {
      const since = this.clock() - this.resetAt;
      if (since < RESET_QUIET_MS) {
        throw new ModelError(
          'access-during-reset',
          `${write ? 'write to' : 'read of'} ${hex(offset)} ${since.toFixed(2)} ms after CTRL.RST: wait about 1 ms before accessing the device (§4.6.3.2)`,
        );
      }
      // the reset's quiet time is over: no clock read per access until the next reset (a
      // performance.now() per register access allocated about 2 MB/s in fwd's demo, a minor
      // GC every second)
      this.resetQuiet = false;
    }
    if (this.resetReads > 0 && (write || offset !== M.CTRL)) {
      throw new ModelError(
        'access-during-reset',
        `${write ? 'write to' : 'read of'} ${hex(offset)} while the device is still resetting (poll CTRL until RST clears)`,
      );
    }
  }

  read32(offset: number): number {
    this.check(offset, false);
    const value = this.readRegister(offset) >>> 0;
    if (this.trace !== null) this.trace.push({ op: 'read', offset, value });
    return value;
  }

  write32(offset: number, value: number): void {
    this.check(offset, true);
    value >>>= 0;
    if (this.trace !== null) this.trace.push({ op: 'write', offset, value });
    this.writeRegister(offset, value);
  }

  // the 82599 accepts 32-bit accesses only for what this model implements
  read16(offset: number): number {
    throw new ModelError('bad-register-access', `16-bit read at ${hex(offset)}: use 32-bit accesses`);
  }
  write16(offset: number, _value: number): void {
    throw new ModelError('bad-register-access', `16-bit write at ${hex(offset)}: use 32-bit accesses`);
  }
  read8(offset: number): number {
    throw new ModelError('bad-register-access', `8-bit read at ${hex(offset)}: use 32-bit accesses`);
  }
  write8(offset: number, _value: number): void {
    throw new ModelError('bad-register-access', `8-bit write at ${hex(offset)}: use 32-bit accesses`);
  }

  private readRegister(offset: number): number {
    const s = this.store;
    const q = this.queueOf(offset);
    if (q !== null && (offset & 0x3f) === M.Q_CTL && q.stopping > 0) {
      // the queue finishes the DMA it has started: ENABLE still reads 1 for a while
      if (--q.stopping === 0) this.disable(q);
      return (s[offset >>> 2] | (q.stopping > 0 ? M.Q_ENABLE : 0)) >>> 0;
    }
    switch (offset) {
      case M.CTRL:
        if (this.resetReads > 0 && --this.resetReads === 0) s[M.CTRL >>> 2] &= ~(M.CTRL_RST | M.CTRL_LRST);
        return s[M.CTRL >>> 2];
      case M.EEC:
        if (this.eepromReads > 0 && --this.eepromReads === 0) s[M.EEC >>> 2] |= M.EEC_ARD;
        return s[M.EEC >>> 2];
      case M.RDRXCTL:
        if (this.dmaInitReads > 0 && --this.dmaInitReads === 0) s[M.RDRXCTL >>> 2] |= M.RDRXCTL_DMAIDONE;
        return s[M.RDRXCTL >>> 2];
      case M.EICR: {
        const v = s[M.EICR >>> 2];
        s[M.EICR >>> 2] = 0;
        return v;
      }
      case M.LINKS:
        return this.end !== null && this.end.peerPresent(true) ? M.LINKS_UP | M.LINKS_SPEED_10G : 0;
      case M.GPRC: {
        const v = this.gprc;
        this.gprc = 0;
        return v;
      }
      case M.GPTC: {
        const v = this.gptc;
        this.gptc = 0;
        return v;
      }
      // 36-bit octet counters: reading the low half takes the count, the high half follows
      case M.GORCL: {
        const v = this.gorc;
        this.gorc = 0;
        this.gorcHigh = Math.floor(v / TWO_POW_32);
        return v % TWO_POW_32;
      }
      case M.GORCH: {
        const v = this.gorcHigh;
        this.gorcHigh = 0;
        return v;
      }
      case M.GOTCL: {
        const v = this.gotc;
        this.gotc = 0;
        this.gotcHigh = Math.floor(v / TWO_POW_32);
        return v % TWO_POW_32;
      }
      case M.GOTCH: {
        const v = this.gotcHigh;
        this.gotcHigh = 0;
        return v;
      }
      case M.ROC: {
        const v = this.roc;
        this.roc = 0;
        return v;
      }
      case M.RUC: {
        const v = this.ruc;
        this.ruc = 0;
        return v;
      }
    }
    if (offset >= M.MPC0 && offset < M.MPC0 + 32) {
      const i = (offset - M.MPC0) >>> 2;
      const v = this.mpc[i];
      this.mpc[i] = 0;
      return v;
    }
    if (offset >= M.QPRDC0 && offset < M.QPRDC0 + 16 * 0x40 && (offset & 0x3f) === 0x30) {
      const i = (offset - M.QPRDC0) >>> 6;
      const v = this.qprdc[i];
      this.qprdc[i] = 0;
      return v;
    }
    return s[this.alias(offset) >>> 2];
  }

  /** The 82598-compatible receive-address registers alias RAL/RAH 0..15. */
  private alias(offset: number): number {
    return offset >= M.RAL0_LEGACY && offset < M.RAL0_LEGACY + 0x80 ? offset - M.RAL0_LEGACY + M.RAL0 : offset;
  }

  private writeRegister(offset: number, value: number): void {
    const s = this.store;
    // per-queue blocks first: TDT and RDT are the hot path
    if (offset >= M.TX_BLOCK && offset < M.TX_BLOCK + 128 * 0x40) {
      this.writeQueue(this.txq[(offset - M.TX_BLOCK) >>> 6], offset & 0x3f, offset, value);
      return;
    }
    if (offset >= M.RX_BLOCK_LOW && offset < M.RX_BLOCK_LOW + 64 * 0x40 && !this.isQprdc(offset)) {
      this.writeQueue(this.rxq[(offset - M.RX_BLOCK_LOW) >>> 6], offset & 0x3f, offset, value);
      return;
    }
    if (offset >= M.RX_BLOCK_HIGH && offset < M.RX_BLOCK_HIGH + 64 * 0x40) {
      this.writeQueue(this.rxq[64 + ((offset - M.RX_BLOCK_HIGH) >>> 6)], offset & 0x3f, offset, value);
      return;
    }
    switch (offset) {
      case M.CTRL:
        if ((value & M.CTRL_RST) !== 0) {
          // §4.6.3.2: master disable (§5.2.5.3.2) first, so no DMA is in flight at the reset
          if ((s[M.STATUS >>> 2] & M.STATUS_GIO) !== 0 && [...this.rxq, ...this.txq].some((q) => q.enabled)) {
            throw new ModelError(
              'reset-without-master-disable',
              'CTRL.RST while queues run and PCIe mastering is on: set CTRL.GIO_DIS and wait for STATUS.GIO to clear first',
            );
          }
          this.reset();
          return;
        }
        s[0] = value & ~M.CTRL_LRST; // a link reset alone completes at once here
        // master disable: the model has no requests pending, so mastering stops at once
        if ((value & M.CTRL_GIO_DIS) !== 0) s[M.STATUS >>> 2] &= ~M.STATUS_GIO;
        else s[M.STATUS >>> 2] |= M.STATUS_GIO;
        return;
      case M.EIMC:
        s[M.EIMS >>> 2] &= ~value;
        return;
      case M.EIMS:
        s[M.EIMS >>> 2] |= value;
        return;
      case M.EICR:
        s[M.EICR >>> 2] &= ~value; // write 1 to clear
        return;
      case M.EEC:
        s[M.EEC >>> 2] = (value & ~M.EEC_ARD) | (s[M.EEC >>> 2] & M.EEC_ARD); // ARD is read-only
        return;
      case M.RDRXCTL:
        s[M.RDRXCTL >>> 2] = (value & ~M.RDRXCTL_DMAIDONE) | (s[M.RDRXCTL >>> 2] & M.RDRXCTL_DMAIDONE);
        return;
      case M.AUTOC:
        s[M.AUTOC >>> 2] = value & ~M.AUTOC_AN_RESTART; // restart of auto-negotiation self-clears
        return;
      case M.LINKS:
        return; // read-only
      case M.RXCTRL:
        if ((value & M.RXCTRL_RXEN) !== 0 && (s[M.RXCTRL >>> 2] & M.RXCTRL_RXEN) === 0) this.checkCrcStrip();
        s[M.RXCTRL >>> 2] = value;
        return;
      case M.DMATXCTL:
        s[M.DMATXCTL >>> 2] = value;
        if ((value & M.DMATXCTL_TE) !== 0) for (const q of this.txq) if (q.enabled) this.transmit(q);
        return;
      case M.GPRC:
      case M.GPTC:
      case M.GORCL:
      case M.GORCH:
      case M.GOTCL:
      case M.GOTCH:
        return; // statistics are read-only
    }
    s[this.alias(offset) >>> 2] = value;
  }

  /** The queue whose register block holds `offset`, or null. */
  private queueOf(offset: number): QueueState | null {
    if (offset >= M.TX_BLOCK && offset < M.TX_BLOCK + 128 * 0x40) return this.txq[(offset - M.TX_BLOCK) >>> 6];
    if (offset >= M.RX_BLOCK_LOW && offset < M.RX_BLOCK_LOW + 64 * 0x40)
      return this.rxq[(offset - M.RX_BLOCK_LOW) >>> 6];
    if (offset >= M.RX_BLOCK_HIGH && offset < M.RX_BLOCK_HIGH + 64 * 0x40)
      return this.rxq[64 + ((offset - M.RX_BLOCK_HIGH) >>> 6)];
    return null;
  }

  private isQprdc(offset: number): boolean {
    return offset >= M.QPRDC0 && offset < M.QPRDC0 + 16 * 0x40 && (offset & 0x3f) === 0x30;
  }

  private checkCrcStrip(): void {
    const hl = (this.store[M.HLREG0 >>> 2] & M.HLREG0_RXCRCSTRP) !== 0;
    const rd = (this.store[M.RDRXCTL >>> 2] & M.RDRXCTL_CRCSTRIP) !== 0;
    if (hl !== rd) {
      throw new ModelError(
        'crc-strip-mismatch',
        `RX enabled with HLREG0.RXCRCSTRP=${+hl} but RDRXCTL.CRCSTRIP=${+rd}: they must agree`,
      );
    }
    if ((this.store[M.RDRXCTL >>> 2] & M.RDRXCTL_MUST_BE_1) !== M.RDRXCTL_MUST_BE_1) {
      throw new ModelError(
        'reserved-bits',
        'RX enabled with RDRXCTL.RSCACKC or FCOE_WRFIX clear: §8.2.3.8.8 says both must be set to 1',
      );
    }
  }

  private name(q: QueueState, reg: string): string {
    return `${q.rx ? 'R' : 'T'}${reg}[${q.index}]`;
  }

  private writeQueue(q: QueueState, reg: number, offset: number, value: number): void {
    const s = this.store;
    const at = offset >>> 2;
    switch (reg) {
      case M.Q_BAL:
        if (q.enabled)
          throw new ModelError('config-while-enabled', `${this.name(q, 'DBAL')} written while the queue is enabled`);
        if ((value & 0x7f) !== 0)
          throw new ModelError('ring-misaligned', `${this.name(q, 'DBAL')} = ${hex(value)} is not 128-byte aligned`);
        s[at] = value;
        return;
      case M.Q_BAH:
        if (q.enabled)
          throw new ModelError('config-while-enabled', `${this.name(q, 'DBAH')} written while the queue is enabled`);
        s[at] = value;
        return;
      case M.Q_LEN:
        if (q.enabled)
          throw new ModelError('config-while-enabled', `${this.name(q, 'DLEN')} written while the queue is enabled`);
        if ((value & 0x7f) !== 0 || value > 0xfff80) {
          throw new ModelError(
            'ring-misaligned',
            `${this.name(q, 'DLEN')} = ${value} is not a multiple of 128 bytes up to 1 MiB`,
          );
        }
        s[at] = value;
        return;
      case M.Q_HEAD: {
        const count = s[(q.block + M.Q_LEN) >>> 2] >>> 4;
        if (value !== 0 && value >= count)
          throw new ModelError(
            'tail-out-of-range',
            `${this.name(q, 'DH')} = ${value} is beyond the ring of ${count} descriptors`,
          );
        s[at] = value;
        return;
      }
      case M.Q_TAIL: {
        const count = q.enabled ? q.count : s[(q.block + M.Q_LEN) >>> 2] >>> 4;
        if (value !== 0 && value >= count) {
          throw new ModelError(
            'tail-out-of-range',
            `${this.name(q, 'DT')} = ${value} is beyond the ring of ${count} descriptors`,
          );
        }
        s[at] = value;
        if (!q.rx && q.enabled) this.transmit(q);
        return;
      }
      case M.Q_CTL: {
        const was = q.enabled;
        s[at] = value;
        if ((value & M.Q_ENABLE) !== 0 && !was) this.enable(q);
        else if ((value & M.Q_ENABLE) === 0 && was && q.stopping === 0) q.stopping = STOP_READS; // stops once it has been read stopped
        return;
      }
    }
    s[at] = value;
  }

  /** Queue enable (RXDCTL/TXDCTL.ENABLE): the ring must be set up and inside DMA memory. */
  private enable(q: QueueState): void {
    const s = this.store;
    if (!q.rx && q.index >= TX_QUEUES_SERVED) {
      s[(q.block + M.Q_CTL) >>> 2] &= ~M.Q_ENABLE;
      throw new ModelError(
        'queue-not-served',
        `TXDCTL[${q.index}].ENABLE: MTQC at its reset value serves TX queues 0..${TX_QUEUES_SERVED - 1} only`,
      );
    }
    const low = s[(q.block + M.Q_BAL) >>> 2];
    const high = s[(q.block + M.Q_BAH) >>> 2];
    const len = s[(q.block + M.Q_LEN) >>> 2];
    const base = low + high * TWO_POW_32;
    if (base === 0 || len === 0) {
      s[(q.block + M.Q_CTL) >>> 2] &= ~M.Q_ENABLE;
      throw new ModelError(
        'ring-not-set',
        `${q.rx ? 'RXDCTL' : 'TXDCTL'}[${q.index}].ENABLE set before the ring was set up (base ${hex(high)}:${hex(low)}, length ${len})`,
      );
    }
    const region = this.memory.find(base, len);
    if (region === undefined) {
      s[(q.block + M.Q_CTL) >>> 2] &= ~M.Q_ENABLE;
      throw new ModelError(
        'dma-out-of-range',
        `ring of ${this.name(q, 'X')} at ${hex(high)}:${hex(low)} (+${len}) is not in DMA memory`,
      );
    }
    for (const other of q.rx ? [this.rxq, this.txq] : [this.txq, this.rxq]) {
      for (const o of other) {
        if (o.enabled && o !== q && base < o.base + o.count * 16 && o.base < base + len) {
          s[(q.block + M.Q_CTL) >>> 2] &= ~M.Q_ENABLE;
          throw new ModelError(
            'ring-overlap',
            `ring of ${this.name(q, 'X')} overlaps the ring of ${this.name(o, 'X')}`,
          );
        }
      }
    }
    if (q.rx) {
      const srrctl = s[this.srrctlOffset(q.index) >>> 2];
      if ((srrctl & M.SRRCTL_DESCTYPE_MASK) !== M.SRRCTL_DESCTYPE_ADV_ONEBUF) {
        s[(q.block + M.Q_CTL) >>> 2] &= ~M.Q_ENABLE;
        throw new ModelError(
          'unsupported-descriptor',
          `SRRCTL[${q.index}] selects descriptor type ${(srrctl >>> 25) & 7}; the model implements advanced one-buffer (1) only`,
        );
      }
      if ((srrctl & M.SRRCTL_BSIZEPACKET_MASK) === 0) {
        s[(q.block + M.Q_CTL) >>> 2] &= ~M.Q_ENABLE;
        throw new ModelError('buffer-too-small', `SRRCTL[${q.index}].BSIZEPACKET is 0`);
      }
    }
    q.enabled = true;
    q.base = base;
    q.count = len >>> 4;
    q.region = region;
    q.ring = new Uint32Array(region.buffer, base - region.base, len >>> 2);
    const tail = s[(q.block + M.Q_TAIL) >>> 2];
    if (tail >= q.count) {
      this.disable(q);
      s[(q.block + M.Q_CTL) >>> 2] &= ~M.Q_ENABLE;
      throw new ModelError(
        'tail-out-of-range',
        `${this.name(q, 'DT')} = ${tail} is beyond the ring of ${q.count} descriptors`,
      );
    }
    if (!q.rx) this.transmit(q);
  }

  private wordsOf(region: SimulatedRegion): Uint32Array {
    if (region === this.wordsRegion) return this.wordsView;
    let words = this.regionWords.get(region);
    if (words === undefined) {
      words = new Uint32Array(region.buffer, 0, region.buffer.byteLength >>> 2);
      this.regionWords.set(region, words);
    }
    this.wordsRegion = region;
    this.wordsView = words;
    return words;
  }

  /**
   * Translates the bus address in descriptor words `w`, `w + 1` of `ring` (`len` bytes from
   * there), trying `hint` first; undefined when outside DMA memory. Takes the words rather than
   * the address: a bus address above 2^31 is a double, and a double passed to a call the
   * compiler did not inline is boxed on the heap, once per packet (a garbage collection every
   * few dozen milliseconds, seen in fwd's demo).
   */
  private translate(
    hint: SimulatedRegion | undefined,
    ring: Uint32Array,
    w: number,
    len: number,
  ): SimulatedRegion | undefined {
    const addr = ring[w] + ring[w + 1] * TWO_POW_32;
    if (hint !== undefined && !hint.freed && addr >= hint.base && addr + len <= hint.base + hint.bytes.length)
      return hint;
    return this.memory.find(addr, len);
  }

  private srrctlOffset(i: number): number {
    return i <= 15
      ? M.SRRCTL_LOW + i * 4
      : i < 64
        ? M.RX_BLOCK_LOW + i * 0x40 + M.Q_SRRCTL
        : M.RX_BLOCK_HIGH + (i - 64) * 0x40 + M.Q_SRRCTL;
  }

  private dcaRxctlOffset(i: number): number {
    return i <= 15
      ? M.DCA_RXCTRL_LOW + i * 4
      : i < 64
        ? M.RX_BLOCK_LOW + i * 0x40 + M.Q_DCA_RXCTRL
        : M.RX_BLOCK_HIGH + (i - 64) * 0x40 + M.Q_DCA_RXCTRL;
  }

  // ---- the device's own work ----

  /** Lets the device run: retries stalled transmits, moves received frames into RX rings. */
  poll(): void {
    if (this.txStalled) {
      // a peer that died holding its end never drains the cable: check, then it is link down
      this.txStalled = false;
      this.verifyPeer = true;
      // an index loop: poll runs per batch, and a for-of's iterator here allocated (about
      // 0.4 MB/s in fwd's demo, whose cable fills)
      const txq = this.txq;
      for (let i = 0; i < txq.length; i++) if (txq[i].enabled) this.transmit(txq[i]);
      this.verifyPeer = false;
    }
    this.receive();
  }

  /** Is a transmit waiting for the cable (full, or no link)? `poll` retries it. */
  get txWaiting(): boolean {
    return this.txStalled;
  }

  /**
   * Are received packets in queue 0's ring that the driver has not taken yet? The driver
   * leaves RDT one behind the next descriptor it will check (§7.1.9), so those are the
   * descriptors from RDT + 1 up to RDH.
   */
  get rxPending(): boolean {
    const q = this.rxq[0];
    if (!q.enabled) return false;
    const head = this.store[(q.block + M.Q_HEAD) >>> 2];
    const tail = this.store[(q.block + M.Q_TAIL) >>> 2];
    return (tail + 1 === q.count ? 0 : tail + 1) !== head;
  }

  /** §7.2: sends the packets between TDH and TDT down the cable, writes DD back, moves TDH. */
  private transmit(q: QueueState): void {
    const s = this.store;
    if ((s[M.DMATXCTL >>> 2] & M.DMATXCTL_TE) === 0 || q.ring === null) return;
    const ring = q.ring;
    const headAt = (q.block + M.Q_HEAD) >>> 2;
    const tail = s[(q.block + M.Q_TAIL) >>> 2];
    const hlreg0 = s[M.HLREG0 >>> 2];
    const mfs = s[M.MAXFRS >>> 2] >>> 16;
    const end = this.end;
    const linked = end !== null && end.peerPresent(this.verifyPeer);
    let published = false;
    let head = s[headAt];
    while (head !== tail) {
      // find the packet's descriptors: data descriptors up to EOP (context descriptors pass)
      let i = head;
      let total = 0;
      let paylen = -1;
      let ifcs = false;
      let complete = false;
      while (i !== tail) {
        const w = i << 2;
        const cmd = ring[w + 2];
        if ((cmd & M.TXD_CMD_DEXT) === 0) {
          throw new ModelError(
            'unsupported-descriptor',
            `TX descriptor ${i} of queue ${q.index} is a legacy descriptor (DEXT clear); the model implements advanced descriptors`,
          );
        }
        const dtyp = (cmd >>> M.TXD_DTYP_SHIFT) & 0xf;
        i = i + 1 === q.count ? 0 : i + 1;
        if (dtyp === M.TXD_DTYP_CONTEXT && paylen < 0) continue;
        if (dtyp !== M.TXD_DTYP_DATA) {
          throw new ModelError(
            'unsupported-descriptor',
            `TX descriptor ${i === 0 ? q.count - 1 : i - 1} of queue ${q.index} has type ${dtyp}`,
          );
        }
        const len = cmd & M.TXD_DTALEN_MASK;
        if (len === 0)
          throw new ModelError('bad-descriptor', `TX descriptor of queue ${q.index} has a zero-length buffer`);
        if (paylen < 0) {
          paylen = ring[w + 3] >>> M.TXD_PAYLEN_SHIFT;
          ifcs = (cmd & M.TXD_CMD_IFCS) !== 0;
        }
        total += len;
        if ((cmd & M.TXD_CMD_EOP) !== 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (paylen < 0) {
          // only context descriptors: done
          this.writeBackTx(q, head, i);
          head = i;
          s[headAt] = head;
          continue;
        }
        break; // the driver has not written the packet's last descriptor yet
      }
      if (total < MIN_TX_PAYLEN) {
        throw new ModelError(
          'frame-too-small',
          `TX packet on queue ${q.index} of ${total} bytes: the advanced descriptor takes at least ${MIN_TX_PAYLEN} (pad it)`,
        );
      }
      if (total !== paylen) {
        throw new ModelError(
          'bad-descriptor',
          `TX packet on queue ${q.index}: PAYLEN ${paylen} but its buffers hold ${total} bytes`,
        );
      }
      const wire = total + (ifcs ? CRC : 0);
      const maxWire = (hlreg0 & M.HLREG0_JUMBOEN) !== 0 ? mfs : mfs + 4; // + a VLAN tag
      const onCable = ifcs ? total : total - CRC;
      if (wire > maxWire || (end !== null && onCable > end.tx.maxFrame)) {
        throw new ModelError(
          'frame-too-large',
          `TX frame of ${wire} bytes with CRC on queue ${q.index} exceeds the max frame size ${maxWire}`,
        );
      }
      if (onCable <= 0)
        throw new ModelError('bad-descriptor', `TX frame of ${total} bytes without IFCS has no room for its CRC`);
      const pad = (hlreg0 & M.HLREG0_TXPADEN) !== 0 && onCable < MIN_FRAME - CRC ? MIN_FRAME - CRC - onCable : 0;
      if (!linked || end === null) {
        // no link: the MAC sends nothing and the queue waits (the 82599 stops transmitting
        // while the link is down; Linux's watchdog resets a card that keeps TX work then)
        this.txStalled = true;
        break;
      }
      {
        const slot = end.tx.reserve();
        if (slot < 0) {
          this.txStalled = true; // the cable is full: the packet waits, like flow control
          break;
        }
        this.gather(q, head, i, end.tx.data, end.tx.words, slot, onCable);
        if (pad > 0) end.tx.data.fill(0, slot + onCable, slot + onCable + pad);
        end.tx.publish(onCable + pad);
        published = true;
        this.gptc++;
        this.gotc += onCable + pad + CRC;
        if (this.gotc >= TWO_POW_36) this.gotc -= TWO_POW_36; // 36-bit counter
      }
      this.writeBackTx(q, head, i);
      head = i;
      s[headAt] = head;
    }
    if (published && end !== null) end.tx.flush();
  }

  /** Copies a packet's buffers (descriptors from..to) to `out` (or only checks them). */
  private gather(
    q: QueueState,
    from: number,
    to: number,
    out: Uint8Array | null,
    outWords: Uint32Array | null,
    at: number,
    limit: number,
  ): void {
    const ring = q.ring as Uint32Array;
    let copied = 0;
    for (let i = from; i !== to; i = i + 1 === q.count ? 0 : i + 1) {
      const w = i << 2;
      const cmd = ring[w + 2];
      if (((cmd >>> M.TXD_DTYP_SHIFT) & 0xf) !== M.TXD_DTYP_DATA) continue;
      const len = cmd & M.TXD_DTALEN_MASK;
      const addr = ring[w] + ring[w + 1] * TWO_POW_32;
      const region = this.translate(this.txRegion, ring, w, len);
      this.txRegion = region;
      if (region === undefined) {
        throw new ModelError(
          'dma-out-of-range',
          `TX descriptor ${i} of queue ${q.index}: buffer ${hex(ring[w + 1])}:${hex(ring[w])} (+${len}) is not in DMA memory`,
        );
      }
      if (out !== null && outWords !== null && copied < limit) {
        const n = Math.min(len, limit - copied);
        copyBytes(region.bytes, this.wordsOf(region), addr - region.base, out, outWords, at + copied, n);
      }
      copied += len;
    }
  }

  private writeBackTx(q: QueueState, from: number, to: number): void {
    const ring = q.ring as Uint32Array;
    for (let i = from; i !== to; i = i + 1 === q.count ? 0 : i + 1) {
      const w = i << 2;
      // plain stores: the model runs in the driver's thread, between its calls
      if ((ring[w + 2] & M.TXD_CMD_RS) !== 0) ring[w + 3] = M.TXD_STAT_DD;
    }
  }

  /**
   * §7.1: moves frames from the cable into queue 0's ring (the model has no RSS or other
   * queue filters: without them the 82599 also uses queue 0). Frames that no filter accepts
   * are dropped; without a free descriptor a frame is dropped and counted (QPRDC, with
   * SRRCTL.DROP_EN) or stays in the cable until there is one (DROP_EN clear).
   */
  private receive(): void {
    const end = this.end;
    if (end === null) return;
    const cable = end.rx;
    const s = this.store;
    const q = this.rxq[0];
    const rxOn = (s[M.RXCTRL >>> 2] & M.RXCTRL_RXEN) !== 0 && q.enabled && q.ring !== null;
    const fctrl = s[M.FCTRL >>> 2];
    const hlreg0 = s[M.HLREG0 >>> 2];
    const strip = (hlreg0 & M.HLREG0_RXCRCSTRP) !== 0;
    const mfs = s[M.MAXFRS >>> 2] >>> 16;
    const srrctl = s[this.srrctlOffset(0) >>> 2];
    const dropEn = (srrctl & M.SRRCTL_DROP_EN) !== 0;
    const bsize = (srrctl & M.SRRCTL_BSIZEPACKET_MASK) * 1024;
    const headAt = (q.block + M.Q_HEAD) >>> 2;
    const tailAt = (q.block + M.Q_TAIL) >>> 2;
    const data = cable.data;
    const words = cable.words;
    let written = 0;
    for (let budget = cable.slots; budget > 0; budget--) {
      const at = cable.peek();
      if (at < 0) break;
      const len = cable.peekLength();
      if (!rxOn || !this.accepts(data, at, len, fctrl)) {
        cable.release();
        continue;
      }
      const wire = len + CRC;
      const tagged = len >= 14 && ((data[at + 12] << 8) | data[at + 13]) === VLAN_TPID;
      if (wire < MIN_FRAME) {
        this.ruc++;
        cable.release();
        continue;
      }
      if (wire > ((hlreg0 & M.HLREG0_JUMBOEN) !== 0 ? Math.max(mfs, 1518) : tagged ? mfs + 4 : mfs)) {
        this.roc++;
        cable.release();
        continue;
      }
      const head = s[headAt];
      if (head === s[tailAt]) {
        if (!dropEn) break; // the packet buffer holds it (here: the cable)
        this.qprdc[0]++;
        cable.release();
        continue;
      }
      const ring = q.ring as Uint32Array;
      const w = head << 2;
      if ((ring[w + 2] & M.RXD_STAT_DD) !== 0) {
        throw new ModelError(
          'stale-descriptor',
          `RX descriptor ${head} of queue 0 was handed to the device with its write-back still in it (DD set): refill it before moving RDT past it`,
        );
      }
      const addr = ring[w] + ring[w + 1] * TWO_POW_32;
      const size = strip ? len : wire;
      if (size > bsize) {
        throw new ModelError(
          'buffer-too-small',
          `a ${size}-byte frame does not fit BSIZEPACKET (${bsize} bytes) of queue 0; set BSIZEPACKET and the max frame size so every frame fits one buffer`,
        );
      }
      const region = this.translate(this.rxRegion, ring, w, size);
      this.rxRegion = region;
      if (region === undefined) {
        throw new ModelError(
          'dma-out-of-range',
          `RX descriptor ${head} of queue 0: buffer ${hex(ring[w + 1])}:${hex(ring[w])} (+${size}) is not in DMA memory`,
        );
      }
      const dst = addr - region.base;
      copyBytes(data, words, at, region.bytes, this.wordsOf(region), dst, len);
      if (!strip) {
        const fcs = crc32(data.subarray(at, at + len));
        region.bytes[dst + len] = fcs;
        region.bytes[dst + len + 1] = fcs >>> 8;
        region.bytes[dst + len + 2] = fcs >>> 16;
        region.bytes[dst + len + 3] = fcs >>> 24;
      }
      cable.release();
      // write-back format (§7.1.6.2): length, then status with DD last
      ring[w] = 0;
      ring[w + 1] = 0;
      ring[w + 3] = size;
      ring[w + 2] = M.RXD_STAT_DD | M.RXD_STAT_EOP;
      s[headAt] = head + 1 === q.count ? 0 : head + 1;
      written++;
      this.gprc++;
      this.gorc += wire;
      if (this.gorc >= TWO_POW_36) this.gorc -= TWO_POW_36; // 36-bit counter
    }
    cable.commit();
    if (written > 0) this.raiseRxCause(0);
  }

  /**
   * §7.3: a queue wrote back packets: set its cause in EICR (the bit IVAR maps it to; no valid
   * IVAR entry, no cause). If the cause is enabled in EIMS, the device sends the interrupt (here:
   * counts it per vector; what wakes a sleeping simulated port is its cable), and then clears
   * the cause when EIAC says so and masks it when GPIE.EIAME and EIAM say so. EITR throttling is
   * not modelled: a sleeping process polls only once woken anyway.
   */
  private raiseRxCause(queue: number): void {
    const s = this.store;
    const entry = (s[(M.IVAR0 + (queue >>> 1) * 4) >>> 2] >>> ((queue & 1) * 16)) & 0xff;
    if ((entry & M.IVAR_ALLOC_VAL) === 0) return;
    const vector = entry & 0x3f;
    if (vector > 15) return; // vectors past 15 have their causes in EICR_EX registers (not modelled)
    const bit = 1 << vector;
    s[M.EICR >>> 2] |= bit;
    if ((s[M.EIMS >>> 2] & bit) === 0) return;
    this.interrupts[vector]++;
    if ((s[M.GPIE >>> 2] & M.GPIE_MSIX_MODE) !== 0 && (s[M.EIAC >>> 2] & bit) !== 0) s[M.EICR >>> 2] &= ~bit;
    if ((s[M.GPIE >>> 2] & M.GPIE_EIAME) !== 0 && (s[M.EIAM >>> 2] & bit) !== 0) s[M.EIMS >>> 2] &= ~bit;
  }

  /** Receive filtering (§7.1.1): broadcast with BAM, multicast with MPE, unicast to RAL0 or with UPE. */
  private accepts(data: Uint8Array, at: number, len: number, fctrl: number): boolean {
    if (len < 6) return false;
    const d0 = data[at];
    if ((d0 & 1) !== 0) {
      const broadcast =
        d0 === 0xff &&
        data[at + 1] === 0xff &&
        data[at + 2] === 0xff &&
        data[at + 3] === 0xff &&
        data[at + 4] === 0xff &&
        data[at + 5] === 0xff;
      return broadcast ? (fctrl & (M.FCTRL_BAM | M.FCTRL_MPE)) !== 0 : (fctrl & M.FCTRL_MPE) !== 0;
    }
    if ((fctrl & M.FCTRL_UPE) !== 0) return true;
    const ral = this.store[M.RAL0 >>> 2];
    const rah = this.store[(M.RAL0 + 4) >>> 2];
    return (
      (rah & M.RAH_AV) !== 0 &&
      d0 === (ral & 0xff) &&
      data[at + 1] === ((ral >>> 8) & 0xff) &&
      data[at + 2] === ((ral >>> 16) & 0xff) &&
      data[at + 3] === ral >>> 24 &&
      data[at + 4] === (rah & 0xff) &&
      data[at + 5] === ((rah >>> 8) & 0xff)
    );
  }
}
