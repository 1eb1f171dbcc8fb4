import {
  DeviceStateError,
  InvalidOptionError,
  type DeviceAccess,
  type DeviceStats,
  type FutexWord,
  type IxyDevice,
  type OpenOptions,
  type PacketBatch,
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

/** Options of the e1000e driver; see README. */
export interface E1000eOptions extends OpenOptions {
  /** RX queues: 1 (the 82574's second queue is reached only through RSS, not set up here). */
  rxQueues?: number;
  /** TX queues: 1. */
  txQueues?: number;
  /** Descriptors per ring, a power of two from 64 to 4096 (default 512). */
  ringSize?: number;
  /** Buffers in the RX mempool (default max(4096, 2 × ringSize)); more than ringSize. */
  poolSize?: number;
  /** Check packet ownership on every transfer (and bounds-check registers). */
  safe?: boolean;
  /** How long start-up waits for the link before going on without it, with a warning (default 10000 ms). */
  linkTimeoutMs?: number;
  /** Start in promiscuous mode (default true, as ixy). */
  promisc?: boolean;
  /**
   * 802.3x flow control (default false): the card sends PAUSE frames as its receive packet
   * buffer fills (frames wait there while no descriptor is free) and honours the partner's.
   * Lossless when both ends do it: a slow receiver slows the sender instead of losing frames.
   */
  flowControl?: boolean;
}

/** The driver's own options, beyond core's OpenOptions (for openDevice's check of names). */
export const E1000E_OPTION_NAMES = ['linkTimeoutMs', 'promisc'] as const;

/** Largest frame on the wire including CRC without long packets (RCTL.LPE clear): 1518, 1522 tagged. */
export const MAX_FRAME_SIZE = 1518;
const CRC_SIZE = 4;
const VLAN_TAG_SIZE = 4;
/** Largest frame in a buffer (CRC stripped): 1514 + a VLAN tag. */
export const MAX_FRAME_BYTES = MAX_FRAME_SIZE - CRC_SIZE + VLAN_TAG_SIZE;
const TWO_POW_32 = 4294967296;
/** How long pending master requests may take after GIO master disable (Linux: 800 × 100 µs). */
const MASTER_DISABLE_TIMEOUT_MS = 80;
/** Linux waits 10 ms after stopping RX/TX before the reset, for DMA in flight to finish. */
const QUIESCE_MS = 10;
/** The reset takes about 1 ms before the device answers reads again (§4.6, Linux waits 1 ms). */
const RESET_DELAY_MS = 1;
/** How long the NVM auto-read may take after the reset (Linux: 10 ms). */
const AUTO_READ_TIMEOUT_MS = 10;
/** TIPG for copper (IEEE 802.3 gaps): IPGT 8, IPGR1 8, IPGR2 6, the datasheet's recommended values. */
const TIPG_COPPER = 8 | (8 << 10) | (6 << 20);
/** TCTL collision threshold (15) and full-duplex collision distance (63), as the datasheet recommends. */
const TCTL_CT = 0x0f;
const TCTL_COLD_FD = 0x3f;
/** Pause time sent in XOFF frames, in 512-bit-time quanta (Linux's default). */
const FC_PAUSE_TIME = 0x680;
/** Room above the XOFF threshold for the frames in flight while the PAUSE travels: two max frames. */
const FC_HEADROOM = 2 * 1522;
/** MSI-X vector of RX queue 0 (the only vector used; VFIO maps vector i to eventfd i). */
const RX_VECTOR = 0;

/** RX queue 0's MSI-X interrupt as a Wakeup: an eventfd from VFIO, unmasked while armed. */
class RxInterrupt implements Wakeup {
  readonly fds: readonly number[];
  readonly futexes: readonly FutexWord[] = [];
  constructor(
    private readonly device: E1000eDevice,
    fd: number,
  ) {
    this.fds = [fd];
  }
  arm(): boolean {
    return this.device.armRxInterrupt();
  }
  disarm(): void {
    this.device.disarmRxInterrupt();
  }
}

interface ResolvedOptions {
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
    throw new InvalidOptionError(`e1000e: ${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks the options and fills in defaults. */
export function resolveE1000eOptions(options: E1000eOptions): ResolvedOptions {
  for (const name of ['rxQueues', 'txQueues'] as const) {
    if (options[name] !== undefined && options[name] !== 1)
      throw new InvalidOptionError(
        `e1000e: ${name} must be 1, got ${JSON.stringify(options[name])}`,
        'the 82574 has two queues per direction, but this driver sets up one (no RSS)',
      );
  }
  const ringSize = intOption(options.ringSize, 'ringSize', 512, 64, 4096);
  if ((ringSize & (ringSize - 1)) !== 0)
    throw new InvalidOptionError(
      `e1000e: ringSize must be a power of two, got ${ringSize}`,
      'e.g. 256, 512, 1024, 2048, 4096',
    );
  const poolSize = intOption(options.poolSize, 'poolSize', Math.max(4096, 2 * ringSize), ringSize + 1, 1 << 20);
  return {
    ringSize,
    poolSize,
    safe: options.safe === true,
    linkTimeoutMs: intOption(options.linkTimeoutMs, 'linkTimeoutMs', 10_000, 0, 3_600_000),
    promisc: options.promisc !== false,
    flowControl: options.flowControl === true,
  };
}

/**
 * The Intel 82574L driver: poll mode, one RX and one TX queue of legacy descriptors, one
 * buffer per packet; MSI-X wake-ups through VFIO. Written from the 82574 datasheet (rev. 3.4)
 * against the public APIs of @ixy/core, @ixy/pci and @ixy/memory only, as a third-party
 * driver would be.
 */
export class E1000eDevice implements IxyDevice {
  readonly driverName = 'e1000e';
  readonly address: string;
  readonly rxQueueCount = 1;
  readonly txQueueCount = 1;
  readonly options: Readonly<ResolvedOptions>;
  private readonly regs: Registers;
  private rx: RxQueue | null = null;
  private tx: TxQueue | null = null;
  /**
   * The packet path's queues, in fields written once at the end of the constructor: constants
   * to the optimising compiler where the app's loop holds the device as one (the ixgbe
   * driver's rxPath); `rx` and `tx` change as the queues come and go.
   */
  private readonly rxPath: RxQueue | null;
  private readonly txPath: TxQueue | null;
  private pool: Mempool | null = null;
  private closed = false;
  private wakeup: RxInterrupt | null = null;

  constructor(
    private readonly access: DeviceAccess,
    options: E1000eOptions = {},
  ) {
    this.options = resolveE1000eOptions(options);
    this.address = access.identity.address;
    access.claim();
    this.regs = access.registers(0);
    try {
      this.resetAndInit();
    } catch (err) {
      this.freeQueues();
      throw err;
    }
    this.rxPath = this.rx;
    this.txPath = this.tx;
  }

  /** The mempool the RX queue receives into. */
  rxPool(queue: number): Mempool {
    this.rxQueue(queue);
    return this.pool as Mempool;
  }

  // ---- initialisation, §4.6 "Software Initialization Sequence" ----

  private resetAndInit(): void {
    const regs = this.regs;
    // §4.6 interrupts during initialization: mask them all (we poll)
    this.disableInterrupts();
    // §4.6 global reset: first stop receive and transmit and the card's DMA (master disable,
    // §5 PCIe), wait for pending requests, let frames in flight finish (Linux's 82571-family
    // reset does the same), then reset; CTRL.RST self-clears when the reset is done
    regs.write32(R.E1000_RCTL, 0);
    regs.write32(R.E1000_TCTL, R.E1000_TCTL_PSP);
    this.setFlags(R.E1000_CTRL, R.E1000_CTRL_GIO_MASTER_DISABLE);
    waitRegister(regs, 'STATUS', R.E1000_STATUS, R.E1000_STATUS_GIO_MASTER_ENABLE, false, MASTER_DISABLE_TIMEOUT_MS);
    sleepMs(QUIESCE_MS);
    regs.write32(R.E1000_CTRL, (regs.read32(R.E1000_CTRL) & ~R.E1000_CTRL_GIO_MASTER_DISABLE) | R.E1000_CTRL_RST);
    sleepMs(RESET_DELAY_MS);
    waitRegister(regs, 'CTRL', R.E1000_CTRL, R.E1000_CTRL_RST, false);
    // the NVM (EEPROM) is read again after a reset: wait until the MAC address and defaults are in
    waitRegister(regs, 'EECD', R.E1000_EECD, R.E1000_EECD_AUTO_RD, true, AUTO_READ_TIMEOUT_MS);
    // §4.6: the reset re-armed interrupts: mask them again
    this.disableInterrupts();
    // general configuration: the 82574 errata workaround Linux applies (GCR bit 22: unreliable
    // PCIe completions with ASPM otherwise)
    this.setFlags(R.E1000_GCR, R.E1000_GCR_ERRATA_BIT22);
    // §4.6 link set-up
    this.initLink();
    // §4.6 initialization of statistics: they are clear-on-read: read them once
    this.resetStats();
    // §4.6 receive and transmit initialization
    this.initRx();
    this.initTx();
    if (this.options.flowControl) this.initFlowControl();
    this.initInterrupts();
    this.waitForLink();
  }

  private disableInterrupts(): void {
    this.regs.write32(R.E1000_IMC, R.E1000_IRQ_CLEAR_MASK);
    this.regs.read32(R.E1000_ICR); // clear-on-read: drop pending causes
  }

  /**
   * §4.6 link set-up, copper with the internal PHY: the MAC takes speed and duplex from the PHY,
   * which auto-negotiates by itself after reset (CTRL.FRCSPD/FRCDPX clear, ASDE off: the PHY
   * resolves), and CTRL.SLU lets the link come up. No PHY register is written.
   */
  private initLink(): void {
    const ctrl = this.regs.read32(R.E1000_CTRL);
    this.regs.write32(
      R.E1000_CTRL,
      ((ctrl & ~(R.E1000_CTRL_FRCSPD | R.E1000_CTRL_FRCDPX | R.E1000_CTRL_ASDE)) | R.E1000_CTRL_SLU) >>> 0,
    );
  }

  /** §4.6 receive initialization. */
  private initRx(): void {
    const regs = this.regs;
    const { ringSize, poolSize, safe } = this.options;
    // no multicast hash filter entries (promisc decides what arrives); receive address 0 keeps
    // the MAC the NVM loaded
    for (let i = 0; i < R.E1000_MTA_COUNT; i++) regs.write32(R.E1000_MTA + i * 4, 0);
    const pool = new Mempool({ allocator: this.access.dma, entries: poolSize, safe });
    this.pool = pool;
    if (pool.bufSize < MAX_FRAME_BYTES) {
      throw new DeviceStateError(`rx buffers of ${pool.bufSize} bytes cannot hold a ${MAX_FRAME_BYTES}-byte frame`);
    }
    const queue = new RxQueue(ringSize, pool, this.access.dma, regs);
    this.rx = queue;
    // ring: base, length in bytes, empty
    const addr = queue.ringAddress;
    regs.write32(R.E1000_RDBAL, addr >>> 0);
    regs.write32(R.E1000_RDBAH, (addr / TWO_POW_32) >>> 0);
    regs.write32(R.E1000_RDLEN, ringSize * R.E1000_DESC_SIZE);
    regs.write32(R.E1000_RDH, 0);
    regs.write32(R.E1000_RDT, 0);
    // write each packet back at once: no receive delay timers (RDTR, RADV 0)
    regs.write32(R.E1000_RDTR, 0);
    regs.write32(R.E1000_RADV, 0);
    // no checksum offload (nothing reads it; QEMU then skips checking every frame's checksums),
    // legacy descriptors (RFCTL.EXTEN clear, see RxQueue)
    regs.write32(R.E1000_RXCSUM, 0);
    this.clearFlags(R.E1000_RFCTL, R.E1000_RFCTL_EXTEN);
    queue.fill();
    // enable: accept broadcasts, 2 KiB buffers (BSIZE 00b, BSEX 0), CRC stripped, no long
    // packets (the card writes at most 1522 bytes: every pool buffer holds that, checked
    // above), no loopback, legacy descriptor type, store no bad packets
    regs.write32(
      R.E1000_RCTL,
      (R.E1000_RCTL_EN | R.E1000_RCTL_BAM | R.E1000_RCTL_BSIZE_2048 | R.E1000_RCTL_SECRC) >>> 0,
    );
    this.setPromisc(this.options.promisc);
    // the ring starts full: every descriptor but one belongs to the device
    regs.write32(R.E1000_RDT, ringSize - 1);
  }

  /** §4.6 transmit initialization. */
  private initTx(): void {
    const regs = this.regs;
    const { ringSize } = this.options;
    const queue = new TxQueue(ringSize, MAX_FRAME_BYTES, this.access.dma, regs);
    this.tx = queue;
    const addr = queue.ringAddress;
    regs.write32(R.E1000_TDBAL, addr >>> 0);
    regs.write32(R.E1000_TDBAH, (addr / TWO_POW_32) >>> 0);
    regs.write32(R.E1000_TDLEN, ringSize * R.E1000_DESC_SIZE);
    regs.write32(R.E1000_TDH, 0);
    regs.write32(R.E1000_TDT, 0);
    regs.write32(R.E1000_TIDV, 0);
    regs.write32(R.E1000_TADV, 0);
    // write-back of each descriptor as it completes (WTHRESH 1, thresholds in descriptors) and
    // bit 22, which the 82574 wants set: Linux's values for this family
    regs.write32(R.E1000_TXDCTL, (R.E1000_TXDCTL_GRAN | R.E1000_TXDCTL_WTHRESH_1 | R.E1000_TXDCTL_COUNT_DESC) >>> 0);
    // queue 0 takes part in transmit arbitration (TARC.ENABLE, set at reset; QEMU sends nothing without it)
    this.setFlags(R.E1000_TARC0, R.E1000_TARC_ENABLE);
    regs.write32(R.E1000_TIPG, TIPG_COPPER);
    // enable, pad short packets, collision parameters for full duplex, retransmit on late collision
    regs.write32(
      R.E1000_TCTL,
      (R.E1000_TCTL_EN |
        R.E1000_TCTL_PSP |
        (TCTL_CT << R.E1000_TCTL_CT_SHIFT) |
        (TCTL_COLD_FD << R.E1000_TCTL_COLD_SHIFT) |
        R.E1000_TCTL_RTLC) >>>
        0,
    );
  }

  /**
   * 802.3x flow control (the FCAL/FCAH/FCT/FCTTV/FCRTL/FCRTH/FCRTV descriptions of §10.2, with
   * Linux's pause time): the PAUSE address and type, the pause time and its refresh, XOFF when
   * the receive packet buffer (PBA's RX part) fills to two maximal frames from its end (RTH in
   * bytes, 8-byte granularity), XON 8 bytes below, and the MAC sending and honouring PAUSE
   * frames (CTRL.TFCE/RFCE). The PHY's auto-negotiated pause abilities are not consulted.
   */
  private initFlowControl(): void {
    const regs = this.regs;
    const rxBufferBytes = (regs.read32(R.E1000_PBA) & 0xffff) * 1024;
    const high = Math.max(0, rxBufferBytes - FC_HEADROOM) & 0xfff8;
    regs.write32(R.E1000_FCAL, R.E1000_FC_ADDR_LOW);
    regs.write32(R.E1000_FCAH, R.E1000_FC_ADDR_HIGH);
    regs.write32(R.E1000_FCT, R.E1000_FC_TYPE);
    regs.write32(R.E1000_FCTTV, FC_PAUSE_TIME);
    regs.write32(R.E1000_FCRTV, FC_PAUSE_TIME >>> 1);
    regs.write32(R.E1000_FCRTL, ((high - 8) | R.E1000_FCRTL_XONE) >>> 0);
    regs.write32(R.E1000_FCRTH, high);
    this.setFlags(R.E1000_CTRL, R.E1000_CTRL_TFCE | R.E1000_CTRL_RFCE);
  }

  /**
   * §7.4 interrupts, set up for MSI-X but left masked: RX queue 0's cause goes to vector 0
   * (IVAR), the cause is cleared and masked again when its message is sent (EIAC: auto-clear
   * of ICR and IMS), pending bits are cleared through IMS (CTRL_EXT.PBA_CLR, MSI-X mode). A
   * poll loop unmasks it (IMS) only while it sleeps: `armRxInterrupt`. Without MSI-X (sysfs)
   * nothing is ever unmasked.
   */
  private initInterrupts(): void {
    this.regs.write32(R.E1000_IVAR, (R.E1000_IVAR_VALID | RX_VECTOR) << R.E1000_IVAR_RXQ0_SHIFT);
    this.regs.write32(R.E1000_EIAC, R.E1000_ICR_RXQ0);
    this.setFlags(R.E1000_CTRL_EXT, R.E1000_CTRL_EXT_PBA_CLR);
  }

  /**
   * Unmasks RX queue 0's interrupt for a sleep; false (and left masked) when a packet is
   * already waiting. A stale cause from packets taken while polling is cleared first (ICR is
   * write-1-to-clear), else the interrupt would fire at once; a packet written back after the
   * first check raises the interrupt, or is seen by the second check.
   */
  armRxInterrupt(): boolean {
    const q = this.rxQueue(0);
    if (q.hasPacket()) return false;
    this.regs.write32(R.E1000_ICR, R.E1000_ICR_RXQ0);
    this.regs.write32(R.E1000_IMS, R.E1000_ICR_RXQ0);
    if (!q.hasPacket()) return true;
    this.regs.write32(R.E1000_IMC, R.E1000_ICR_RXQ0);
    return false;
  }

  /** Masks RX queue 0's interrupt again: the queue is polled. */
  disarmRxInterrupt(): void {
    this.regs.write32(R.E1000_IMC, R.E1000_ICR_RXQ0);
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
    this.regs.write32(offset, (this.regs.read32(offset) | flags) >>> 0);
  }

  private clearFlags(offset: number, flags: number): void {
    this.regs.write32(offset, (this.regs.read32(offset) & ~flags) >>> 0);
  }

  // ---- the packet path ----

  private rxQueue(queue: number): RxQueue {
    if (queue === 0 && this.rx !== null && !this.closed) return this.rx;
    throw this.queueError('rx', queue);
  }

  rxBatch(queue: number, batch: PacketBatch, max: number = batch.capacity): number {
    const q = this.rxPath;
    if (queue !== 0 || q === null || this.closed) throw this.queueError('rx', queue);
    return q.receive(batch, max < batch.capacity ? max : batch.capacity);
  }

  txBatch(queue: number, batch: PacketBatch): number {
    const q = this.txPath;
    if (queue !== 0 || q === null || this.closed) throw this.queueError('tx', queue);
    return q.send(batch);
  }

  private queueError(kind: string, queue: number): DeviceStateError {
    if (this.closed) return new DeviceStateError(`${this.address} is closed`);
    return new DeviceStateError(`${this.address}: no ${kind} queue ${queue} (has 1)`);
  }

  // ---- the rest of IxyDevice ----

  private checkOpen(): void {
    if (this.closed) throw new DeviceStateError(`${this.address} is closed`);
  }

  /**
   * RX queue 0's MSI-X interrupt where the device was opened through VFIO (vector 0 is routed
   * to an eventfd on first use); null without VFIO (sysfs: no interrupt reaches the process).
   */
  rxWakeup(queue: number): Wakeup | null {
    this.rxQueue(queue);
    if (this.access.enableMsix === undefined) return null;
    if (this.wakeup === null) this.wakeup = new RxInterrupt(this, this.access.enableMsix(RX_VECTOR + 1)[RX_VECTOR]);
    return this.wakeup;
  }

  /**
   * §10.2 statistics: 32-bit clear-on-read counters (sticky at 2^32 - 1), added up in JS
   * numbers (exact to 2^53). The octet counters are 64-bit pairs: the low half first, reading
   * the high half clears both.
   */
  readStats(stats: DeviceStats): void {
    this.checkOpen();
    const regs = this.regs;
    stats.rxPackets += regs.read32(R.E1000_GPRC);
    stats.txPackets += regs.read32(R.E1000_GPTC);
    const rxLow = regs.read32(R.E1000_GORCL);
    stats.rxBytes += rxLow + regs.read32(R.E1000_GORCH) * TWO_POW_32;
    const txLow = regs.read32(R.E1000_GOTCL);
    stats.txBytes += txLow + regs.read32(R.E1000_GOTCH) * TWO_POW_32;
    // missed for lack of packet-buffer space; RNBC (no descriptor free) counts frames the
    // FIFO still held, not lost ones
    stats.rxDropped += regs.read32(R.E1000_MPC);
  }

  resetStats(): void {
    this.checkOpen();
    const regs = this.regs;
    for (const r of [
      R.E1000_GPRC,
      R.E1000_GPTC,
      R.E1000_GORCL,
      R.E1000_GORCH,
      R.E1000_GOTCL,
      R.E1000_GOTCH,
      R.E1000_MPC,
      R.E1000_RNBC,
    ])
      regs.read32(r);
  }

  /** RCTL.UPE and RCTL.MPE: every unicast and multicast frame, whatever its address. */
  setPromisc(enabled: boolean): void {
    this.checkOpen();
    const flags = R.E1000_RCTL_UPE | R.E1000_RCTL_MPE;
    if (enabled) this.setFlags(R.E1000_RCTL, flags);
    else this.clearFlags(R.E1000_RCTL, flags);
  }

  /** STATUS.LU and STATUS.SPEED (00b 10, 01b 100, 1xb 1000 Mbit/s). */
  linkSpeed(): number {
    this.checkOpen();
    const status = this.regs.read32(R.E1000_STATUS);
    if ((status & R.E1000_STATUS_LU) === 0) return 0;
    switch (status & R.E1000_STATUS_SPEED_MASK) {
      case R.E1000_STATUS_SPEED_10:
        return 10;
      case R.E1000_STATUS_SPEED_100:
        return 100;
      default:
        return 1000;
    }
  }

  /** Receive address 0: bytes 0..3 in RAL, 4..5 in RAH (host order, §10.2). */
  macAddress(): Uint8Array {
    this.checkOpen();
    const low = this.regs.read32(R.E1000_RAL0);
    const high = this.regs.read32(R.E1000_RAH0);
    return Uint8Array.of(low, low >>> 8, low >>> 16, low >>> 24, high, high >>> 8);
  }

  /**
   * Sets receive address 0 (marked valid, RAH.AV); RAL first, so the pair turns valid last. A
   * multicast or all-zero address is refused (InvalidOptionError) and nothing changes.
   */
  setMacAddress(mac: Uint8Array): void {
    this.checkOpen();
    if (!(mac instanceof Uint8Array) || mac.length !== 6)
      throw new InvalidOptionError(
        `a MAC address has 6 bytes, got ${mac instanceof Uint8Array ? mac.length : typeof mac}`,
        'pass a Uint8Array of 6 bytes',
      );
    if ((mac[0] & 1) !== 0 || mac.every((b) => b === 0))
      throw new InvalidOptionError(
        `${Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':')} is not a unicast address`,
        'a port address is unicast: the lowest bit of the first byte clear, not all zeros',
      );
    const low = (mac[0] | (mac[1] << 8) | (mac[2] << 16) | (mac[3] << 24)) >>> 0;
    const high = (mac[4] | (mac[5] << 8) | R.E1000_RAH_AV) >>> 0;
    this.regs.write32(R.E1000_RAL0, low);
    this.regs.write32(R.E1000_RAH0, high);
  }

  /**
   * Stops DMA before any memory goes back: interrupts masked, receive and transmit off
   * (RCTL.EN, TCTL.EN), master disable and a wait until STATUS says no request is pending,
   * and the 10 ms Linux gives frames in flight. Only then are rings and buffers freed: without
   * an IOMMU a late write would land in memory that has a new owner. If the card does not stop
   * in time, the memory is kept (leaked) rather than freed under it. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const regs = this.regs;
    let stopped = false;
    try {
      this.disableInterrupts();
      this.clearFlags(R.E1000_RCTL, R.E1000_RCTL_EN);
      this.clearFlags(R.E1000_TCTL, R.E1000_TCTL_EN);
      this.setFlags(R.E1000_CTRL, R.E1000_CTRL_GIO_MASTER_DISABLE);
      waitRegister(regs, 'STATUS', R.E1000_STATUS, R.E1000_STATUS_GIO_MASTER_ENABLE, false, MASTER_DISABLE_TIMEOUT_MS);
      sleepMs(QUIESCE_MS);
      stopped = true;
    } finally {
      if (stopped) this.freeQueues();
      else
        process.emitWarning(
          `${this.address}: the card did not stop; its memory is kept, not freed under it`,
          'IxyWarning',
        );
      this.access.release();
    }
  }

  /** Frees both queues and closes the pool, even past one that throws; the first error after. */
  private freeQueues(): void {
    const [rx, tx, pool] = [this.rx, this.tx, this.pool];
    this.rx = null;
    this.tx = null;
    this.pool = null;
    runAll([() => rx?.free(), () => tx?.free(), () => pool?.close()]);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
