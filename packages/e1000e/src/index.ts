// Importing this package registers the e1000e driver with @ixy/core, so openDevice finds it
// for an 82574L at any address a registered resolver accepts (import @ixy/pci for PCI ones);
// apps load it with `--driver @ixy/e1000e`.
import { registerDriver } from '@ixy/core';
import { e1000eDriver } from './driver.js';

export { e1000eDriver } from './driver.js';
export {
  E1000eDevice,
  resolveE1000eOptions,
  E1000E_OPTION_NAMES,
  MAX_FRAME_SIZE,
  MAX_FRAME_BYTES,
  type E1000eOptions,
} from './e1000e-device.js';
export { RxQueue, writeRxDescriptor } from './rx-queue.js';
export { TxQueue, writeTxDescriptor, TX_CLEAN_BATCH, TX_CMD, MIN_TX_FRAME } from './tx-queue.js';
export { E1000E_DEVICE_IDS, INTEL_VENDOR_ID, isE1000eDevice } from './device-ids.js';
export { RegisterTimeoutError } from '@ixy/core'; // where it lived before the drivers shared it
export * as registers from './registers.js';

registerDriver(e1000eDriver);
