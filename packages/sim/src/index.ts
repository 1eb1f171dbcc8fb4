// Importing this package registers the `sim:<cable>:<end>` address resolver with @ixy/core.
import { registerResolver } from '@ixy/core';
import { simResolver } from './sim-access.js';

export {
  Cable,
  CableEnd,
  CableError,
  cablePath,
  CABLE_SLOT_SIZE,
  DEFAULT_CABLE_SLOTS,
  type CableOptions,
} from './cable.js';
export { FrameRing } from './frame-ring.js';
export { IxgbeModel, type IxgbeModelOptions, type ModelCounts, type RegisterAccess } from './ixgbe-model.js';
export { ModelError, type DriverMistake } from './model-error.js';
export { SimDeviceAccess, simResolver, isSimAddress, parseSimAddress, type SimPortOptions } from './sim-access.js';
export { SimPortDevice } from './sim-port.js';

registerResolver(simResolver);
