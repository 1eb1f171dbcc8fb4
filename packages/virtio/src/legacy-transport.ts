import { IxyError, type Registers } from '@ixy/core';
import { LEGACY_QUEUE_ALIGN, VIRTIO_MSI_NO_VECTOR } from './constants.js';
import { FeatureSet } from './features.js';
import type { VirtioTransport } from './transport.js';
import type { Virtqueue } from './virtqueue.js';

// The legacy virtio header at the start of I/O BAR0 (§4.1.4.10 Legacy Interfaces: A Note on
// PCI Device Layout). Port I/O takes 1-, 2- and 4-byte accesses only.
const DEVICE_FEATURES = 0x00; // le32, read-only: bits 0..31 (a legacy device has no more)
const DRIVER_FEATURES = 0x04; // le32
const QUEUE_ADDRESS = 0x08; // le32: page frame number (address / 4096) of the queue
const QUEUE_SIZE = 0x0c; // le16, read-only
const QUEUE_SELECT = 0x0e; // le16
const QUEUE_NOTIFY = 0x10; // le16: write the queue index
const DEVICE_STATUS = 0x12; // u8
/** Device-specific config follows the header: at 20, or at 24 when MSI-X is enabled. */
export const LEGACY_CONFIG_OFFSET = 0x14;
export const LEGACY_CONFIG_OFFSET_MSIX = 0x18;

/** Spins of a status read-back before reset is declared stuck. */
const RESET_POLLS = 100_000;

/** The legacy interface (transitional devices, 1af4:1000), through I/O-port registers of BAR0. */
export class LegacyTransport implements VirtioTransport {
  readonly kind = 'legacy';
  readonly usedAlign = LEGACY_QUEUE_ALIGN;

  constructor(
    private readonly regs: Registers,
    private readonly configOffset = LEGACY_CONFIG_OFFSET,
  ) {}

  reset(): void {
    this.regs.write8(DEVICE_STATUS, 0);
    for (let i = 0; i < RESET_POLLS; i++) if (this.regs.read8(DEVICE_STATUS) === 0) return;
    throw new IxyError('ERESET', 'the virtio device did not come out of reset (status never read back 0)');
  }

  status(): number {
    return this.regs.read8(DEVICE_STATUS);
  }

  setStatus(status: number): void {
    this.regs.write8(DEVICE_STATUS, status);
  }

  deviceFeatures(): FeatureSet {
    return new FeatureSet(this.regs.read32(DEVICE_FEATURES), 0);
  }

  setDriverFeatures(features: FeatureSet): void {
    if (features.hi !== 0)
      throw new RangeError(`a legacy device has no feature bits above 31 (asked: ${features.toString()})`);
    this.regs.write32(DRIVER_FEATURES, features.lo);
  }

  queueMaxSize(index: number): number {
    this.regs.write16(QUEUE_SELECT, index);
    return this.regs.read16(QUEUE_SIZE);
  }

  /** No MSI-X vectors here: this driver takes no interrupts from a legacy device. */
  setupQueue(vq: Virtqueue, _msixVector = VIRTIO_MSI_NO_VECTOR): number {
    const max = this.queueMaxSize(vq.index);
    if (vq.size !== max) {
      throw new IxyError(
        'EQUEUESIZE',
        `legacy queue ${vq.index} has ${max} entries, not ${vq.size}: a legacy device cannot resize it`,
      );
    }
    const { layout } = vq;
    // The device finds the rings from the table's address (§2.7.2): they must follow it.
    if (
      vq.descAddr % LEGACY_QUEUE_ALIGN !== 0 ||
      vq.availAddr !== vq.descAddr + layout.availOffset ||
      vq.usedAddr !== vq.descAddr + layout.usedOffset ||
      layout.usedOffset % LEGACY_QUEUE_ALIGN !== 0
    ) {
      throw new IxyError(
        'EQUEUELAYOUT',
        `legacy queue ${vq.index} is not laid out contiguously on a 4096-byte boundary`,
      );
    }
    const pfn = vq.descAddr / LEGACY_QUEUE_ALIGN;
    if (pfn > 0xffffffff)
      throw new IxyError(
        'EQUEUEADDR',
        `legacy queue ${vq.index} lies above the 44-bit limit of the queue address register`,
      );
    this.regs.write32(QUEUE_ADDRESS, pfn);
    return VIRTIO_MSI_NO_VECTOR;
  }

  setConfigVector(_vector: number): number {
    return VIRTIO_MSI_NO_VECTOR;
  }

  notify(index: number): void {
    this.regs.write16(QUEUE_NOTIFY, index);
  }

  readConfig8(offset: number): number {
    return this.regs.read8(this.configOffset + offset);
  }

  readConfig16(offset: number): number {
    return this.regs.read16(this.configOffset + offset);
  }

  readConfig32(offset: number): number {
    return this.regs.read32(this.configOffset + offset);
  }

  writeConfig8(offset: number, value: number): void {
    this.regs.write8(this.configOffset + offset, value);
  }

  configGeneration(): number {
    return 0;
  }
}
