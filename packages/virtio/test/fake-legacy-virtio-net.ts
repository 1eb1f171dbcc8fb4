// A small model of a legacy virtio-net device (I/O BAR0 header, split virtqueues read and
// written through simulated DMA memory), for testing the driver without a guest. It follows
// QEMU's behaviour where the tests depend on it: promiscuous by default, MAC filtering when
// promiscuous mode is off, frames dropped when no receive buffer is posted. Driver mistakes
// (addresses outside DMA memory, descriptors of the wrong kind) throw.
import type { DeviceAccess, DeviceIdentity, Registers } from '@ixy/core';
import { SimulatedMemory, type SimulatedRegion } from '@ixy/memory';

interface QueueState {
  size: number;
  pfn: number;
  lastAvail: number;
  usedIdx: number;
}

export interface SeenDescriptor {
  queue: number;
  addr: number;
  len: number;
  flags: number;
}

export class FakeLegacyVirtioNet implements Registers {
  readonly size: number = 0x20;
  offered = 0;
  driverFeatures = 0;
  status = 0;
  readonly statusHistory: number[] = [];
  queueSel = 0;
  readonly queues: QueueState[];
  mac = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56);
  linkUp = true;
  promisc = true;
  peer: { deliver(frame: Uint8Array): void } | null = null;
  /** Notifications per queue. */
  readonly notified = [0, 0, 0];
  /** Set VIRTQ_USED_F_NO_NOTIFY on a queue (as a device busy processing it does). */
  readonly suppress = [false, false, false];
  /** Process a queue when notified (else only in run()). */
  readonly processOnNotify = [true, true, true];
  /** Answer control commands (false: a stuck device). */
  answerControl = true;
  readonly seen: SeenDescriptor[] = [];
  readonly controlLog: string[] = [];
  /** Frames that arrived from the wire, by outcome. */
  received: Uint8Array[] = [];
  filtered = 0;
  dropped = 0;

  constructor(
    readonly mem: SimulatedMemory,
    queueSizes: [number, number, number] = [256, 256, 64],
  ) {
    this.queues = queueSizes.map((size) => ({ size, pfn: 0, lastAvail: 0, usedIdx: 0 }));
    this.stopWatchingFrees = mem.onFree((region) => this.checkFree(region));
    // MAC, STATUS, CTRL_VQ, CTRL_RX, CTRL_MAC_ADDR, ANY_LAYOUT, and two the driver must not take:
    // MRG_RXBUF (15) and EVENT_IDX (29).
    this.offered = (1 << 5) | (1 << 15) | (1 << 16) | (1 << 17) | (1 << 18) | (1 << 23) | (1 << 27) | (1 << 29);
  }

  private readonly stopWatchingFrees: () => void;

  /** Stops checking frees of DMA memory (the test is done with this device). */
  dispose(): void {
    this.stopWatchingFrees();
  }

  /**
   * DMA memory is about to be freed. Until the driver resets the device (status 0, §2.1 /
   * §4.1.4.3.2) the device may still use its rings and the buffers their descriptors point to:
   * freeing them first is the driver bug a card without an IOMMU punishes.
   */
  private checkFree(region: SimulatedRegion): void {
    if (this.status === 0) return;
    const end = region.base + region.bytes.length;
    const inside = (a: number): boolean => a >= region.base && a < end;
    for (let q = 0; q < this.queues.length; q++) {
      if (!this.queueReady(q)) continue;
      const r = this.rings(q);
      let what = inside(r.desc) || inside(r.avail) || inside(r.used) ? 'its rings' : '';
      if (!what) {
        const v = this.view(r.desc, 16 * r.size);
        for (let i = 0; i < r.size && !what; i++)
          if (inside(v.getUint32(16 * i, true) + v.getUint32(16 * i + 4, true) * 2 ** 32))
            what = 'buffers its descriptors point to';
      }
      if (what)
        throw new Error(
          `virtio fake: memory with ${what} (queue ${q}) freed while the device is live (status 0x${this.status.toString(16)}): reset the device first`,
        );
    }
  }

  // ---- DMA helpers ----
  protected bytesAt(addr: number, len: number): { bytes: Uint8Array; at: number } {
    const region = this.mem.find(addr, len);
    if (!region) throw new Error(`device DMA to 0x${addr.toString(16)} (+${len}) outside DMA memory`);
    return { bytes: region.bytes, at: addr - region.base };
  }
  protected view(addr: number, len: number): DataView {
    const { bytes, at } = this.bytesAt(addr, len);
    return new DataView(bytes.buffer, bytes.byteOffset + at, len);
  }
  /** Bytes of struct virtio_net_hdr: 10 on the legacy interface. */
  protected get hdrLen(): number {
    return 10;
  }
  /** Has the driver given queue q its address? */
  protected queueReady(q: number): boolean {
    return this.queues[q].pfn !== 0;
  }
  protected rings(q: number): { desc: number; avail: number; used: number; size: number } {
    const s = this.queues[q];
    if (s.pfn === 0) throw new Error(`queue ${q} used before its address was set`);
    const desc = s.pfn * 4096;
    const avail = desc + 16 * s.size;
    const used = Math.ceil((avail + 6 + 2 * s.size) / 4096) * 4096;
    return { desc, avail, used, size: s.size };
  }
  private readDesc(q: number, id: number): { addr: number; len: number; flags: number; next: number } {
    const r = this.rings(q);
    if (id >= r.size) throw new Error(`queue ${q}: descriptor id ${id} out of range`);
    const v = this.view(r.desc + 16 * id, 16);
    const d = {
      addr: v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32,
      len: v.getUint32(8, true),
      flags: v.getUint16(12, true),
      next: v.getUint16(14, true),
    };
    this.seen.push({ queue: q, addr: d.addr, len: d.len, flags: d.flags });
    return d;
  }
  /** Next available head, or -1. */
  protected popAvail(q: number): number {
    const r = this.rings(q);
    const s = this.queues[q];
    const v = this.view(r.avail, 4 + 2 * r.size);
    if (v.getUint16(2, true) === s.lastAvail) return -1;
    const head = v.getUint16(4 + 2 * (s.lastAvail % r.size), true);
    s.lastAvail = (s.lastAvail + 1) & 0xffff;
    return head;
  }
  protected pushUsed(q: number, id: number, len: number): void {
    const r = this.rings(q);
    const s = this.queues[q];
    const v = this.view(r.used, 4 + 8 * r.size);
    v.setUint32(4 + 8 * (s.usedIdx % r.size), id, true);
    v.setUint32(8 + 8 * (s.usedIdx % r.size), len, true);
    s.usedIdx = (s.usedIdx + 1) & 0xffff;
    v.setUint16(2, s.usedIdx, true);
  }
  protected updateFlags(): void {
    for (let q = 0; q < 3; q++) {
      if (!this.queueReady(q)) continue;
      this.view(this.rings(q).used, 2).setUint16(0, this.suppress[q] ? 1 : 0, true);
    }
  }

  // ---- the device's work ----
  /** Processes every queue (what a device does in the background). */
  run(): void {
    this.process(1);
    this.process(2);
  }

  protected process(q: number): void {
    if (!this.queueReady(q) || (this.status & 4) === 0) return;
    this.updateFlags();
    if (q === 1) {
      for (let head = this.popAvail(1); head >= 0; head = this.popAvail(1)) {
        const parts: Uint8Array[] = [];
        for (let id = head, more = true; more;) {
          const d = this.readDesc(1, id);
          if (d.flags & 2) throw new Error('tx descriptor is device-writable');
          const { bytes, at } = this.bytesAt(d.addr, d.len);
          parts.push(bytes.slice(at, at + d.len));
          more = (d.flags & 1) !== 0;
          id = d.next;
        }
        const all = concat(parts);
        if (all.length < this.hdrLen) throw new Error('tx buffer shorter than the virtio-net header');
        if (all.subarray(0, this.hdrLen).some((b) => b !== 0)) throw new Error('tx virtio-net header is not zeroed');
        this.peer?.deliver(all.slice(this.hdrLen));
        this.pushUsed(1, head, 0);
      }
    } else if (q === 2 && this.answerControl) {
      for (let head = this.popAvail(2); head >= 0; head = this.popAvail(2)) {
        const readable: Uint8Array[] = [];
        let ack = -1;
        for (let id = head, more = true; more;) {
          const d = this.readDesc(2, id);
          const { bytes, at } = this.bytesAt(d.addr, d.len);
          if (d.flags & 2) ack = d.addr;
          else readable.push(bytes.slice(at, at + d.len));
          more = (d.flags & 1) !== 0;
          id = d.next;
        }
        const cmd = concat(readable);
        let ok = true;
        if (cmd[0] === 0 && cmd[1] === 0) this.promisc = cmd[2] === 1;
        else if (cmd[0] === 1 && cmd[1] === 1 && cmd.length === 8) this.mac = cmd.slice(2, 8);
        else ok = false;
        this.controlLog.push(`${cmd[0]}/${cmd[1]}:${Array.from(cmd.slice(2)).join(',')}`);
        if (ack < 0) throw new Error('control command without a writable ack descriptor');
        const { bytes, at } = this.bytesAt(ack, 1);
        bytes[at] = ok ? 0 : 1;
        this.pushUsed(2, head, 1);
      }
    }
  }

  /** A frame arrives from the wire. */
  deliver(frame: Uint8Array): void {
    const broadcast = frame.subarray(0, 6).every((b) => b === 0xff);
    const mine = frame.subarray(0, 6).every((b, i) => b === this.mac[i]);
    if (!this.promisc && !broadcast && !mine) {
      this.filtered++;
      return;
    }
    if (!this.queueReady(0) || (this.status & 4) === 0) {
      this.dropped++;
      return;
    }
    const head = this.popAvail(0);
    if (head < 0) {
      this.dropped++;
      return;
    }
    const d = this.readDesc(0, head);
    if (!(d.flags & 2) || d.flags & 1) throw new Error('rx descriptor must be a single device-writable buffer');
    const hdr = this.hdrLen;
    if (d.len < hdr + frame.length) throw new Error(`rx buffer of ${d.len} bytes too small for ${frame.length}`);
    const { bytes, at } = this.bytesAt(d.addr, hdr + frame.length);
    bytes.fill(0, at, at + hdr);
    bytes.set(frame, at + hdr);
    this.received.push(frame);
    this.pushUsed(0, head, hdr + frame.length);
  }

  // ---- Registers: the legacy header (§4.1.4.10) and the net config after it ----
  private check(offset: number, width: number): void {
    if (offset < 0 || offset + width > this.size || offset % width !== 0)
      throw new Error(`bad ${width}-byte access at ${offset}`);
  }
  read32(offset: number): number {
    this.check(offset, 4);
    if (offset === 0x00) return this.offered >>> 0;
    if (offset === 0x04) return this.driverFeatures >>> 0;
    if (offset === 0x08) return this.queues[this.queueSel]?.pfn ?? 0;
    throw new Error(`read32 of 0x${offset.toString(16)}`);
  }
  write32(offset: number, value: number): void {
    this.check(offset, 4);
    if (offset === 0x04) this.driverFeatures = value >>> 0;
    else if (offset === 0x08) {
      if (!this.queues[this.queueSel]) throw new Error(`queue address for missing queue ${this.queueSel}`);
      this.queues[this.queueSel].pfn = value >>> 0;
    } else throw new Error(`write32 of 0x${offset.toString(16)}`);
  }
  read16(offset: number): number {
    this.check(offset, 2);
    if (offset === 0x0c) return this.queues[this.queueSel]?.size ?? 0;
    if (offset === 0x0e) return this.queueSel;
    if (offset === 0x14 + 6) return this.linkUp ? 1 : 0;
    throw new Error(`read16 of 0x${offset.toString(16)}`);
  }
  write16(offset: number, value: number): void {
    this.check(offset, 2);
    if (offset === 0x0e) this.queueSel = value;
    else if (offset === 0x10) {
      this.notified[value]++;
      if (this.processOnNotify[value]) this.process(value);
    } else throw new Error(`write16 of 0x${offset.toString(16)}`);
  }
  read8(offset: number): number {
    this.check(offset, 1);
    if (offset === 0x12) return this.status;
    if (offset >= 0x14 && offset < 0x1a) return this.mac[offset - 0x14];
    throw new Error(`read8 of 0x${offset.toString(16)}`);
  }
  write8(offset: number, value: number): void {
    this.check(offset, 1);
    if (offset === 0x12) {
      this.status = value;
      this.statusHistory.push(value);
      if (value === 0) {
        for (const q of this.queues) Object.assign(q, { pfn: 0, lastAvail: 0, usedIdx: 0 });
        this.driverFeatures = 0;
      }
      if (value & 4) this.updateFlags();
    } else if (offset >= 0x14 && offset < 0x1a) this.mac[offset - 0x14] = value;
    else throw new Error(`write8 of 0x${offset.toString(16)}`);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A DeviceAccess for the model: no capabilities in config space, BAR0 = the model. */
export class FakeAccess implements DeviceAccess {
  readonly identity: DeviceIdentity;
  claimed = false;
  released = false;

  constructor(
    readonly device: FakeLegacyVirtioNet,
    readonly dma: SimulatedMemory,
    address = 'fake:0',
  ) {
    this.identity = { address, bus: 'fake', vendorId: 0x1af4, deviceId: 0x1000, classCode: 0x020000 };
  }
  claim(): void {
    this.claimed = true;
  }
  registers(bar: number): Registers {
    if (bar !== 0) throw new Error(`the legacy model has only BAR 0, not ${bar}`);
    return this.device;
  }
  readConfig(_offset: number, _width: 1 | 2 | 4): number {
    return 0; // no capability list: legacy only
  }
  release(): void {
    this.released = true;
    this.device.dispose();
  }
}
