// `pnpm bench`: every comparison side by side in one run, as Mpps, ns and cycles per packet,
// with the ratio to the first row of each table. States the machine it ran on.
import { describeMachine } from './machine.js';
import { formatRates } from './measure.js';
import { mempools, registerAccessors } from './micro.js';

const seconds = Number(process.env.IXY_BENCH_SECONDS ?? 1);
const m = describeMachine();
console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.ghz.toFixed(2)} GHz nominal (cycles = ns x GHz), Node ${m.node}, Linux ${m.kernel}`);
console.log(`each case: best of 3 runs of ${seconds} s after a warm-up\n`);

console.log(formatRates('Register accessors (one write + one read, on ordinary memory)', registerAccessors(m.ghz, seconds)));
console.log();
console.log(formatRates('Mempool operations per packet', mempools(m.ghz, seconds)));
