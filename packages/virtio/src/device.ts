import {
  DeviceStateError,
  FrameSizeError,
  IxyError,
  OwnershipError,
  checkMacAddress,
  type DeviceAccess,
  type DeviceStats,
  type DmaRegion,
  type IxyDevice,
  type PacketBatch,
  type Wakeup,
} from '@ixy/core';
import { BUFFER_APP, BUFFER_DRIVER, INDEX_MASK, Mempool } from '@ixy/memory';
import {
  NET_CFG_MAC,
  NET_HDR_LEN_LEGACY,
  NET_HDR_LEN_MODERN,
  NET_CFG_SPEED,
  NET_CFG_STATUS,
  RX_QUEUE,
  TX_QUEUE,
  VIRTIO_NET_CTRL_MAC,
  VIRTIO_NET_CTRL_MAC_ADDR_SET,
  VIRTIO_NET_CTRL_RX,
  VIRTIO_NET_CTRL_RX_PROMISC,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_SPEED_DUPLEX,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_S_LINK_UP,
  VIRTIO_NET_SPEED_UNKNOWN,
  VIRTQ_DESC_F_WRITE,
} from './constants.js';
import type { ControlQueue } from './control-queue.js';
import type { FeatureSet } from './features.js';
import type { VirtioTransport } from './transport.js';
import type { Virtqueue } from './virtqueue.js';
import { VirtqueueWakeup } from './wakeup.js';

/** Bytes a frame's FCS adds on the wire, counted in the byte counters as the cards count it. */
const FCS_BYTES = 4;
// module-local copies: optimised code folds them (imported bindings are cells it loads); the
// pool lookup likewise, called without loading the imported class (see the ixgbe TX queue)
const DRIVER = BUFFER_DRIVER;
const APP = BUFFER_APP;
const poolOf = Mempool.of;

/** Link speed reported when the device does not tell one (virtio has no physical link). */
export const DEFAULT_LINK_SPEED = 1000;

/** Everything a VirtioNetDevice is made of; `openVirtio` builds it. */
export interface VirtioNetParts {
  readonly access: DeviceAccess;
  readonly transport: VirtioTransport;
  readonly features: FeatureSet;
  /** Bytes of struct virtio_net_hdr before each packet: 10 (legacy) or 12 (modern). */
  readonly hdrLen: number;
  readonly rx: Virtqueue;
  readonly tx: Virtqueue;
  readonly ctrl: ControlQueue | undefined;
  readonly rxPool: Mempool;
  /** The DMA region holding the rings and the control buffer. */
  readonly rings: DmaRegion;
  /** The eventfd the receive queue's MSI-X vector signals; absent: no interrupts. */
  readonly rxEventfd?: number;
  /** Why the receive queue has no interrupt (when `rxEventfd` is absent). */
  readonly noInterruptReason?: string;
}

/**
 * A virtio-net device (§5.1 Network Device) in poll mode: one receive queue, one transmit
 * queue, and the control queue when the device has one.
 *
 * Packets carry their virtio-net header in the buffer's headroom: a buffer is given to the
 * device at its data address minus the header length, so the frame itself starts where the
 * mempool says its data starts and no byte is copied.
 */
export class VirtioNetDevice implements IxyDevice {
  readonly driverName = 'virtio';
  readonly rxQueueCount = 1;
  readonly txQueueCount = 1;
  readonly address: string;
  /** 'legacy' or 'modern'. */
  readonly interfaceKind: 'legacy' | 'modern';
  /** Negotiated features. */
  readonly features: FeatureSet;
  readonly hdrLen: number;
  /** Largest frame this port sends or receives: the receive buffers' size. */
  readonly maxFrameSize: number;
  /** Descriptors in use per ring (`ringSize`), and the queue sizes the device was given. */
  readonly ringSize: number;
  readonly queueSizes: { readonly rx: number; readonly tx: number };
  /** The mempool receive buffers come from (`rxPool(0)`). */
  private readonly pool: Mempool;
  /**
   * 'msix': the receive queue raises an MSI-X vector into an eventfd while a poller sleeps
   * (modern virtio opened through VFIO); 'none': it cannot wake a sleeper, `interruptNote`
   * says why.
   */
  readonly rxInterrupt: 'msix' | 'none';
  readonly interruptNote: string;

