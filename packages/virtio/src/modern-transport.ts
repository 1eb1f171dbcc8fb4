import { IxyError, type Registers } from '@ixy/core';
import type { VirtioPciCaps } from './capabilities.js';
import { VIRTIO_MSI_NO_VECTOR } from './constants.js';
import { FeatureSet } from './features.js';
import type { VirtioTransport } from './transport.js';
import type { Virtqueue } from './virtqueue.js';

// struct virtio_pci_common_cfg (§4.1.4.3 Common configuration structure layout).
const DEVICE_FEATURE_SELECT = 0x00; // le32
const DEVICE_FEATURE = 0x04; // le32, read-only
const DRIVER_FEATURE_SELECT = 0x08; // le32
const DRIVER_FEATURE = 0x0c; // le32
const CONFIG_MSIX_VECTOR = 0x10; // le16
const NUM_QUEUES = 0x12; // le16, read-only
const DEVICE_STATUS = 0x14; // u8
const CONFIG_GENERATION = 0x15; // u8, read-only
const QUEUE_SELECT = 0x16; // le16
const QUEUE_SIZE = 0x18; // le16: the maximum on reading, until the driver writes a smaller one
const QUEUE_MSIX_VECTOR = 0x1a; // le16
const QUEUE_ENABLE = 0x1c; // le16
const QUEUE_NOTIFY_OFF = 0x1e; // le16, read-only
const QUEUE_DESC = 0x20; // le64, written as two le32 halves (§4.1.3.1)
const QUEUE_DRIVER = 0x28; // le64: the available ring
const QUEUE_DEVICE = 0x30; // le64: the used ring
/** Bytes of the common structure up to and including queue_device. */
const COMMON_CFG_MIN_LENGTH = 0x38;

const RESET_POLLS = 100_000;

/**
 * The modern (virtio 1.x) interface: common configuration, notification and device-specific
 * structures found through vendor capabilities (§4.1.4), in memory BARs.
 */
export class ModernTransport implements VirtioTransport {
  readonly kind = 'modern';
  readonly usedAlign = 4;
  private readonly common: Registers;
  private readonly commonBase: number;
  private readonly notifyRegs: Registers;
  private readonly notifyBase: number;
  private readonly deviceRegs: Registers | undefined;
  private readonly deviceBase: number;
  /** Byte offset in the notify BAR of each queue's notification address. */
  private readonly notifyAt: number[] = [];

  /** @param bar maps a BAR as registers (once per BAR: the caller caches). */
  constructor(
    readonly caps: VirtioPciCaps,
    bar: (index: number) => Registers,
  ) {
    if (caps.common.length < COMMON_CFG_MIN_LENGTH) {
      throw new IxyError(
        'ECAPS',
        `virtio common configuration is ${caps.common.length} bytes, expected at least ${COMMON_CFG_MIN_LENGTH}`,
      );
    }
    this.common = bar(caps.common.bar);
    this.commonBase = caps.common.offset;
    this.notifyRegs = bar(caps.notify.bar);
    this.notifyBase = caps.notify.offset;
    this.deviceRegs = caps.device ? bar(caps.device.bar) : undefined;
    this.deviceBase = caps.device?.offset ?? 0;
    for (const [what, cap, regs] of [
      ['common', caps.common, this.common],
      ['notify', caps.notify, this.notifyRegs],
      ['device', caps.device, this.deviceRegs],
    ] as const) {
      if (cap && regs && cap.offset + cap.length > regs.size) {
        throw new IxyError(
          'ECAPS',
          `virtio ${what} structure (BAR ${cap.bar} + 0x${cap.offset.toString(16)}, ${cap.length} bytes) lies outside its ${regs.size}-byte BAR`,
        );
      }
    }
  }

  /** Number of queues the device has (§4.1.4.3 num_queues). */
  numQueues(): number {
    return this.common.read16(this.commonBase + NUM_QUEUES);
  }

  reset(): void {
    this.common.write8(this.commonBase + DEVICE_STATUS, 0);
    // §4.1.4.3.2: after writing 0, wait until device_status reads 0 again.
    for (let i = 0; i < RESET_POLLS; i++) if (this.common.read8(this.commonBase + DEVICE_STATUS) === 0) return;
    throw new IxyError('ERESET', 'the virtio device did not come out of reset (status never read back 0)');
  }

  status(): number {
    return this.common.read8(this.commonBase + DEVICE_STATUS);
  }

