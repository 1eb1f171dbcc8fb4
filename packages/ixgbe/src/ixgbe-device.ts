import {
  DeviceStateError,
  InvalidOptionError,
  checkMacAddress,
  dmaReaches,
  type DeviceAccess,
  type OpenOptions,
  type DeviceStats,
  type IxyDevice,
  type PacketBatch,
  type FutexWord,
  type Registers,
  type Wakeup,
  runAll,
  sleepMs,
  waitRegister,
} from '@ixy/core';
import { Mempool } from '@ixy/memory';
import * as R from './registers.js';
import { RxQueue } from './rx-queue.js';
import { TxQueue } from './tx-queue.js';

/** Options of the ixgbe driver; see README. */
export interface IxgbeOptions extends OpenOptions {
  /** RX queues, 1..128 (default 1). Without RSS set up, the card delivers everything to queue 0. */
  rxQueues?: number;
  /** TX queues, 1..128 (default 1). */
  txQueues?: number;
  /** Descriptors per ring, a power of two from 64 to 4096 (default 512). */
  ringSize?: number;
  /** Buffers in each RX queue's mempool (default max(4096, 2 × ringSize)); more than ringSize. */
  poolSize?: number;
  /** Check packet ownership on every transfer (and, on PCI, bounds-check registers). */
  safe?: boolean;
  /**
   * How long start-up waits for the link before going on without it (with a warning). Default
   * 10000 ms, as auto-negotiation takes time; a device model's port driver (@ixy/sim) sets 0:
   * its link is there at once or comes when the peer port opens.
   */
  linkTimeoutMs?: number;
  /** Start in promiscuous mode (default true, as ixy). */
  promisc?: boolean;
  /**
   * 802.3x flow control (default false, as C ixy): a full RX ring holds frames in the packet
   * buffer instead of dropping them (SRRCTL.DROP_EN clear), the card sends PAUSE frames when
   * the buffer fills, and honours PAUSE frames from the link partner. Lossless when both ends
   * do it: a slow receiver slows the sender down instead of losing frames.
   */
  flowControl?: boolean;
}

/** The driver's own options, beyond core's OpenOptions (for openDevice's check of names). */
export const IXGBE_OPTION_NAMES = ['linkTimeoutMs', 'promisc'] as const;

/** Largest frame on the wire including CRC: 1518, the MAXFRS reset value; no jumbo frames. */
export const MAX_FRAME_SIZE = 1518;
const CRC_SIZE = 4;
const VLAN_TAG_SIZE = 4;
/** Largest frame in a buffer (without CRC): the card accepts MFS + 4 for VLAN-tagged frames. */
export const MAX_FRAME_BYTES = MAX_FRAME_SIZE - CRC_SIZE + VLAN_TAG_SIZE;
const TWO_POW_32 = 4294967296;
// flow control thresholds in packet buffer 0 (128 KiB here): XOFF with room left for the
// frames in flight while the PAUSE frame travels, XON once half of that has drained
const FC_HIGH_WATER_KB = 112;
const FC_LOW_WATER_KB = 96;
/** Pause time in XOFF frames, in quanta of 512 bit times (Linux's default). */
const FC_PAUSE_TIME = 0x680;
/** Time the device needs after CTRL.RST before it answers reads (§4.6.3.2; Linux waits 1 ms). */
const RESET_DELAY_MS = 1;
/** How long pending PCIe requests may take to finish after master disable (Linux: 800 × 100 µs). */
const MASTER_DISABLE_TIMEOUT_MS = 80;
/** How long close() waits for a queue to stop (Linux: up to 10 × 1 ms per queue). */
const STOP_TIMEOUT_MS = 100;
/** RX queues with an interrupt: vectors 0..15, the RTxQ bits of EICR/EIMS. */
const INTERRUPT_QUEUES = 16;
/** EITR interval field (bits 11:3, 2 µs units): 0x028 = 10 µs between interrupts, as C ixy. */
const EITR_INTERVAL = 0x028;