  private readonly access: DeviceAccess;
  private readonly transport: VirtioTransport;
  private readonly rx: Virtqueue;
  private readonly tx: Virtqueue;
  private readonly ctrl: ControlQueue | undefined;
  private readonly rings: DmaRegion;
  private readonly wakeup: VirtqueueWakeup | null;
  /** 16-bit views of the mempools sent packets come from, by pool id (for zeroing headers). */
  private readonly hdrWords: Uint16Array[] = [];
  private readonly hdrPools: (Mempool | undefined)[] = [];
  /** Descriptor length of a receive buffer: header plus data. */
  private readonly rxDescLen: number;
  private promisc = false;
  private closed = false;
  /** Notifications sent to the device (available buffer notifications, §2.7.10). */
  private rxNotifies = 0;
  private txNotifies = 0;

  // Counts since the last readStats (software counters: virtio has no statistics registers).
  // Sent frames count when the device has used them, as a card's counters count what left the
  // port: a frame still in the TX ring is not sent, and a reset (close) discards it.
  private rxPackets = 0;
  private rxBytes = 0;
  private txPackets = 0;
  private txBytes = 0;

  constructor(parts: VirtioNetParts) {
    this.access = parts.access;
    this.address = parts.access.identity.address;
    this.transport = parts.transport;
    this.interfaceKind = parts.transport.kind;
    this.features = parts.features;
    this.hdrLen = parts.hdrLen;
    this.rx = parts.rx;
    this.tx = parts.tx;
    this.ctrl = parts.ctrl;
    this.pool = parts.rxPool;
    this.rings = parts.rings;
    if (this.hdrLen !== NET_HDR_LEN_LEGACY && this.hdrLen !== NET_HDR_LEN_MODERN) {
      throw new RangeError(`the virtio-net header is 10 or 12 bytes, not ${this.hdrLen}`);
    }
    if (this.pool.headroom < this.hdrLen) {
      throw new RangeError(
        `the receive mempool's headroom (${this.pool.headroom}) is smaller than the virtio-net header`,
      );
    }
    this.maxFrameSize = this.pool.bufSize;
    this.ringSize = this.rx.usable;
    this.queueSizes = { rx: this.rx.size, tx: this.tx.size };
    this.rxDescLen = this.pool.bufSize + this.hdrLen;
    this.wakeup = parts.rxEventfd === undefined ? null : new VirtqueueWakeup(this.rx, parts.rxEventfd);
    this.rxInterrupt = this.wakeup ? 'msix' : 'none';
    this.interruptNote = this.wakeup
      ? `receive queue: MSI-X vector 0 into eventfd ${parts.rxEventfd}`
      : (parts.noInterruptReason ?? 'no interrupts');
  }

  /** Is promiscuous mode on (as last set through the control queue)? */
  get promiscuous(): boolean {
    return this.promisc;
  }

  // ---------------------------------------------------------------- receive

  /**
   * Takes the packets the device has put in the used ring (§2.7.14 Receiving Used Buffers;
   * §5.1.6.4 Processing of Incoming Packets), then refills the ring from the mempool.
   */
  /** The mempool receive queue 0 receives into (IxyDevice.rxPool). */
  rxPool(queue: number): Mempool {
    if (queue !== 0 || this.closed) this.badQueue('rx', queue);
    return this.pool;
  }

  rxBatch(queue: number, batch: PacketBatch, max: number = batch.capacity): number {
    if (queue !== 0 || this.closed) this.badQueue('rx', queue);
    const vq = this.rx;
    const pool = this.pool;
    const lengths = pool.length;
    const bufs = vq.bufs;
    const handles = batch.handles;
    const hdr = this.hdrLen;
    const limit = max < batch.capacity ? max : batch.capacity;
    const usedIdx = vq.usedIdx();
    const safe = pool.safe === true;
    const owner = pool.owner;
    let bad = -1;
    let last = vq.lastUsed;
    let n = 0;
    let bytes = 0;
    while (last !== usedIdx && n < limit) {
      const id = vq.usedId(last);
      const written = vq.usedLen(last);
      last = (last + 1) & 0xffff;
      const h = bufs[id];
      vq.freeDesc(id);
      const x = h & INDEX_MASK;
      const len = written > hdr ? written - hdr : 0;
      lengths[x] = len;
      if (safe) {
        // the pool's side → the application's (see Mempool.owner); a buffer the application
        // holds is reported once the used ring is consumed and refilled (a throw here would
        // leave descriptors freed but not consumed)
        if (owner[x] === APP && bad < 0) bad = n;
        owner[x] = APP;
      }
      handles[n++] = h;
      bytes += len;
    }
    vq.lastUsed = last;
    batch.length = n;
    this.rxPackets += n;
    this.rxBytes += bytes + n * FCS_BYTES;
    this.refillRx();
    if (bad >= 0) throw pool.ownershipError(handles[bad], DRIVER, 'receive', APP, APP);
    return n;
  }

