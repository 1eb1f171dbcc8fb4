import type { DeviceAccess, DeviceIdentity, DriverFactory } from '@ixy/core';
import { isIxgbeDevice } from './device-ids.js';
import { IXGBE_OPTION_NAMES, IxgbeDevice, type IxgbeOptions } from './ixgbe-device.js';

/** The driver as registered with @ixy/core: matches Intel 82599/X520/X540 network cards. */
export const ixgbeDriver: DriverFactory<IxgbeOptions> & {
  open(access: DeviceAccess, options: IxgbeOptions): IxgbeDevice;
} = {
  name: 'ixgbe',
  optionNames: IXGBE_OPTION_NAMES,
  matches(identity: DeviceIdentity): boolean {
    return isIxgbeDevice(identity.vendorId, identity.deviceId);
  },
  open(access: DeviceAccess, options: IxgbeOptions): IxgbeDevice {
    return new IxgbeDevice(access, options);
  },
};
