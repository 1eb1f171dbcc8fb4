// A small model of a modern (virtio 1.x) virtio-net device: the vendor capabilities in config
// space (§4.1.4), the common configuration, notification and device structures in one memory
// BAR, and MSI-X as QEMU does it (§4.1.5.1.2): vectors beyond the table read back as
// VIRTIO_MSI_NO_VECTOR, and a queue raises its vector when the device adds a used buffer while
// the driver has not set VIRTQ_AVAIL_F_NO_INTERRUPT (checked at that moment, §2.7.7).
// Queues, packets and the control queue work as in the legacy model it extends.
import { closeSync, writeSync } from 'node:fs';
import type { DeviceAccess, DeviceIdentity, Registers } from '@ixy/core';
import type { SimulatedMemory } from '@ixy/memory';
import { nativeVfio } from '@ixy/pci';
import { FakeLegacyVirtioNet } from './fake-legacy-virtio-net.js';

const NO_VECTOR = 0xffff;
/** Where the structures lie in BAR 4 (as on QEMU: one structure per 4 KiB page). */
const COMMON = 0x0000;
const ISR = 0x1000;
const DEVICE = 0x2000;
const NOTIFY = 0x3000;
const NOTIFY_MULTIPLIER = 4;
const BAR = 4;

interface ModernQueue {
  max: number;
  desc: number;
  avail: number;
  used: number;
  enabled: boolean;
  vector: number;
}

export class FakeModernVirtioNet extends FakeLegacyVirtioNet {
  override readonly size = 0x4000;
  /** Feature bits 32..63 offered: VERSION_1 (32). */
  offeredHi = 1;
  driverFeaturesHi = 0;
  private deviceFeatureSel = 0;
  private driverFeatureSel = 0;
  readonly modern: ModernQueue[];
  configVector = NO_VECTOR;
  /** MSI-X table size (QEMU's virtio-net: 2 × queue pairs + 2). */
  msixTableSize = 4;
  /** MSI-X enable bit of the capability (the access sets it when vectors are bound). */
  msixEnabled = false;
  /** Interrupts raised, per vector, and what raising one does (the access signals an eventfd). */
  readonly interrupts: number[] = [0, 0, 0, 0];
  onInterrupt: ((vector: number) => void) | undefined;
  /** Writes of queue_msix_vector, as [queue, vector]. */
  readonly vectorWrites: [number, number][] = [];
  /** Answer DRIVER_OK with DEVICE_NEEDS_RESET (a device that fails late in the set-up). */
  failDriverOk = false;

  constructor(mem: SimulatedMemory, queueSizes: [number, number, number] = [256, 256, 64]) {
    super(mem, queueSizes);
    this.modern = queueSizes.map((max) => ({ max, desc: 0, avail: 0, used: 0, enabled: false, vector: NO_VECTOR }));
    // MAC, STATUS, CTRL_VQ, CTRL_RX, CTRL_MAC_ADDR, and EVENT_IDX (29), which the driver leaves
    this.offered = (1 << 5) | (1 << 16) | (1 << 17) | (1 << 18) | (1 << 23) | (1 << 29);
  }

  protected override get hdrLen(): number {
    return 12;
  }

  protected override queueReady(q: number): boolean {
    const m = this.modern?.[q];
    return m !== undefined && m.enabled && m.desc !== 0;
  }

  protected override rings(q: number): { desc: number; avail: number; used: number; size: number } {
    const m = this.modern[q];
    if (!this.queueReady(q)) throw new Error(`queue ${q} used before it was enabled`);
    return { desc: m.desc, avail: m.avail, used: m.used, size: this.queues[q].size };
  }

  /** The driver's avail ring flags (VIRTQ_AVAIL_F_NO_INTERRUPT = 1). */
  availFlags(q: number): number {
    return this.view(this.rings(q).avail, 2).getUint16(0, true);
  }

  protected override pushUsed(q: number, id: number, len: number): void {
    super.pushUsed(q, id, len);
    const vector = this.modern[q].vector;
    if (vector !== NO_VECTOR && this.msixEnabled && (this.availFlags(q) & 1) === 0) {
      this.interrupts[vector]++;
      this.onInterrupt?.(vector);
    }
  }

  private reset(): void {
    this.modern.forEach((m, q) => {
      Object.assign(m, { desc: 0, avail: 0, used: 0, enabled: false, vector: NO_VECTOR });
      Object.assign(this.queues[q], { size: m.max, lastAvail: 0, usedIdx: 0 });
    });
    this.driverFeatures = 0;
    this.driverFeaturesHi = 0;
    this.configVector = NO_VECTOR;
  }

