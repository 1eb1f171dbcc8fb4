export { isPciAddress, parsePciAddress } from './address.js';
export { PciBus, pciIdentity, type PciBar, type PciDeviceInfo } from './sysfs.js';
export { MmioRegisters, CheckedRegisters, IoPortRegisters, RegisterAccessError } from './registers.js';
export { PciDeviceAccess, createPciResolver, pciResolver } from './access.js';
export {
  VFIO_PCI_MSIX_IRQ_INDEX,
  VfioContainer,
  VfioDeviceAccess,
  VfioDmaAllocator,
  VfioMsix,
  vfioDma,
  type NativeIrqs,
} from './vfio.js';
export { nativeVfio, type NativeVfio, type VfioIrqInfo, type VfioRegionInfo } from './native.js';
