// Importing this package registers the ixgbe driver with @ixy/core, so openDevice finds it
// for an 82599 at any address a registered resolver accepts (import @ixy/pci for PCI ones).
import { registerDriver } from '@ixy/core';
import { ixgbeDriver } from './driver.js';

export { ixgbeDriver } from './driver.js';
export {
  IxgbeDevice,
  resolveIxgbeOptions,
  IXGBE_OPTION_NAMES,
  MAX_FRAME_SIZE,
  MAX_FRAME_BYTES,
  type IxgbeOptions,
} from './ixgbe-device.js';
export { RxQueue } from './rx-queue.js';
export { TxQueue, TX_CLEAN_BATCH, MIN_TX_FRAME } from './tx-queue.js';
export { IXGBE_DEVICE_IDS, INTEL_VENDOR_ID, isIxgbeDevice } from './device-ids.js';
export { RegisterTimeoutError } from '@ixy/core'; // where it lived before the drivers shared it
export * as registers from './registers.js';

registerDriver(ixgbeDriver);
