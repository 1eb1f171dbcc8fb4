// `pnpm bench`: every comparison side by side in one run, as Mpps, ns and cycles per packet,
// with the ratio to the first row of each table. States the machine it ran on.
import '@ixy/ixgbe';
import '@ixy/sim';
import { driverRings } from './driver-rings.js';
import { describeMachine } from './machine.js';
import { formatRates } from './measure.js';
import { mempools, registerAccessors } from './micro.js';
import { simForward } from './sim-forward.js';
import { formatLatency, hybridAtFullLoad, wakeupLatency } from './hybrid.js';

const seconds = Number(process.env.IXY_BENCH_SECONDS ?? 1);
const m = describeMachine();
console.log(
  `machine: ${m.cpu}, ${m.cores} cores, ${m.ghz.toFixed(2)} GHz nominal (cycles = ns x GHz), Node ${m.node}, Linux ${m.kernel}`,
);
console.log(
  `each case: best of 3 runs of ${seconds} s after a warm-up; ratios are per-packet cost against the first row\n`,
);

const both = (batches: number[]) => [false, true].flatMap((safe) => batches.map((batch) => ({ safe, batch })));

console.log(
  formatRates(
    'ixgbe driver rings alone (RX + TX per packet, instant in-thread card)',
    driverRings(m.ghz, seconds, both([1, 8, 32, 64, 256])),
  ),
);
console.log();
console.log(
  formatRates(
    'ixy-fwd loop on simulated 82599 ports, one thread (drivers + device models + cables)',
    simForward(m.ghz, seconds, both([1, 32, 256])),
  ),
);
console.log();
console.log(
  formatRates('Register accessors (one write + one read, on ordinary memory)', registerAccessors(m.ghz, seconds)),
);
console.log();
console.log(formatRates('Mempool operations per packet', mempools(m.ghz, seconds)));
console.log();
console.log(
  formatRates(
    "Hybrid poll mode at full load (the fwd loop above, batch 32, through the apps' pollLoop)",
    await hybridAtFullLoad(m.ghz, seconds),
  ),
);
console.log();
console.log(
  formatLatency(
    "Wake-up latency on an idle simulated port: one frame every 2 ms from another thread, stamp to receipt (and the receiver's CPU use)",
    await wakeupLatency(Math.max(500, Math.round(500 * seconds)), 2),
  ),
);
