// In the guest: binds the given PCI devices to vfio-pci (the set-up step that needs root).
import { PciBus } from '@ixy/pci';

const bus = new PciBus();
for (const address of process.argv.slice(2)) {
  const group = bus.bindVfio(address);
  console.log(`${address} bound to vfio-pci, IOMMU group ${group}`);
}
