// Runs in the QEMU guest: the IxyDevice contract (@ixy/testing) against QEMU's virtio-net,
// for each pair of addresses given (`node conformance-checks.js <result> A B [A B ...]`),
// and writes what passed and failed to the share for guest.test.ts.
import { writeGuestResult } from '@ixy/qemu-guest/guest';
import { runIxyDeviceConformance } from '@ixy/testing';
import '@ixy/pci'; // registers the PCI resolver
import '@ixy/virtio';

const [outName, ...addrs] = process.argv.slice(2);
const results: { pair: string; passed: string[]; failed: { name: string; error: string }[] }[] = [];
for (let i = 0; i + 1 < addrs.length; i += 2) {
  const pair = [addrs[i], addrs[i + 1]] as const;
  const passed: string[] = [];
  const r = await runIxyDeviceConformance(
    `virtio ${pair.join(' ↔ ')}`,
    { addresses: () => pair },
    // QEMU under TCG is slow, and a frame that must arrive may take its time
    { deliveryTimeoutMs: 20_000 },
    (line) => {
      console.log(line);
      if (line.startsWith('ok ')) passed.push(line.slice(line.indexOf(': ') + 2));
    },
  );
  results.push({
    pair: pair.join(' '),
    passed,
    failed: r.failed.map((f) => ({ name: f.name, error: (f.error as Error)?.stack ?? String(f.error) })),
  });
}
writeGuestResult(outName, { node: process.version, results });
