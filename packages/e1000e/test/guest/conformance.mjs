// In the guest, from packages/e1000e: the IxyDevice contract (@ixy/testing) against QEMU's
// 82574L, on a wired pair; writes what passed and failed to the share for ../guest.test.ts.
// `node conformance.mjs <A> <B>`
import { writeGuestResult } from '@ixy/qemu-guest/guest';
import { runIxyDeviceConformance } from '@ixy/testing';
import '@ixy/pci'; // the PCI address resolver
import '@ixy/e1000e';

const pair = [process.argv[2], process.argv[3]];
const passed = [];
const r = await runIxyDeviceConformance(
  `e1000e ${pair.join(' ↔ ')}`,
  { addresses: () => pair },
  {
    // QEMU under TCG is slow: a frame that must arrive may take its time
    deliveryTimeoutMs: 20_000,
    omit: {
      stats:
        "QEMU 7.2's e1000e model counts transmitted octets (GOTC) without the 4-byte FCS the " +
        '82574 counts (QEMU 8.0 fixed it); the driver reads GOTC as the datasheet defines it, and ' +
        'test/device.test.ts checks the statistics on the fake card',
    },
  },
  (line) => {
    console.log(line);
    if (line.startsWith('ok ')) passed.push(line.slice(line.indexOf(': ') + 2));
  },
);
writeGuestResult('conformance', {
  passed,
  failed: r.failed.map((f) => ({ name: f.name, error: f.error?.stack ?? String(f.error) })),
});
