// `pnpm bench`: every comparison side by side in one run, as Mpps, ns and cycles per packet,
// with the ratio to the first row of each table, and the driver against a C reference.
// States the machine it ran on. `pnpm bench --quick`: the C comparison alone, in under a minute.
import '@ixy/ixgbe';
import '@ixy/sim';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCReference, C_FLAGS, measureTscGhz } from './cref.js';
import { describeMachine } from './machine.js';
import { formatRates } from './measure.js';
import { mempools, registerAccessors } from './micro.js';
import { linePlot } from './plot.js';
import { simForward } from './sim-forward.js';
import { formatLatency, hybridAtFullLoad, wakeupLatency } from './hybrid.js';
import { fwdLatencySection } from './fwd-latency.js';
import { appGcRun, formatAppGc } from './app-gc.js';
import { PACKET_LOOP_V8_FLAGS, tunePacketLoopV8 } from '@ixy/cli';
import { CASE_NODE_FLAGS, comparisonTable, summaryLines, versusC, type Comparison } from './versus-c.js';

// the in-process tables measure the apps' loops: with the V8 inlining budget the apps set
tunePacketLoopV8();
const quick = process.argv.includes('--quick');
const seconds = Number(process.env.IXY_BENCH_SECONDS ?? (quick ? 0.3 : 0.5));
/** The C comparison: runs of each case per batch size, in turn with the other cases (see versusC). */
const vsRounds = quick ? 24 : 30;
const vsSeconds = Number(process.env.IXY_BENCH_VS_SECONDS ?? (quick ? 0.1 : 0.2));
const gcSeconds = Number(process.env.IXY_BENCH_GC_SECONDS ?? (quick ? 3 : 30));
/** ixy-fwd's demo run with a GC watcher (full run only: it takes this long). */
const appGcSeconds = Number(process.env.IXY_BENCH_APP_GC_SECONDS ?? 30);
const resultsDir = resolve(
  process.env.IXY_BENCH_RESULTS ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'results'),
);

const m = describeMachine();
const build = buildCReference();
const tsc = measureTscGhz(build);
const ghz = tsc ?? m.ghz;
const clockSource =
  tsc !== undefined
    ? `TSC at ${tsc.toFixed(3)} GHz, measured against CLOCK_MONOTONIC`
    : `nominal ${m.ghz.toFixed(3)} GHz from /proc/cpuinfo (cpu MHz)`;
console.log(`machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, Linux ${m.kernel}`);
console.log(`cycles = ns x ${ghz.toFixed(3)} GHz (${clockSource})`);
console.log(
  build.ok
    ? `C reference: c/cref.c built with ${build.compiler}, ${C_FLAGS.join(' ')} (baseline x86-64)`
    : `C REFERENCE NOT BUILT, no ratios to C in this run: ${build.reason}`,
);
console.log(
  `vs C: each case in a process of its own, warmed up, then C, fast and safe in turn, ${vsRounds} runs of ${vsSeconds} s each; best run, in CPU time of the process (robust to a shared machine); "paired" = median over the rounds of the ratio of runs side by side\n`,
);

const failures: string[] = [];
const progress = (msg: string): void => {
  if (process.stderr.isTTY) process.stderr.write(`  running ${msg}...\r\x1b[K`);
};

// ---- TypeScript against C: ixy-fwd's step (and, in the full run, the rings alone) ----
const summaryBatches = [1, 32, 256];
const sweep = quick ? summaryBatches : [1, 2, 4, 8, 16, 32, 64, 128, 256];
const fwd = await versusC('fwd', build, ghz, sweep, vsSeconds, vsRounds, gcSeconds, 32, progress);
console.log(
  comparisonTable(
    'ixy-fwd step vs C (receive, touch byte 1, send, free the unsent; ixgbe rings on an instant in-thread card), ns and cycles per packet',
    fwd,
  ),
);
console.log();
for (const line of summaryLines(fwd, summaryBatches)) console.log(line);
console.log();

// steady state: no allocation per packet, no GC pause over 1 ms
for (const kind of ['fast', 'safe'] as const) {
  const gc = fwd.gc[kind];
  if (gc === undefined) {
    failures.push(`no steady-state GC check ran for ${kind} mode`);
    continue;
  }
  const perPacket = gc.heapGrowth / gc.packets;
  const kinds = gc.gcCount > 0 ? ` (${gc.gcKinds.join(', ')})` : '';
  console.log(
    `steady state, ${kind} mode, fwd batch 32, ${gc.seconds} s: ${gc.packets.toExponential(2)} packets, heap ${gc.heapGrowth >= 0 ? '+' : ''}${gc.heapGrowth} bytes (${perPacket.toFixed(4)} bytes/packet), ${gc.gcCount} GCs${kinds}, longest pause ${gc.maxGcPauseMs.toFixed(2)} ms`,
  );
  // a per-packet allocation of even one byte fills the young generation (16 MiB or so) many
  // times over in this many packets: it shows as GCs, or as heap growth if none ran
  if (gc.gcCount > 0 || perPacket >= 0.01)
    failures.push(
      `${kind} mode is not allocation-free in steady state: ${gc.gcCount} GCs${kinds}, ${perPacket.toFixed(4)} bytes/packet of heap growth`,
    );
  if (gc.maxGcPauseMs > 1) failures.push(`${kind} mode: a GC pause of ${gc.maxGcPauseMs.toFixed(2)} ms (over 1 ms)`);
}
console.log(
  `(TypeScript case processes run with ${CASE_NODE_FLAGS.join(' ')} and, as the apps, ${PACKET_LOOP_V8_FLAGS.join(' ')}: see the README)`,
);
for (const e of fwd.errors) failures.push(e);

