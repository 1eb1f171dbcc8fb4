import type { DeviceAccess, DeviceIdentity, DriverFactory } from '@ixy/core';
import { VIRTIO_NET_MODERN_DEVICE_ID, VIRTIO_NET_TRANSITIONAL_DEVICE_ID, VIRTIO_VENDOR_ID } from './constants.js';
import type { VirtioNetDevice } from './device.js';
import { VIRTIO_OPTION_NAMES, openVirtio, type VirtioOptions } from './open.js';

/** Is this a virtio network device this driver handles (1af4:1000 transitional, 1af4:1041 modern)? */
export function isVirtioNet(id: DeviceIdentity): boolean {
  return (
    id.vendorId === VIRTIO_VENDOR_ID &&
    (id.deviceId === VIRTIO_NET_TRANSITIONAL_DEVICE_ID || id.deviceId === VIRTIO_NET_MODERN_DEVICE_ID)
  );
}

/**
 * The driver as registered with @ixy/core: 1af4:1000 is the transitional network device id,
 * 1af4:1041 the modern one (§4.1.2.1 Device Requirements: PCI Device Discovery).
 */
export const virtioDriver: DriverFactory<VirtioOptions> & {
  open(access: DeviceAccess, options: VirtioOptions): VirtioNetDevice;
} = {
  name: 'virtio',
  optionNames: VIRTIO_OPTION_NAMES,
  matches: isVirtioNet,
  open(access: DeviceAccess, options: VirtioOptions): VirtioNetDevice {
    return openVirtio(access, options);
  },
};
