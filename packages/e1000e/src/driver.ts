import type { DeviceAccess, DeviceIdentity, DriverFactory } from '@ixy/core';
import { isE1000eDevice } from './device-ids.js';
import { E1000E_OPTION_NAMES, E1000eDevice, type E1000eOptions } from './e1000e-device.js';

/** The driver as registered with @ixy/core: matches the Intel 82574L (8086:10d3). */
export const e1000eDriver: {
  open(access: DeviceAccess, options: E1000eOptions): E1000eDevice;
} & DriverFactory<E1000eOptions> = {
  name: 'e1000e',
  optionNames: E1000E_OPTION_NAMES,
  matches(identity: DeviceIdentity): boolean {
    return isE1000eDevice(identity.vendorId, identity.deviceId);
  },
  open(access: DeviceAccess, options: E1000eOptions): E1000eDevice {
    return new E1000eDevice(access, options);
  },
};