  /** Posts a fresh buffer in every free receive descriptor (§5.1.6.3 Setting Up Receive Buffers). */
  refillRx(): void {
    const vq = this.rx;
    const pool = this.pool;
    const phys = pool.physAddr;
    const hdr = this.hdrLen;
    const descLen = this.rxDescLen;
    let added = 0;
    while (vq.freeCount > 0) {
      const h = pool.driverAlloc();
      if (h < 0) break;
      const id = vq.allocDesc();
      vq.setDesc(id, phys[h & INDEX_MASK] - hdr, descLen, VIRTQ_DESC_F_WRITE);
      vq.bufs[id] = h;
      vq.pushAvail(id);
      added++;
    }
    if (added > 0) {
      vq.publish();
      if (vq.needsNotify()) {
        this.transport.notify(RX_QUEUE);
        this.rxNotifies++;
      }
    }
  }

  // --------------------------------------------------------------- transmit

  /**
   * Reclaims the buffers the device has finished with, then queues as many of the batch's
   * packets as there are free descriptors (§5.1.6.1 Packet Transmission), with a zeroed
   * virtio-net header in each buffer's headroom (no offloads requested). Notifies the device
   * only when it has not suppressed notifications.
   *
   * Throws, taking no packet of the batch (the IxyDevice contract): FrameSizeError when a
   * frame is empty, larger than its buffer or larger than `maxFrameSize` (checked before any
   * packet is taken); OwnershipError for a handle of no mempool, and in safe mode for a packet
   * the caller does not own (the transfer throws; the packets before it are given back and
   * their descriptors freed, with nothing published to the device).
   */
  txBatch(queue: number, batch: PacketBatch): number {
    if (queue !== 0 || this.closed) this.badQueue('tx', queue);
    const vq = this.tx;
    this.reclaimTx();
    const handles = batch.handles;
    const count = batch.length;
    const free = vq.freeCount;
    const n = free < count ? free : count;
    const hdr = this.hdrLen;
    const max = this.maxFrameSize;
    // Check first, so that a bad frame leaves every packet with the caller.
    for (let i = 0; i < n; i++) {
      const h = handles[i];
      const pool = poolOf(h);
      if (pool === undefined) this.foreignHandle(h);
      const len = pool.length[h & INDEX_MASK];
      if (len === 0 || len > max || len > pool.bufSize || pool.headroom < hdr) this.badFrame(i, h, pool, len);
    }
    const bufs = vq.bufs;
    const firstAvail = vq.availIdx;
    for (let i = 0; i < n; i++) {
      const h = handles[i];
      const pool = poolOf(h);
      const index = h & INDEX_MASK;
      const len = pool.length[index];
      if (pool.safe) this.takeOrUndo(pool, h, i, handles, firstAvail);
      // Zero the header as 16-bit words (a byte loop costs twice as much per packet).
      const words = this.hdrPools[pool.id] === pool ? this.hdrWords[pool.id] : this.wordsOf(pool);
      const w = (index * pool.entrySize + pool.headroom - hdr) >>> 1;
      words[w] = 0; // flags, gso_type
      words[w + 1] = 0; // hdr_len
      words[w + 2] = 0; // gso_size
      words[w + 3] = 0; // csum_start
      words[w + 4] = 0; // csum_offset
      if (hdr === 12) words[w + 5] = 0; // num_buffers (modern)
      const id = vq.allocDesc();
      vq.setDesc(id, pool.physAddr[index] - hdr, len + hdr, 0);
      bufs[id] = h;
      vq.pushAvail(id);
    }
    if (n > 0) {
      vq.publish();
      if (vq.needsNotify()) {
        this.transport.notify(TX_QUEUE);
        this.txNotifies++;
      }
    }
    return n;
  }

  /**
   * Safe mode: the transfer of packet `i` to the driver, or, when it throws (the caller does
   * not own the packet), the undoing of packets 0..i-1: back to the caller, their descriptors
   * freed and the avail ring's shadow index rewound (nothing was published), then the error.
   */
  private takeOrUndo(pool: Mempool, h: number, i: number, handles: Uint32Array, firstAvail: number): void {
    try {
      pool.driverTake(h);
    } catch (err) {
      const vq = this.tx;
      for (let k = 0; k < i; k++) {
        vq.freeDesc(vq.avail[2 + ((firstAvail + k) & vq.mask)]);
        Mempool.of(handles[k]).driverGive(handles[k]);
      }
      vq.availIdx = firstAvail;
      if (err instanceof Error) err.message += ` (packet ${i} of the batch; none of the batch was taken)`;
      throw err;
    }
  }

