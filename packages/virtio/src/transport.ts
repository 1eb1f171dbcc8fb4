import type { FeatureSet } from './features.js';
import type { Virtqueue } from './virtqueue.js';

/**
 * How the driver talks to a virtio PCI device: the legacy I/O-port header (§4.1.4.10) or the
 * modern capability structures (§4.1.4). Everything above this interface (virtqueues, the
 * net device) is the same for both.
 */
export interface VirtioTransport {
  readonly kind: 'legacy' | 'modern';
  /** Used-ring alignment the device expects: 4096 for legacy, 4 for modern. */
  readonly usedAlign: number;
  /** Writes 0 to the status and waits until the device reads back 0 (§2.4 Device Reset). */
  reset(): void;
  status(): number;
  setStatus(status: number): void;
  deviceFeatures(): FeatureSet;
  setDriverFeatures(features: FeatureSet): void;
  /** Largest size of queue `index`; 0 when the queue does not exist. */
  queueMaxSize(index: number): number;
  /**
   * Tells the device where queue `vq.index` is and how large, and enables it.
   * Legacy devices cannot resize a queue: `vq.size` must equal queueMaxSize.
   * `msixVector`: the MSI-X vector the queue raises (VIRTIO_MSI_NO_VECTOR, the default: none).
   * Returns the vector the device took, read back: VIRTIO_MSI_NO_VECTOR when it refused
   * (§4.1.5.1.2). Legacy: vectors are not supported, always VIRTIO_MSI_NO_VECTOR.
   */
  setupQueue(vq: Virtqueue, msixVector?: number): number;
  /**
   * Maps configuration change interrupts to `vector` (VIRTIO_MSI_NO_VECTOR: none) and returns
   * the vector read back (§4.1.5.1.2). Legacy: not supported, returns VIRTIO_MSI_NO_VECTOR.
   */
  setConfigVector(vector: number): number;
  /** Available buffer notification for queue `index` (§4.1.5.2). */
  notify(index: number): void;
  /** Device-specific config (§4.1.4.6; legacy: after the header). */
  readConfig8(offset: number): number;
  readConfig16(offset: number): number;
  readConfig32(offset: number): number;
  writeConfig8(offset: number, value: number): void;
  /** config_generation (§2.5.1); legacy devices have none and return 0. */
  configGeneration(): number;
}
