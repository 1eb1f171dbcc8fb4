import type { DeviceAccess, DeviceIdentity, DriverFactory, IxyDevice, OpenOptions } from '@ixy/core';
import { isIxgbeDevice } from './device-ids.js';
import { IxgbeDevice } from './ixgbe-device.js';

/** The driver as registered with @ixy/core: matches Intel 82599/X520/X540 network cards. */
export const ixgbeDriver: DriverFactory = {
  name: 'ixgbe',
  matches(identity: DeviceIdentity): boolean {
    return isIxgbeDevice(identity.vendorId, identity.deviceId);
  },
  open(access: DeviceAccess, options: OpenOptions): IxyDevice {
    return new IxgbeDevice(access, options);
  },
};
