import type { DeviceAccess, DeviceIdentity, DriverFactory, OpenOptions } from '@ixy/core';
import { isE1000eDevice } from './device-ids.js';
import { E1000eDevice } from './e1000e-device.js';

/** The driver as registered with @ixy/core: matches the Intel 82574L (8086:10d3). */
export const e1000eDriver = {
  name: 'e1000e' as const,
  matches(identity: DeviceIdentity): boolean {
    return isE1000eDevice(identity.vendorId, identity.deviceId);
  },
  open(access: DeviceAccess, options: OpenOptions): E1000eDevice {
    return new E1000eDevice(access, options);
  },
} satisfies DriverFactory;
