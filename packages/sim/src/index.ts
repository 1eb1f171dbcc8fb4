// Importing this package registers the `sim:<cable>:<end>` address resolver and the driver
// of simulated ports (which opens them with the card's own driver) with @ixy/core.
import { registerDriver, registerResolver } from '@ixy/core';
import { simResolver } from './sim-access.js';
import { simPortDriver } from './sim-driver.js';

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
export {
  SimDeviceAccess,
  simResolver,
  isSimAddress,
  parseSimAddress,
  SIM_PORT_OPTION_NAMES,
  type SimPortOptions,
} from './sim-access.js';
export { simPortDriver } from './sim-driver.js';
export { SimPortDevice } from './sim-port.js';

registerResolver(simResolver);
registerDriver(simPortDriver);
