import { registerDriver } from '@ixy/core';
import { virtioDriver } from './driver.js';

export * from './constants.js';
export { FeatureSet } from './features.js';
export {
  alignUp,
  availBytes,
  usedBytes,
  DESC_SIZE,
  isPowerOfTwo,
  legacyVirtqueueLayout,
  packBlocks,
  virtqueueLayout,
  withinOneChunk,
  type PackedBlocks,
  type VirtqueueLayout,
} from './virtqueue-layout.js';
export { Virtqueue } from './virtqueue.js';
export {
  findVirtioCaps,
  listVirtioCaps,
  msixEnabled,
  PCI_CAP_ID_VNDR,
  VIRTIO_PCI_CAP_COMMON_CFG,
  VIRTIO_PCI_CAP_DEVICE_CFG,
  VIRTIO_PCI_CAP_ISR_CFG,
  VIRTIO_PCI_CAP_NOTIFY_CFG,
  VIRTIO_PCI_CAP_PCI_CFG,
  type ConfigReader,
  type VirtioNotifyCap,
  type VirtioPciCap,
  type VirtioPciCaps,
} from './capabilities.js';
export type { VirtioTransport } from './transport.js';
export { LegacyTransport, LEGACY_CONFIG_OFFSET, LEGACY_CONFIG_OFFSET_MSIX } from './legacy-transport.js';
export { ModernTransport } from './modern-transport.js';
export { ControlQueue, ControlCommandError, CTRL_BUFFER_BYTES } from './control-queue.js';
export { VirtioNetDevice, DEFAULT_LINK_SPEED, type VirtioNetParts } from './device.js';
export { VirtqueueWakeup, hasMsix, type MsixAccess } from './wakeup.js';
export {
  openVirtio,
  negotiateFeatures,
  DEFAULT_RING_SIZE,
  RX_ENTRY_SIZE,
  VIRTIO_OPTION_NAMES,
  type VirtioOptions,
} from './open.js';
export { virtioDriver, isVirtioNet } from './driver.js';

// Importing the package registers the driver: openDevice('0000:00:10.0') finds it for a
// virtio-net device at any address a registered resolver accepts (import @ixy/pci for PCI).
registerDriver(virtioDriver);