  /** A 16-bit view of a mempool's memory, cached by pool id (recreated when an id is reused). */
  private wordsOf(pool: Mempool): Uint16Array {
    const b = pool.bytes;
    const words = new Uint16Array(b.buffer, b.byteOffset, b.byteLength >>> 1);
    this.hdrWords[pool.id] = words;
    this.hdrPools[pool.id] = pool;
    return words;
  }

  /**
   * Frees every buffer the device has sent since the last call, in one pass over the used ring,
   * and counts those frames as sent.
   */
  reclaimTx(): void {
    const vq = this.tx;
    const usedIdx = vq.usedIdx();
    let last = vq.lastUsed;
    if (last === usedIdx) return;
    const bufs = vq.bufs;
    while (last !== usedIdx) {
      const id = vq.usedId(last);
      last = (last + 1) & 0xffff;
      const h = bufs[id];
      const pool = Mempool.of(h);
      // the entry is consumed and counted before the free, which throws in safe mode for a
      // buffer the application holds: the error then leaves the ring consistent
      vq.lastUsed = last;
      vq.freeDesc(id);
      this.txPackets++;
      this.txBytes += pool.length[h & INDEX_MASK] + FCS_BYTES;
      pool.driverFree(h);
    }
  }

  /** How often the driver notified the device of new receive and transmit buffers. */
  get notifications(): { rx: number; tx: number } {
    return { rx: this.rxNotifies, tx: this.txNotifies };
  }

  /**
   * Packets queued for sending that the driver has not yet reclaimed: the device may have sent
   * some since the last `txBatch` or `readStats`, which reclaim them.
   */
  get txInFlight(): number {
    return this.tx.inFlight;
  }

  // ------------------------------------------------------------- statistics

  /**
   * The receive queue's MSI-X interrupt as a Wakeup (its eventfd; notifications on between
   * `arm` and `disarm`, §2.7.7) when the device is modern virtio opened through VFIO. Null
   * otherwise: legacy virtio (this driver maps no vectors there), a device opened through
   * sysfs (no way to receive interrupts), or a device that refused the vector; the poll loop
   * then backs off with short sleeps. `interruptNote` says which.
   */
  rxWakeup(queue: number): Wakeup | null {
    if (queue !== 0 || this.closed) this.badQueue('rx', queue);
    return this.wakeup;
  }

  readStats(stats: DeviceStats): void {
    this.checkOpen();
    this.reclaimTx(); // what the device sent since the last send counts now
    stats.rxPackets += this.rxPackets;
    stats.rxBytes += this.rxBytes;
    stats.txPackets += this.txPackets;
    stats.txBytes += this.txBytes;
    // not resetStats(): its reclaim would count and then discard frames the device finished
    // with since the one above (it works on its own thread), and they would never be reported
    this.clearCounts();
  }

  resetStats(): void {
    this.checkOpen();
    this.reclaimTx(); // frames the device sent before now are discarded with the rest
    this.clearCounts();
  }

  private clearCounts(): void {
    this.rxPackets = 0;
    this.rxBytes = 0;
    this.txPackets = 0;
    this.txBytes = 0;
  }

  // ------------------------------------------------------------ link, MAC

