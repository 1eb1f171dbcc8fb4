export { isPciAddress, parsePciAddress } from './address.js';
export { PciBus, pciIdentity, type PciBar, type PciDeviceInfo } from './sysfs.js';
export { MmioRegisters, CheckedRegisters, IoPortRegisters, RegisterAccessError } from './registers.js';
export { PciDeviceAccess, createPciResolver, pciResolver } from './access.js';
export { VfioContainer, VfioDeviceAccess, VfioDmaAllocator, vfioDma } from './vfio.js';
export { nativeVfio, type NativeVfio, type VfioRegionInfo } from './native.js';