// the same for the app as users start it, around the step: full run only
let appGc: Awaited<ReturnType<typeof appGcRun>> | undefined;
if (!quick) {
  progress(`ixy-fwd's demo for ${appGcSeconds} s with a GC watcher`);
  appGc = await appGcRun(appGcSeconds);
  const report = formatAppGc(appGc);
  console.log(report.text);
  failures.push(...report.failures);
}

let rings: Comparison | undefined;
if (!quick) {
  console.log();
  rings = await versusC('rings', build, ghz, [1, 8, 32, 64, 256], vsSeconds, vsRounds, 0, 32, progress);
  console.log(
    comparisonTable('ixgbe driver rings alone vs C (RX + TX per packet, instant in-thread card, no touch)', rings),
  );
  for (const e of rings.errors) failures.push(e);
  console.log();

  const both = (batches: number[]) => [false, true].flatMap((safe) => batches.map((batch) => ({ safe, batch })));
  console.log('in-process tables: best of 3 runs of', seconds, 's after a warm-up, wall-clock time\n');
  console.log(
    formatRates(
      'ixy-fwd loop on simulated 82599 ports, one thread (drivers + device models + cables)',
      simForward(ghz, seconds, both([1, 32, 256])),
    ),
  );
  console.log();
  console.log(
    formatRates('Register accessors (one write + one read, on ordinary memory)', registerAccessors(ghz, seconds)),
  );
  console.log();
  console.log(formatRates('Mempool operations per packet', mempools(ghz, seconds)));
  console.log();
  console.log(
    formatRates(
      "Hybrid poll mode at full load (the fwd loop above, batch 32, through the apps' pollLoop)",
      await hybridAtFullLoad(ghz, seconds),
    ),
  );
  console.log();
  console.log(
    formatLatency(
      "Wake-up latency on an idle simulated port: one frame every 2 ms from another thread, stamp to receipt (and the receiver's CPU use)",
      await wakeupLatency(Math.max(500, Math.round(500 * seconds)), 2),
    ),
  );
}

// ---- results: JSON and an SVG plot ----
const tag = `node${process.versions.node.split('.')[0]}${quick ? '-quick' : ''}`;
mkdirSync(resultsDir, { recursive: true });
const json = join(resultsDir, `bench-${tag}.json`);
writeFileSync(
  json,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      quick,
      machine: { ...m, cycleClock: { ghz, source: clockSource } },
      cReference: build.ok ? { compiler: build.compiler, flags: C_FLAGS } : { error: build.reason },
      method: {
        seconds: vsSeconds,
        rounds: vsRounds,
        time: 'CPU time of the process; C, fast and safe runs in turn; a point is the best run',
        inProcessTablesSeconds: seconds,
        gcSeconds,
        tsCaseNodeFlags: CASE_NODE_FLAGS,
        tsV8Flags: PACKET_LOOP_V8_FLAGS,
      },
      fwd,
      rings,
      appGc,
      failures,
    },
    null,
    2,
  ) + '\n',
);
const svg = join(resultsDir, `fwd-vs-c-${tag}.svg`);
const series = (pts: { batch: number; ns: number }[] | null) => (pts ?? []).map((p) => [p.batch, p.ns] as const);
writeFileSync(
  svg,
  linePlot(
    [
      { name: 'TypeScript fast', points: series(fwd.fast) },
      { name: 'TypeScript safe', points: series(fwd.safe) },
      { name: `C (${C_FLAGS[0]})`, points: series(fwd.c), dashed: true },
    ],
    {
      title: `ixy-fwd step, ns per packet: TypeScript vs C (Node ${m.node})`,
      xLabel: 'batch size',
      xTicks: sweep,
      yLabel: 'ns per packet (CPU time)',
      logX: true,
    },
  ),
);
console.log(`\nresults: ${json}\nplot:    ${svg}`);

// ---- latency through ixy-fwd (busy-poll and hybrid, several rates): table, JSON, CCDF plot ----
console.log();
console.log(await fwdLatencySection(m, quick, resultsDir, tag, progress));

if (failures.length > 0) {
  console.error(`\nBENCH FAILED (${failures.length}):`);
  for (const f of failures) console.error(`  - ${f}`);
  process.exitCode = 1;
}