  private vector(value: number): number {
    return value < this.msixTableSize ? value : NO_VECTOR;
  }

  private common(offset: number, width: number): number {
    if (offset < COMMON || offset + width > COMMON + 0x38 || offset % width !== 0)
      throw new Error(`bad ${width}-byte access at 0x${offset.toString(16)}`);
    return offset - COMMON;
  }

  override read32(offset: number): number {
    const at = this.common(offset, 4);
    if (at === 0x04)
      return (this.deviceFeatureSel === 0 ? this.offered : this.deviceFeatureSel === 1 ? this.offeredHi : 0) >>> 0;
    if (at === 0x0c) return (this.driverFeatureSel === 0 ? this.driverFeatures : this.driverFeaturesHi) >>> 0;
    throw new Error(`read32 of common 0x${at.toString(16)}`);
  }

  override write32(offset: number, value: number): void {
    const at = this.common(offset, 4);
    const m = this.modern[this.queueSel];
    if (at === 0x00) this.deviceFeatureSel = value;
    else if (at === 0x08) this.driverFeatureSel = value;
    else if (at === 0x0c) {
      if (this.driverFeatureSel === 0) this.driverFeatures = value >>> 0;
      else this.driverFeaturesHi = value >>> 0;
    } else if (at >= 0x20 && at < 0x38) {
      if (!m) throw new Error(`queue address for missing queue ${this.queueSel}`);
      const field = (['desc', 'avail', 'used'] as const)[(at - 0x20) >> 3];
      const hi = (at & 4) !== 0;
      m[field] = hi ? (m[field] % 2 ** 32) + (value >>> 0) * 2 ** 32 : m[field] - (m[field] % 2 ** 32) + (value >>> 0);
    } else throw new Error(`write32 of common 0x${at.toString(16)}`);
  }

  override read16(offset: number): number {
    if (offset >= DEVICE) {
      if (offset === DEVICE + 6) return this.linkUp ? 1 : 0;
      throw new Error(`read16 of device config 0x${(offset - DEVICE).toString(16)}`);
    }
    const at = this.common(offset, 2);
    const m = this.modern[this.queueSel];
    switch (at) {
      case 0x10:
        return this.configVector;
      case 0x12:
        return this.modern.length;
      case 0x16:
        return this.queueSel;
      case 0x18:
        return m ? this.queues[this.queueSel].size : 0;
      case 0x1a:
        return m ? m.vector : NO_VECTOR;
      case 0x1c:
        return m?.enabled ? 1 : 0;
      case 0x1e:
        return this.queueSel; // queue_notify_off
    }
    throw new Error(`read16 of common 0x${at.toString(16)}`);
  }

  override write16(offset: number, value: number): void {
    if (offset >= NOTIFY) {
      const q = (offset - NOTIFY) / NOTIFY_MULTIPLIER;
      if (q !== value) throw new Error(`notification of queue ${value} at the address of queue ${q}`);
      this.notified[q]++;
      if (this.processOnNotify[q]) this.process(q);
      return;
    }
    const at = this.common(offset, 2);
    const m = this.modern[this.queueSel];
    if (at === 0x10) this.configVector = this.vector(value);
    else if (at === 0x16) this.queueSel = value;
    else if (at === 0x18) {
      if (!m || value > m.max || (value & (value - 1)) !== 0)
        throw new Error(`queue size ${value} for queue ${this.queueSel}`);
      this.queues[this.queueSel].size = value;
    } else if (at === 0x1a) {
      if (!m) throw new Error(`queue_msix_vector of missing queue ${this.queueSel}`);
      if (m.enabled) throw new Error(`queue_msix_vector of queue ${this.queueSel} written after queue_enable`);
      this.vectorWrites.push([this.queueSel, value]);
      m.vector = this.vector(value);
    } else if (at === 0x1c) {
      if (!m || value !== 1) throw new Error(`queue_enable ${value} for queue ${this.queueSel}`);
      m.enabled = true;
    } else throw new Error(`write16 of common 0x${at.toString(16)}`);
  }

  override read8(offset: number): number {
    if (offset >= DEVICE && offset < DEVICE + 6) return this.mac[offset - DEVICE];
    if (offset === ISR) return 0;
    const at = this.common(offset, 1);
    if (at === 0x14) return this.status;
    if (at === 0x15) return 0; // config_generation
    throw new Error(`read8 of common 0x${at.toString(16)}`);
  }