  setStatus(status: number): void {
    this.common.write8(this.commonBase + DEVICE_STATUS, status);
  }

  deviceFeatures(): FeatureSet {
    const c = this.common;
    const b = this.commonBase;
    c.write32(b + DEVICE_FEATURE_SELECT, 0);
    const lo = c.read32(b + DEVICE_FEATURE);
    c.write32(b + DEVICE_FEATURE_SELECT, 1);
    const hi = c.read32(b + DEVICE_FEATURE);
    return new FeatureSet(lo, hi);
  }

  setDriverFeatures(features: FeatureSet): void {
    const c = this.common;
    const b = this.commonBase;
    c.write32(b + DRIVER_FEATURE_SELECT, 0);
    c.write32(b + DRIVER_FEATURE, features.lo);
    c.write32(b + DRIVER_FEATURE_SELECT, 1);
    c.write32(b + DRIVER_FEATURE, features.hi);
  }

  queueMaxSize(index: number): number {
    if (index >= this.numQueues()) return 0;
    this.common.write16(this.commonBase + QUEUE_SELECT, index);
    return this.common.read16(this.commonBase + QUEUE_SIZE);
  }

  /** §4.1.5.1.3 Virtqueue Configuration; the vector as §4.1.5.1.2 says (written, read back). */
  setupQueue(vq: Virtqueue, msixVector = VIRTIO_MSI_NO_VECTOR): number {
    const c = this.common;
    const b = this.commonBase;
    const max = this.queueMaxSize(vq.index);
    if (max === 0) throw new IxyError('ENOQUEUE', `the device has no queue ${vq.index}`);
    if (vq.size > max)
      throw new IxyError('EQUEUESIZE', `queue ${vq.index} takes at most ${max} entries, not ${vq.size}`);
    c.write16(b + QUEUE_SIZE, vq.size);
    const write64 = (at: number, addr: number): void => {
      c.write32(b + at, addr >>> 0);
      c.write32(b + at + 4, (addr / 0x1_0000_0000) >>> 0);
    };
    write64(QUEUE_DESC, vq.descAddr);
    write64(QUEUE_DRIVER, vq.availAddr);
    write64(QUEUE_DEVICE, vq.usedAddr);
    // §4.1.4.4: the queue's notification address is cap.offset + queue_notify_off * multiplier.
    const at = this.notifyBase + c.read16(b + QUEUE_NOTIFY_OFF) * this.caps.notify.notifyOffMultiplier;
    if (at + 2 > this.notifyBase + this.caps.notify.length) {
      throw new IxyError('ECAPS', `notification address of queue ${vq.index} lies outside the notification structure`);
    }
    this.notifyAt[vq.index] = at;
    // While the queue is selected and before queue_enable; the device reads back NO_VECTOR
    // when it cannot map it (beyond its MSI-X table). Unmapped since reset otherwise.
    let vector = VIRTIO_MSI_NO_VECTOR;
    if (msixVector !== VIRTIO_MSI_NO_VECTOR) {
      c.write16(b + QUEUE_MSIX_VECTOR, msixVector);
      vector = c.read16(b + QUEUE_MSIX_VECTOR);
    }
    c.write16(b + QUEUE_ENABLE, 1);
    return vector;
  }

  setConfigVector(vector: number): number {
    this.common.write16(this.commonBase + CONFIG_MSIX_VECTOR, vector);
    return this.common.read16(this.commonBase + CONFIG_MSIX_VECTOR);
  }

  notify(index: number): void {
    this.notifyRegs.write16(this.notifyAt[index], index);
  }

  private device(offset: number, width: number): number {
    if (!this.deviceRegs || !this.caps.device || offset + width > this.caps.device.length) {
      throw new IxyError('ENOCONFIG', `the device has no config field at ${offset} (${width} bytes)`);
    }
    return this.deviceBase + offset;
  }

  readConfig8(offset: number): number {
    return (this.deviceRegs as Registers).read8(this.device(offset, 1));
  }

  readConfig16(offset: number): number {
    return (this.deviceRegs as Registers).read16(this.device(offset, 2));
  }

  readConfig32(offset: number): number {
    return (this.deviceRegs as Registers).read32(this.device(offset, 4));
  }

  writeConfig8(offset: number, value: number): void {
    (this.deviceRegs as Registers).write8(this.device(offset, 1), value);
  }

  configGeneration(): number {
    return this.common.read8(this.commonBase + CONFIG_GENERATION);
  }
}
