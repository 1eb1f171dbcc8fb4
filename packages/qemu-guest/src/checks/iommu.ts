// Runs INSIDE the guest booted with `iommu: true` (test/guest.test.ts): each NIC is in its own
// IOMMU group, and vfio-pci takes one (driver_override + drivers_probe) so /dev/vfio/<group>
// appears. NIC layout: 0 e1000e, 1 virtio-modern with iommu_platform=on.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { PciBus } from '@ixy/pci';
import { guestNics, writeGuestResult } from '../guest.js';

const bus = new PciBus('/sys');
const nics = guestNics();
const groups = nics.map((n) => bus.info(n.address).iommuGroup);
const [first] = nics;
let vfio: { driver: string | null; devVfio: string[]; containerExists: boolean } | { error: string };
try {
  writeFileSync(`/sys/bus/pci/devices/${first.address}/driver_override`, 'vfio-pci');
  writeFileSync('/sys/bus/pci/drivers_probe', first.address);
  vfio = {
    driver: bus.info(first.address).driver,
    devVfio: existsSync('/dev/vfio') ? readdirSync('/dev/vfio') : [],
    containerExists: existsSync('/dev/vfio/vfio'),
  };
} catch (err) {
  vfio = { error: (err as Error).message };
}
writeGuestResult('iommu', {
  groups,
  iommuGroupsDir: existsSync('/sys/kernel/iommu_groups') ? readdirSync('/sys/kernel/iommu_groups').length : 0,
  vfio,
});
console.log('guest checks written: iommu.json');