/** A receive queue's MSI-X interrupt as a Wakeup: an eventfd from VFIO, unmasked while armed. */
class RxInterrupt implements Wakeup {
  readonly fds: readonly number[];
  readonly futexes: readonly FutexWord[] = [];
  constructor(
    private readonly device: IxgbeDevice,
    private readonly queue: number,
    fd: number,
  ) {
    this.fds = [fd];
  }
  arm(): boolean {
    return this.device.armRxInterrupt(this.queue);
  }
  disarm(): void {
    this.device.disarmRxInterrupt(this.queue);
  }
}

interface ResolvedOptions {
  rxQueues: number;
  txQueues: number;
  ringSize: number;
  poolSize: number;
  safe: boolean;
  linkTimeoutMs: number;
  promisc: boolean;
  flowControl: boolean;
}

function intOption(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(`ixgbe: ${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks the options and fills in defaults. */
export function resolveIxgbeOptions(options: IxgbeOptions, defaultLinkTimeoutMs = 10_000): ResolvedOptions {
  const rxQueues = intOption(options.rxQueues, 'rxQueues', 1, 1, R.IXGBE_MAX_QUEUES);
  // MTQC's reset value (no DCB, no virtualization) serves 64 TX queues, as C ixy assumes
  const txQueues = intOption(options.txQueues, 'txQueues', 1, 1, R.IXGBE_MAX_TX_QUEUES);
  const ringSize = intOption(options.ringSize, 'ringSize', 512, 64, 4096);
  if ((ringSize & (ringSize - 1)) !== 0)
    throw new InvalidOptionError(
      `ixgbe: ringSize must be a power of two, got ${ringSize}`,
      'e.g. 256, 512, 1024, 2048, 4096',
    );
  const poolSize = intOption(options.poolSize, 'poolSize', Math.max(4096, 2 * ringSize), ringSize + 1, 1 << 20);
  return {
    rxQueues,
    txQueues,
    ringSize,
    poolSize,
    safe: options.safe === true,
    linkTimeoutMs: intOption(options.linkTimeoutMs, 'linkTimeoutMs', defaultLinkTimeoutMs, 0, 3_600_000),
    promisc: options.promisc !== false,
    flowControl: options.flowControl === true,
  };
}

/**
 * The Intel 82599 (X520, X540) driver, after C ixy's ixgbe.c: poll mode, advanced
 * descriptors, one buffer per packet. Works on whatever the DeviceAccess gives it: a card
 * through sysfs and hugepages, or the device model of @ixy/sim.
 */
export class IxgbeDevice implements IxyDevice {
  readonly driverName = 'ixgbe';
  readonly address: string;
  readonly rxQueueCount: number;
  readonly txQueueCount: number;
  readonly options: Readonly<ResolvedOptions>;
  private readonly regs: Registers;
  private readonly rx: RxQueue[] = [];
  private readonly tx: TxQueue[] = [];
  /**
   * The packet path's view of the queues: frozen arrays in fields written once, at the end of
   * the constructor. When the app's loop holds the device in a variable the optimising
   * compiler treats as a constant, it can then read a queue, and the queue's readonly rings
   * and arrays, at compile time instead of loading and checking them at every call: through a
   * plain array, filled and emptied as the queues come and go, it could not (bench, fwd step
   * at batch 1 ×0.73, in turn with and without, Node 24).
   */
  private readonly rxPath: readonly RxQueue[];
  private readonly txPath: readonly TxQueue[];
  private readonly pools: Mempool[] = [];
  private closed = false;
  private msixFds: number[] | null = null;
  private readonly wakeups: (RxInterrupt | undefined)[] = [];
  /** The pool given with the `rxPool` option, when this device can receive into it. */
  private readonly givenPool: Mempool | undefined;

  constructor(
    private readonly access: DeviceAccess,
    options: IxgbeOptions = {},
  ) {
    this.options = resolveIxgbeOptions(options);
    this.address = access.identity.address;
    this.rxQueueCount = this.options.rxQueues;
    this.txQueueCount = this.options.txQueues;
    this.givenPool = this.usablePool(options.rxPool);
    access.claim();
    this.regs = access.registers(0);
    try {
      this.resetAndInit();
    } catch (err) {
      this.freeQueues();
      throw err;
    }
    this.rxPath = Object.freeze([...this.rx]);
    this.txPath = Object.freeze([...this.tx]);
  }

  /**
   * The mempool RX queue `queue` receives into (IxyDevice.rxPool). Through the packet path's
   * view of the queues, so that in an app's loop it is a constant of the compiled step too.
   */
  rxPool(queue: number): Mempool {
    const q = this.rxPath[queue];
    if (q === undefined || this.closed) throw this.queueError('rx', queue);
    return q.pool;
  }

  /**
   * The `rxPool` option's pool, if this device can receive into it (OpenOptions.rxPool): a
   * mempool whose memory the card reaches, in the device's mode, whose buffers hold a frame,
   * open, with a buffer for every descriptor of the RX rings. Otherwise the device creates its
   * own, as without the option.
   */
  private usablePool(given: unknown): Mempool | undefined {
    if (!(given instanceof Mempool)) return undefined;
    const { rxQueues, ringSize, safe } = this.options;
    const usable =
      dmaReaches(this.access.dma, given.allocator) &&
      given.safe === safe &&
      given.bufSize >= MAX_FRAME_BYTES &&
      !given.isClosed &&
      given.freeCount > rxQueues * ringSize;
    return usable ? given : undefined;
  }

  // ---- initialisation, §4.6.3 ----

  private resetAndInit(): void {
    const regs = this.regs;
    // §4.6.3.1: mask all interrupts (we poll)
    this.disableInterrupts();
    // §4.6.3.2: before the reset, stop the card's DMA: master disable (§5.2.5.3.2), and wait
    // until no request is pending (as Linux's ixgbe_disable_pcie_master)
    this.setFlags(R.IXGBE_CTRL, R.IXGBE_CTRL_GIO_DIS);
    waitRegister(regs, 'STATUS', R.IXGBE_STATUS, R.IXGBE_STATUS_GIO, false, MASTER_DISABLE_TIMEOUT_MS);
    // global reset (device and link; it enables mastering again); the device does not answer
    // for about 1 ms, so wait that long before polling for the bits to self-clear (as Linux
    // does), then 10 ms
    regs.write32(R.IXGBE_CTRL, R.IXGBE_CTRL_RST_MASK);
    sleepMs(RESET_DELAY_MS);
    waitRegister(regs, 'CTRL', R.IXGBE_CTRL, R.IXGBE_CTRL_RST_MASK, false);
    sleepMs(10);
    // §4.6.3.1: interrupts again, the reset re-armed them
    this.disableInterrupts();
    // §4.6.3: EEPROM auto-read done, then DMA init done
    waitRegister(regs, 'EEC', R.IXGBE_EEC, R.IXGBE_EEC_ARD, true);
    waitRegister(regs, 'RDRXCTL', R.IXGBE_RDRXCTL, R.IXGBE_RDRXCTL_DMAIDONE, true);
    // §4.6.4: link set-up
    this.initLink();
    // §4.6.5: statistics are clear-on-read: read them once
    this.resetStats();
    // §4.6.7, §4.6.8
    this.initRx();
    this.initTx();
    for (const q of this.rx) this.startRxQueue(q);
    for (const q of this.tx) this.startTxQueue(q);
    this.setPromisc(this.options.promisc);
    this.initInterrupts();
    this.waitForLink();
  }

  private disableInterrupts(): void {
    this.regs.write32(R.IXGBE_EIMC, R.IXGBE_IRQ_CLEAR_MASK);
    this.regs.read32(R.IXGBE_EICR); // clear-on-read: drop pending causes
  }

  /**
   * §4.6.4 link set-up: restart auto-negotiation in the link mode the EEPROM loaded into AUTOC.
   * C ixy forces LMS to 10G serial (SFI, the SFP+ boards) and notes that the EEPROM should
   * already have set it; keeping the EEPROM's mode also serves the KX4/CX4/XAUI variants of the
   * device ID list, whose links another mode would not bring up.
   */
  private initLink(): void {
    this.setFlags(R.IXGBE_AUTOC, R.IXGBE_AUTOC_AN_RESTART);
  }

  /** §4.6.7 */
  private initRx(): void {
    const regs = this.regs;
    const { ringSize, poolSize, safe } = this.options;
    // receive off while configuring
    this.clearFlags(R.IXGBE_RXCTRL, R.IXGBE_RXCTRL_RXEN);
    // no DCB or virtualization: one 128 KiB packet buffer
    regs.write32(R.IXGBE_RXPBSIZE(0), R.IXGBE_RXPBSIZE_128KB);
    for (let i = 1; i < 8; i++) regs.write32(R.IXGBE_RXPBSIZE(i), 0);
    // strip the CRC (HLREG0 and RDRXCTL must agree), accept broadcasts
    this.setFlags(R.IXGBE_HLREG0, R.IXGBE_HLREG0_RXCRCSTRP);
    this.setFlags(R.IXGBE_RDRXCTL, R.IXGBE_RDRXCTL_CRCSTRIP);
    // bits the datasheet says must be set (§8.2.3.8.8), as Linux sets them on the 82599
    this.setFlags(R.IXGBE_RDRXCTL, R.IXGBE_RDRXCTL_RSCACKC | R.IXGBE_RDRXCTL_FCOE_WRFIX);
    // max frame 1518 without jumbo frames: the card never writes more than 1518 - 4 + 4 (VLAN)
    // bytes into a buffer, which every pool buffer holds (checked below)
    this.clearFlags(R.IXGBE_HLREG0, R.IXGBE_HLREG0_JUMBOEN);
    regs.write32(R.IXGBE_MAXFRS, (regs.read32(R.IXGBE_MAXFRS) & 0xffff) | (MAX_FRAME_SIZE << R.IXGBE_MAXFRS_MFS_SHIFT));
    this.setFlags(R.IXGBE_FCTRL, R.IXGBE_FCTRL_BAM);

    for (let i = 0; i < this.rxQueueCount; i++) {
      let pool = this.givenPool;
      if (pool === undefined) {
        pool = new Mempool({ allocator: this.access.dma, entries: poolSize, safe });
        this.pools.push(pool); // the device's own: closed with it
      }
      if (pool.bufSize < MAX_FRAME_BYTES) {
        throw new DeviceStateError(`rx buffers of ${pool.bufSize} bytes cannot hold a ${MAX_FRAME_BYTES}-byte frame`);
      }
      // BSIZEPACKET counts KiB, so 2 KiB is the smallest setting that holds a max frame in
      // one buffer; it is more than the 1920 bytes a buffer has, but the card writes no more
      // than the max frame (MAXFRS, no jumbo frames): at most MAX_FRAME_BYTES, checked above.
      const bsize = Math.ceil(MAX_FRAME_BYTES / 1024);
      const queue = new RxQueue(i, ringSize, pool, this.access.dma, regs);
      this.rx.push(queue);
      // advanced one-buffer descriptors, drop when no descriptor is free (one full queue must
      // not stall the shared packet buffer; with flow control, holding frames is the point),
      // buffer size
      let srrctl = regs.read32(R.IXGBE_SRRCTL(i));
      srrctl &= ~(R.IXGBE_SRRCTL_DESCTYPE_MASK | R.IXGBE_SRRCTL_BSIZEPKT_MASK | R.IXGBE_SRRCTL_DROP_EN);
      srrctl |= R.IXGBE_SRRCTL_DESCTYPE_ADV_ONEBUF | (this.options.flowControl ? 0 : R.IXGBE_SRRCTL_DROP_EN) | bsize;
      regs.write32(R.IXGBE_SRRCTL(i), srrctl);
      // §7.1.9 ring: base, length in bytes, empty
      const addr = queue.ringAddress;
      regs.write32(R.IXGBE_RDBAL(i), addr >>> 0);
      regs.write32(R.IXGBE_RDBAH(i), (addr / TWO_POW_32) >>> 0);
      regs.write32(R.IXGBE_RDLEN(i), ringSize * R.IXGBE_DESC_SIZE);
      regs.write32(R.IXGBE_RDH(i), 0);
      regs.write32(R.IXGBE_RDT(i), 0);
    }
    // last sentence of §4.6.7: no-snoop disable, and DCA_RXCTRL bit 12 cleared
    this.setFlags(R.IXGBE_CTRL_EXT, R.IXGBE_CTRL_EXT_NS_DIS);
    for (let i = 0; i < this.rxQueueCount; i++) this.clearFlags(R.IXGBE_DCA_RXCTRL(i), R.IXGBE_DCA_RXCTRL_BIT12);
    if (this.options.flowControl) this.initFlowControl();
    this.setFlags(R.IXGBE_RXCTRL, R.IXGBE_RXCTRL_RXEN);
  }

  /**
   * §3.7.7 link flow control (802.3x), as Linux's ixgbe_fc_enable sets it for "full": XOFF when
   * packet buffer 0 fills past the high water mark, XON below the low one (thresholds in
   * bytes, bits 18:5), the pause time sent in XOFF frames and its refresh, transmit of PAUSE
   * frames (FCCFG.TFCE) and reaction to received ones (MFLCN.RFCE).
   */
  private initFlowControl(): void {
    const regs = this.regs;
    regs.write32(R.IXGBE_FCRTL_82599(0), ((FC_LOW_WATER_KB << 10) | R.IXGBE_FCRTL_XONE) >>> 0);
    regs.write32(R.IXGBE_FCRTH_82599(0), ((FC_HIGH_WATER_KB << 10) | R.IXGBE_FCRTH_FCEN) >>> 0);
    regs.write32(R.IXGBE_FCTTV(0), FC_PAUSE_TIME * 0x00010001);
    regs.write32(R.IXGBE_FCRTV, FC_PAUSE_TIME >>> 1);
    this.setFlags(R.IXGBE_FCCFG, R.IXGBE_FCCFG_TFCE_802_3X);
    this.setFlags(R.IXGBE_MFLCN, R.IXGBE_MFLCN_RFCE);
  }

  /** §4.6.8 */
  private initTx(): void {
    const regs = this.regs;
    const { ringSize } = this.options;
    // CRC insertion and padding of short frames
    this.setFlags(R.IXGBE_HLREG0, R.IXGBE_HLREG0_TXCRCEN | R.IXGBE_HLREG0_TXPADEN);
    // §4.6.11.3.4: no DCB: one 40 KiB packet buffer
    regs.write32(R.IXGBE_TXPBSIZE(0), R.IXGBE_TXPBSIZE_40KB);
    for (let i = 1; i < 8; i++) regs.write32(R.IXGBE_TXPBSIZE(i), 0);
    // required without DCB and virtualization
    regs.write32(R.IXGBE_DTXMXSZRQ, 0xffff);
    this.clearFlags(R.IXGBE_RTTDCS, R.IXGBE_RTTDCS_ARBDIS);
    for (let i = 0; i < this.txQueueCount; i++) {
      // home: the pool of the RX queue of the same number (one pool for all when shared)
      const home = (this.rx[i] ?? this.rx[0])?.pool;
      const queue = new TxQueue(i, ringSize, MAX_FRAME_BYTES, this.access.dma, regs, home);
      this.tx.push(queue);
      const addr = queue.ringAddress;
      regs.write32(R.IXGBE_TDBAL(i), addr >>> 0);
      regs.write32(R.IXGBE_TDBAH(i), (addr / TWO_POW_32) >>> 0);
      regs.write32(R.IXGBE_TDLEN(i), ringSize * R.IXGBE_DESC_SIZE);
      // write-back thresholds (§7.2.3.4.1, §7.2.3.5): DPDK's values, as ixy
      let txdctl = regs.read32(R.IXGBE_TXDCTL(i));
      txdctl &= ~R.IXGBE_TXDCTL_THRESH_MASK;
      txdctl |= 36 | (8 << 8) | (4 << 16);
      regs.write32(R.IXGBE_TXDCTL(i), txdctl);
    }
    regs.write32(R.IXGBE_DMATXCTL, R.IXGBE_DMATXCTL_TE);
  }

  /**
   * §7.3 interrupts, set up as C ixy does for its interrupt mode, but left masked: MSI-X mode
   * with a vector per RX queue (GPIE.MSIX_MODE; IVAR maps RX queue i's cause to vector i,
   * §7.3.4.1), the cause cleared when its message is sent (EIAC), and at most one interrupt per
   * EITR interval (§7.3.2.1.1; 10 µs, C ixy's rate). A poll loop unmasks a queue's vector
   * (EIMS) only while it sleeps: `armRxInterrupt`.
   */
  private initInterrupts(): void {
    const regs = this.regs;
    regs.write32(R.IXGBE_GPIE, (regs.read32(R.IXGBE_GPIE) | R.IXGBE_GPIE_MSIX_MODE | R.IXGBE_GPIE_PBA_SUPPORT) >>> 0);
    let queues = 0;
    for (let q = 0; q < Math.min(this.rxQueueCount, INTERRUPT_QUEUES); q++) {
      // RX cause of queue q: byte 0 (even q) or byte 2 (odd q) of IVAR(q / 2)
      const shift = (q & 1) * 16;
      const ivar = regs.read32(R.IXGBE_IVAR(q >>> 1)) & ~(0xff << shift);
      regs.write32(R.IXGBE_IVAR(q >>> 1), (ivar | ((R.IXGBE_IVAR_ALLOC_VAL | q) << shift)) >>> 0);
      regs.write32(R.IXGBE_EITR(q), EITR_INTERVAL & R.IXGBE_EITR_ITR_INTERVAL_MASK);
      queues |= 1 << q;
    }
    regs.write32(R.IXGBE_EIAC, queues);
  }

  /**
   * Unmasks RX queue `queue`'s interrupt for a sleep; false (and left masked) when a packet is
   * already waiting in the ring. A packet written back after the first check raises the
   * interrupt, or is seen by the second check.
   */
  armRxInterrupt(queue: number): boolean {
    const q = this.rxQueue(queue);
    if (queue >= INTERRUPT_QUEUES || q.hasPacket()) return false;
    this.regs.write32(R.IXGBE_EIMS, 1 << queue);
    if (!q.hasPacket()) return true;
    this.regs.write32(R.IXGBE_EIMC, 1 << queue);
    return false;
  }

  /** Masks RX queue `queue`'s interrupt again: the queue is polled. */
  disarmRxInterrupt(queue: number): void {
    if (queue < INTERRUPT_QUEUES) this.regs.write32(R.IXGBE_EIMC, 1 << queue);
  }

  private startRxQueue(q: RxQueue): void {
    q.fill();
    this.setFlags(R.IXGBE_RXDCTL(q.queue), R.IXGBE_RXDCTL_ENABLE);
    waitRegister(this.regs, `RXDCTL[${q.queue}]`, R.IXGBE_RXDCTL(q.queue), R.IXGBE_RXDCTL_ENABLE, true);
    // the ring starts full: every descriptor but one belongs to the device
    this.regs.write32(R.IXGBE_RDH(q.queue), 0);
    this.regs.write32(R.IXGBE_RDT(q.queue), q.size - 1);
  }

  private startTxQueue(q: TxQueue): void {
    this.regs.write32(R.IXGBE_TDH(q.queue), 0);
    this.regs.write32(R.IXGBE_TDT(q.queue), 0);
    this.setFlags(R.IXGBE_TXDCTL(q.queue), R.IXGBE_TXDCTL_ENABLE);
    waitRegister(this.regs, `TXDCTL[${q.queue}]`, R.IXGBE_TXDCTL(q.queue), R.IXGBE_TXDCTL_ENABLE, true);
  }

  private waitForLink(): void {
    const timeout = this.options.linkTimeoutMs;
    for (let waited = 0; this.linkSpeed() === 0; waited += 10) {
      if (waited >= timeout) {
        if (timeout > 0)
          process.emitWarning(`${this.address}: no link after ${timeout} ms, going on without`, 'IxyWarning');
        return;
      }
      sleepMs(10);
    }
  }

  private setFlags(offset: number, flags: number): void {
    this.regs.write32(offset, this.regs.read32(offset) | flags);
  }

  private clearFlags(offset: number, flags: number): void {
    this.regs.write32(offset, this.regs.read32(offset) & ~flags);
  }

  // ---- the packet path ----

  private rxQueue(queue: number): RxQueue {
    const q = this.rx[queue];
    if (q === undefined || this.closed) throw this.queueError('rx', queue);
    return q;
  }

  rxBatch(queue: number, batch: PacketBatch, max: number = batch.capacity): number {
    const q = this.rxPath[queue];
    if (q === undefined || this.closed) throw this.queueError('rx', queue);
    return q.receive(batch, max < batch.capacity ? max : batch.capacity);
  }

  txBatch(queue: number, batch: PacketBatch): number {
    const q = this.txPath[queue];
    if (q === undefined || this.closed) throw this.queueError('tx', queue);
    return q.send(batch);
  }

  private queueError(kind: string, queue: number): DeviceStateError {
    if (this.closed) return new DeviceStateError(`${this.address} is closed`);
    const count = kind === 'rx' ? this.rxQueueCount : this.txQueueCount;
    return new DeviceStateError(`${this.address}: no ${kind} queue ${queue} (has ${count})`);
  }

  // ---- the rest of IxyDevice ----

  private checkOpen(): void {
    if (this.closed) throw new DeviceStateError(`${this.address} is closed`);
  }

  /** §8.2.3.23: clear-on-read counters, added up in JS numbers (exact to 2^53). */
  /**
   * RX queue `queue`'s MSI-X interrupt, where the device was opened through VFIO (the vectors
   * are routed to eventfds on first use); null without VFIO (sysfs: no interrupts reach the
   * process) and for queues past the 16 with a vector of their own.
   */
  rxWakeup(queue: number): Wakeup | null {
    this.rxQueue(queue);
    if (queue >= INTERRUPT_QUEUES || this.access.enableMsix === undefined) return null;
    if (this.msixFds === null) this.msixFds = this.access.enableMsix(Math.min(this.rxQueueCount, INTERRUPT_QUEUES));
    this.wakeups[queue] ??= new RxInterrupt(this, queue, this.msixFds[queue]);
    return this.wakeups[queue];
  }

  readStats(stats: DeviceStats): void {
    this.checkOpen();
    const regs = this.regs;
    stats.rxPackets += regs.read32(R.IXGBE_GPRC);
    stats.txPackets += regs.read32(R.IXGBE_GPTC);
    const rxLow = regs.read32(R.IXGBE_GORCL); // low first: reading the high half completes the read
    stats.rxBytes += rxLow + (regs.read32(R.IXGBE_GORCH) & 0xf) * TWO_POW_32;
    const txLow = regs.read32(R.IXGBE_GOTCL);
    stats.txBytes += txLow + (regs.read32(R.IXGBE_GOTCH) & 0xf) * TWO_POW_32;
    // missed for lack of packet-buffer space, and dropped for lack of descriptors (DROP_EN)
    let dropped = 0;
    for (let i = 0; i < 8; i++) dropped += regs.read32(R.IXGBE_MPC(i));
    for (let i = 0; i < 16; i++) dropped += regs.read32(R.IXGBE_QPRDC(i));
    stats.rxDropped += dropped;
  }

  resetStats(): void {
    this.checkOpen();
    const regs = this.regs;
    for (const r of [R.IXGBE_GPRC, R.IXGBE_GPTC, R.IXGBE_GORCL, R.IXGBE_GORCH, R.IXGBE_GOTCL, R.IXGBE_GOTCH])
      regs.read32(r);
    for (let i = 0; i < 8; i++) regs.read32(R.IXGBE_MPC(i));
    for (let i = 0; i < 16; i++) regs.read32(R.IXGBE_QPRDC(i));
  }

  setPromisc(enabled: boolean): void {
    this.checkOpen();
    const flags = R.IXGBE_FCTRL_MPE | R.IXGBE_FCTRL_UPE;
    if (enabled) this.setFlags(R.IXGBE_FCTRL, flags);
    else this.clearFlags(R.IXGBE_FCTRL, flags);
  }

  linkSpeed(): number {
    this.checkOpen();
    const links = this.regs.read32(R.IXGBE_LINKS);
    if ((links & R.IXGBE_LINKS_UP) === 0) return 0;
    switch (links & R.IXGBE_LINKS_SPEED_82599) {
      case R.IXGBE_LINKS_SPEED_100_82599:
        return 100;
      case R.IXGBE_LINKS_SPEED_1G_82599:
        return 1000;
      case R.IXGBE_LINKS_SPEED_10G_82599:
        return 10000;
      default:
        return 0;
    }
  }

  /** Receive address 0 (§8.2.3.7.9): bytes 0..3 in RAL, 4..5 in RAH. */
  macAddress(): Uint8Array {
    this.checkOpen();
    const low = this.regs.read32(R.IXGBE_RAL(0));
    const high = this.regs.read32(R.IXGBE_RAH(0));
    return Uint8Array.of(low, low >>> 8, low >>> 16, low >>> 24, high, high >>> 8);
  }

  setMacAddress(mac: Uint8Array): void {
    this.checkOpen();
    checkMacAddress(mac);
    const low = (mac[0] | (mac[1] << 8) | (mac[2] << 16) | (mac[3] << 24)) >>> 0;
    const high = (mac[4] | (mac[5] << 8) | R.IXGBE_RAH_AV) >>> 0;
    this.regs.write32(R.IXGBE_RAL(0), low);
    this.regs.write32(R.IXGBE_RAH(0), high);
  }

  /** Stops receive and transmit, frees rings and pools, releases the device. Idempotent. */
  /**
   * Stops DMA before any memory goes back (Linux's ixgbe_disable_rx/tx order): interrupts
   * masked, receive off, each RX queue disabled and waited for until RXDCTL.ENABLE reads 0 (the
   * card finishes the descriptor it is writing), each TX queue flushed (TXDCTL.SWFLSH) and
   * disabled and waited for, transmit off (DMATXCTL.TE). Only then are rings and buffers freed:
   * without an IOMMU a late write would land in memory that has a new owner. If the card does
   * not stop in time, the rings are kept (leaked) rather than freed under it.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const regs = this.regs;
    let stopped = false;
    try {
      this.disableInterrupts();
      this.clearFlags(R.IXGBE_RXCTRL, R.IXGBE_RXCTRL_RXEN);
      for (const q of this.rx) this.clearFlags(R.IXGBE_RXDCTL(q.queue), R.IXGBE_RXDCTL_ENABLE);
      for (const q of this.rx)
        waitRegister(
          regs,
          `RXDCTL[${q.queue}]`,
          R.IXGBE_RXDCTL(q.queue),
          R.IXGBE_RXDCTL_ENABLE,
          false,
          STOP_TIMEOUT_MS,
        );
      for (const q of this.tx) {
        this.setFlags(R.IXGBE_TXDCTL(q.queue), R.IXGBE_TXDCTL_SWFLSH);
        this.clearFlags(R.IXGBE_TXDCTL(q.queue), R.IXGBE_TXDCTL_ENABLE);
      }
      for (const q of this.tx)
        waitRegister(
          regs,
          `TXDCTL[${q.queue}]`,
          R.IXGBE_TXDCTL(q.queue),
          R.IXGBE_TXDCTL_ENABLE,
          false,
          STOP_TIMEOUT_MS,
        );
      regs.write32(R.IXGBE_DMATXCTL, 0);
      stopped = true;
    } finally {
      if (stopped) this.freeQueues();
      else
        process.emitWarning(
          `${this.address}: the queues did not stop; their memory is kept, not freed under the card`,
          'IxyWarning',
        );
      this.access.release();
    }
  }

  /** Frees every queue and closes every pool, even past one that throws; the first error after. */
  private freeQueues(): void {
    runAll([
      ...this.rx.splice(0).map((q) => () => q.free()),
      ...this.tx.splice(0).map((q) => () => q.free()),
      ...this.pools.splice(0).map((p) => () => p.close()),
    ]);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
