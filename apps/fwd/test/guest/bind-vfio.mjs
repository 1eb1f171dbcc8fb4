// In the guest: binds the given PCI devices to vfio-pci (the set-up step that needs root).
// `node bind-vfio.mjs [--owner <uid>] <address>...`: with --owner, that user gets the groups.
import { PciBus } from '@ixy/pci';

const args = process.argv.slice(2);
let owner;
if (args[0] === '--owner') {
  const id = Number(args[1]);
  owner = { uid: id, gid: id };
  args.splice(0, 2);
}
const bus = new PciBus();
for (const address of args) {
  const group = bus.bindVfio(address, owner);
  console.log(`${address} bound to vfio-pci, IOMMU group ${group}${owner ? `, owned by uid ${owner.uid}` : ''}`);
}