  override write8(offset: number, value: number): void {
    const at = this.common(offset, 1);
    if (at !== 0x14) throw new Error(`write8 of common 0x${at.toString(16)}`);
    this.status = value;
    this.statusHistory.push(value);
    if (value === 0) this.reset();
    if (value & 4 && this.failDriverOk) this.status |= 64;
    if (value & 4) this.updateFlags();
  }
}

/** Config space with the vendor capabilities (and MSI-X) pointing into BAR 4. */
function configSpace(model: FakeModernVirtioNet): (offset: number, width: 1 | 2 | 4) => number {
  const cfg = new DataView(new ArrayBuffer(256));
  cfg.setUint16(0x00, 0x1af4, true);
  cfg.setUint16(0x02, 0x1041, true);
  cfg.setUint16(0x06, 1 << 4, true); // capability list
  cfg.setUint8(0x34, 0x40);
  const caps: [number, number, number, number][] = [
    // [cfg_type, offset, length, at]
    [1, COMMON, 0x38, 0x40],
    [2, NOTIFY, 0x1000, 0x50],
    [3, ISR, 1, 0x68],
    [4, DEVICE, 0x14, 0x78],
  ];
  caps.forEach(([type, offset, length, at], i) => {
    cfg.setUint8(at, 0x09);
    cfg.setUint8(at + 1, i + 1 < caps.length ? caps[i + 1][3] : 0x88);
    cfg.setUint8(at + 2, type === 2 ? 20 : 16);
    cfg.setUint8(at + 3, type);
    cfg.setUint8(at + 4, BAR);
    cfg.setUint32(at + 8, offset, true);
    cfg.setUint32(at + 12, length, true);
    if (type === 2) cfg.setUint32(at + 16, NOTIFY_MULTIPLIER, true);
  });
  cfg.setUint8(0x88, 0x11); // MSI-X, last in the list
  return (offset, width) => {
    if (offset === 0x8a && width === 2) return (model.msixTableSize - 1) | (model.msixEnabled ? 1 << 15 : 0);
    return width === 1 ? cfg.getUint8(offset) : width === 2 ? cfg.getUint16(offset, true) : cfg.getUint32(offset, true);
  };
}

/** A DeviceAccess for the modern model as through sysfs: no way to receive interrupts. */
export class FakeModernAccess implements DeviceAccess {
  readonly identity: DeviceIdentity;
  claimed = false;
  released = false;
  private readonly config: (offset: number, width: 1 | 2 | 4) => number;

  constructor(
    readonly device: FakeModernVirtioNet,
    readonly dma: SimulatedMemory,
    address = 'fake:modern',
  ) {
    this.identity = { address, bus: 'fake', vendorId: 0x1af4, deviceId: 0x1041, classCode: 0x020000 };
    this.config = configSpace(device);
  }
  claim(): void {
    this.claimed = true;
  }
  registers(bar: number): Registers {
    if (bar !== BAR) throw new Error(`the modern model has only BAR ${BAR}, not ${bar}`);
    return this.device;
  }
  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.config(offset, width);
  }
  release(): void {
    this.released = true;
    this.device.dispose();
  }
}

/**
 * As through VFIO: `enableMsix` binds vectors to real eventfds (the addon's), which the model
 * signals when it raises a vector, as vfio-pci's interrupt handler does.
 */
export class FakeVfioModernAccess extends FakeModernAccess {
  eventfds: number[] = [];
  /** Make enableMsix fail (as VFIO_DEVICE_SET_IRQS may). */
  failMsix = false;
  readonly msixCalls: string[] = [];

  enableMsix(vectors: number): number[] {
    this.msixCalls.push(`enable ${vectors}`);
    if (this.failMsix)
      throw Object.assign(
        new Error('0000:00:10.0: cannot route MSI-X vectors to eventfds: VFIO_DEVICE_SET_IRQS failed'),
        { code: 'EINVAL' },
      );
    if (this.eventfds.length > 0) throw new Error('MSI-X enabled twice');
    this.eventfds = Array.from({ length: vectors }, () => nativeVfio().eventfd());
    this.device.msixEnabled = true;
    this.device.onInterrupt = (vector) => {
      const one = Buffer.alloc(8);
      one.writeBigUInt64LE(1n);
      writeSync(this.eventfds[vector], one);
    };
    return this.eventfds.slice();
  }

  disableMsix(): void {
    if (this.eventfds.length === 0) return;
    this.msixCalls.push('disable');
    this.device.msixEnabled = false;
    this.device.onInterrupt = undefined;
    for (const fd of this.eventfds) closeSync(fd);
    this.eventfds = [];
  }

  override release(): void {
    this.disableMsix();
    super.release();
  }
}
