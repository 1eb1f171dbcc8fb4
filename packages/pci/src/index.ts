export { isPciAddress, parsePciAddress } from './address.js';
export { PciBus, pciIdentity, type PciBar, type PciDeviceInfo } from './sysfs.js';
export { MmioRegisters, CheckedRegisters, IoPortRegisters, RegisterAccessError } from './registers.js';
import { registerResolver } from '@ixy/core';
import { pciResolver } from './access.js';

export { PciDeviceAccess, createPciResolver, pciResolver, PCI_OPTION_NAMES, type PciOptions } from './access.js';
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

// Importing the package makes PCI addresses openable: openDevice('0000:03:00.0') with any
// registered driver that matches the card. Drivers do not register it; apps (or @ixy/drivers) import it.
registerResolver(pciResolver);
