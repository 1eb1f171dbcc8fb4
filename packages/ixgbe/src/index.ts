// Importing this package registers the ixgbe driver and the PCI address resolver with
// @ixy/core, so openDevice('0000:03:00.0') finds them.
import { registerDriver, registerResolver } from '@ixy/core';
import { pciResolver } from '@ixy/pci';
import { ixgbeDriver } from './driver.js';

export { ixgbeDriver } from './driver.js';
export {
  IxgbeDevice,
  resolveIxgbeOptions,
  MAX_FRAME_SIZE,
  MAX_FRAME_BYTES,
  type IxgbeOptions,
} from './ixgbe-device.js';
export { RxQueue } from './rx-queue.js';
export { TxQueue, TX_CLEAN_BATCH, MIN_TX_FRAME } from './tx-queue.js';
export { IXGBE_DEVICE_IDS, INTEL_VENDOR_ID, isIxgbeDevice } from './device-ids.js';
export { RegisterTimeoutError } from './wait.js';
export * as registers from './registers.js';

registerDriver(ixgbeDriver);
registerResolver(pciResolver);