  /** Link state: VIRTIO_NET_S_LINK_UP when STATUS was negotiated, else always up (§5.1.4). */
  linkUp(): boolean {
    this.checkOpen();
    if (!this.features.has(VIRTIO_NET_F_STATUS)) return true;
    return (this.transport.readConfig16(NET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP) !== 0;
  }

  /**
   * 0 when the link is down; else the device's `speed` field when SPEED_DUPLEX was negotiated
   * and the device knows it, else 1000 Mbit/s (a virtual link has no speed; ixy reports 1000).
   */
  linkSpeed(): number {
    if (!this.linkUp()) return 0;
    if (this.features.has(VIRTIO_NET_F_SPEED_DUPLEX)) {
      const speed = this.transport.readConfig32(NET_CFG_SPEED) >>> 0;
      if (speed !== 0 && speed !== VIRTIO_NET_SPEED_UNKNOWN) return speed;
    }
    return DEFAULT_LINK_SPEED;
  }

  macAddress(): Uint8Array {
    this.checkOpen();
    const mac = new Uint8Array(6);
    // Read until config_generation is stable (§2.5.1), so the six bytes belong together.
    for (let attempt = 0; attempt < 16; attempt++) {
      const before = this.transport.configGeneration();
      for (let i = 0; i < 6; i++) mac[i] = this.transport.readConfig8(NET_CFG_MAC + i);
      if (this.transport.configGeneration() === before) break;
    }
    return mac;
  }

  /**
   * Through the control queue (VIRTIO_NET_CTRL_MAC_ADDR_SET, §5.1.6.5.2) when CTRL_MAC_ADDR was
   * negotiated; on a legacy device without it, by writing the config's `mac` field, which the
   * legacy interface allows.
   */
  setMacAddress(mac: Uint8Array): void {
    this.checkOpen();
    checkMacAddress(mac);
    if (this.ctrl && this.features.has(VIRTIO_NET_F_CTRL_MAC_ADDR)) {
      this.ctrl.send(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, 'set MAC address');
    } else if (this.interfaceKind === 'legacy') {
      for (let i = 0; i < 6; i++) this.transport.writeConfig8(NET_CFG_MAC + i, mac[i]);
    } else {
      throw new DeviceStateError(
        `${this.address}: the device does not offer VIRTIO_NET_F_CTRL_MAC_ADDR, so its MAC address cannot be changed`,
      );
    }
  }

  /** VIRTIO_NET_CTRL_RX_PROMISC through the control queue; waits for the device's ack. */
  setPromisc(enabled: boolean): void {
    this.checkOpen();
    if (!this.ctrl || !this.features.has(VIRTIO_NET_F_CTRL_RX)) {
      throw new DeviceStateError(
        `${this.address}: the device does not offer VIRTIO_NET_F_CTRL_RX, so promiscuous mode cannot be changed`,
      );
    }
    this.ctrl.send(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, [enabled ? 1 : 0], 'set promiscuous mode');
    this.promisc = enabled;
  }

  // -------------------------------------------------------------- lifecycle

  /**
   * Resets the device (it stops using the rings and buffers), frees the packets still queued
   * for sending, and releases the rings, the receive mempool and the registers. Packets
   * received from this device must be freed before: their mempool goes away.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.wakeup) this.wakeup.closed = true;
    // §4.1.4.3.2: reset first (the device then no longer touches the rings or buffers), then
    // give every buffer back and free the memory
    try {
      this.transport.reset();
    } finally {
      for (const id of this.tx.inFlightIds()) {
        const h = this.tx.bufs[id];
        Mempool.of(h)?.driverFree(h);
      }
      // the receive buffers still posted: back to their pool, which is released once all are back
      for (const id of this.rx.inFlightIds()) this.pool.driverFree(this.rx.bufs[id]);
      this.pool.close();
      this.rings.free();
      this.access.release();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // ------------------------------------------------- errors (off the hot path)

  private checkOpen(): void {
    if (this.closed) throw new DeviceStateError(`${this.address} is closed`);
  }

  private badQueue(kind: string, queue: number): never {
    this.checkOpen();
    throw new DeviceStateError(
      `${this.address}: there is no ${kind} queue ${queue}`,
      'virtio-net is driven with one RX and one TX queue: use queue 0',
    );
  }

  private foreignHandle(h: number): never {
    throw new OwnershipError(
      `tx: handle 0x${(h >>> 0).toString(16)} belongs to no mempool (none of the batch was taken)`,
    );
  }

  private badFrame(i: number, h: number, pool: Mempool, len: number): never {
    if (pool.headroom < this.hdrLen) {
      throw new IxyError(
        'EHEADROOM',
        `tx: packet ${i} comes from a mempool with ${pool.headroom} bytes of headroom; virtio-net needs ${this.hdrLen} for its header`,
        'create mempools with the default headroom (128 bytes)',
      );
    }
    throw new FrameSizeError(
      len === 0
        ? `tx: packet ${i} (handle 0x${(h >>> 0).toString(16)}) is empty`
        : `tx: packet ${i} is ${len} bytes, larger than ${len > pool.bufSize ? `its ${pool.bufSize}-byte buffer` : `this port's ${this.maxFrameSize}-byte frame limit`}`,
      `frames must be 1..${Math.min(this.maxFrameSize, pool.bufSize)} bytes; no packet of the batch was taken`,
    );
  }
}
