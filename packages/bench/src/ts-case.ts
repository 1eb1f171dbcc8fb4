// One TypeScript case of the C comparison, in a process of its own (as the C reference runs in
// its own): the JIT sees one mode and one batch size, as in an application, and no other case's
// type feedback. Prints one JSON line.
//
//   node dist/ts-case.js <fwd|rings> <fast|safe> <batch> <seconds> <rounds> [gc-seconds]
//
// With gc-seconds > 0 it then runs the step that long more, watching the heap and the GC:
// bytes allocated per packet in steady state and the longest GC pause.
//
//   node dist/ts-case.js <fwd|rings> <fast|safe> <batch> serve
//
// runs the warm-up, prints "ready", then serves one line of stdin at a time: "run <seconds>"
// prints a CaseRound as JSON, "gc <seconds>" a GcCheck; at the end of input it prints a
// CaseResult with no rounds (its error, if the buffers do not add up). The bench takes turns
// between this process, the other mode's and the C reference's, run by run.
import { createInterface } from 'node:readline';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { PacketBatch } from '@ixy/core';
import { Mempool } from '@ixy/memory';
import { forwardBatch, tunePacketLoopV8 } from '@ixy/cli';
import { GC_KINDS } from './gc-kinds.js';
import { InstantPort } from './instant-port.js';

export interface CaseRound {
  packets: number;
  /** CPU time of the process (user + system), ns. */
  cpuNs: number;
  wallNs: number;
}

export interface GcCheck {
  seconds: number;
  packets: number;
  /** Growth of the used heap over the run, bytes (no GC ran in between if gcCount is 0). */
  heapGrowth: number;
  gcCount: number;
  /** Kinds of the GCs that ran (perf_hooks: minor = scavenge, major = mark-compact, ...). */
  gcKinds: string[];
  maxGcPauseMs: number;
}

export interface CaseResult {
  rounds: CaseRound[];
  gc?: GcCheck;
  error?: string;
}

const [mode, kind, batchArg, secondsArg, roundsArg, gcArg] = process.argv.slice(2);
const serve = secondsArg === 'serve' && roundsArg === undefined;
const batchSize = Number(batchArg);
const seconds = serve ? 0.5 : Number(secondsArg);
const rounds = serve ? 1 : Number(roundsArg);
const gcSeconds = Number(gcArg ?? 0);
if (
  (mode !== 'fwd' && mode !== 'rings') ||
  (kind !== 'fast' && kind !== 'safe') ||
  !(batchSize >= 1 && batchSize <= 256) ||
  !(seconds > 0) ||
  !(rounds >= 1)
) {
  console.error(
    'usage: ts-case.js <fwd|rings> <fast|safe> <batch 1..256> <seconds> <rounds> [gc-seconds] | ts-case.js <fwd|rings> <fast|safe> <batch 1..256> serve',
  );
  process.exit(2);
}

// V8's inlining budget as the apps set it (ixy-fwd calls the same), before anything is hot
tunePacketLoopV8();
const port = new InstantPort(kind === 'safe');
const batch = new PacketBatch(batchSize);

// ixy-fwd's step (the app's own forwardBatch: receive, touch byte 1, send, free the unsent), or
// the rings alone (the same without the touch)
const step =
  mode === 'fwd'
    ? (): number => forwardBatch(port, port, batch)
    : (): number => {
        const n = port.rxBatch(0, batch);
        const sent = port.txBatch(0, batch);
        if (sent < n) Mempool.freeBatch(batch, sent);
        return n;
      };

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

// the same loop as the C reference's: the clock is read every 64 steps
function run(limitSeconds: number): CaseRound {
  let packets = 0;
  const cpu0 = cpuNs();
  const start = performance.now();
  let now = start;
  while (now - start < limitSeconds * 1000) {
    for (let i = 0; i < 64; i++) packets += step();
    now = performance.now();
  }
  return { packets, cpuNs: cpuNs() - cpu0, wallNs: (now - start) * 1e6 };
}

function chunks(limitSeconds: number): number {
  let packets = 0;
  const start = performance.now();
  while (performance.now() - start < limitSeconds * 1000) {
    // counted per chunk (at most 2.56e7), then added: a count past 2^31 is no small integer,
    // and the loop then allocated a number at every step (AMD EPYC, 30 s: 3.5e9 packets, about
    // 650 minor GCs, none in the first 2^31 packets)
    let n = 0;
    for (let i = 0; i < 100_000; i++) n += step();
    packets += n;
  }
  return packets;
}

async function gcCheck(limitSeconds: number): Promise<GcCheck> {
  const pauses: number[] = [];
  const kinds: string[] = [];
  let windowStart = Infinity;
  let windowEnd = Infinity;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // only GCs that started inside the window: not the minor GC before it, nor what the
      // allocations after it (heap statistics, timers) set off while the entries come in
      if (e.startTime < windowStart || e.startTime > windowEnd) continue;
      pauses.push(e.duration);
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1;
      kinds.push(GC_KINDS[kind] ?? String(kind));
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  // Settle the heap before watching it: compile the chunked loop below (its code and feedback
  // are heap objects too), then empty the young generation with a minor GC, so that nothing
  // set-up and warm-up left behind is counted against the steady state. No full GC: one
  // flushed the loop's feedback (compiled again inside the window) and left the old
  // generation's limit tight (on Node 20 an incremental major GC then ran in the window). Then
  // count packets in chunks of 100 000 steps, the clock read between chunks.
  const gc = (globalThis as { gc?: (options: { type: 'minor' | 'major' }) => void }).gc;
  chunks(0.3);
  chunks(0.3);
  await new Promise((resolve) => setTimeout(resolve, 50));
  chunks(0.3);
  gc?.({ type: 'minor' });
  const before = getHeapStatistics().used_heap_size;
  windowStart = performance.now();
  const packets = chunks(limitSeconds);
  windowEnd = performance.now();
  const after = getHeapStatistics().used_heap_size;
  await new Promise((resolve) => setTimeout(resolve, 50)); // GC entries arrive asynchronously
  observer.disconnect();
  return {
    seconds: limitSeconds,
    packets,
    heapGrowth: after - before,
    gcCount: pauses.length,
    gcKinds: kinds,
    maxGcPauseMs: pauses.length > 0 ? Math.max(...pauses) : 0,
  };
}

/** Serves "run <s>" and "gc <s>" lines until the end of input (see the top of the file). */
async function serveRuns(): Promise<void> {
  console.log('ready');
  for await (const line of createInterface({ input: process.stdin })) {
    const [what, arg] = line.trim().split(' ');
    const s = Number(arg);
    if (!(s > 0) || (what !== 'run' && what !== 'gc')) throw new Error(`bad request: ${line}`);
    console.log(JSON.stringify(what === 'run' ? run(s) : await gcCheck(s)));
  }
}

const result: CaseResult = { rounds: [] };
try {
  // warm-up: let the JIT optimise the loop, and the code after it (a run that ended for the
  // first time deoptimised on its result object, and the next began in a lower tier)
  for (let i = 0; i < 5; i++) run(0.01);
  run(Math.min(0.5, seconds));
  if (serve) await serveRuns();
  else for (let r = 0; r < rounds; r++) result.rounds.push(run(seconds));
  if (gcSeconds > 0) result.gc = await gcCheck(gcSeconds);
  if (!port.buffersAccounted()) result.error = 'buffers lost: pool, rings and TX in flight do not add up';
} catch (err) {
  result.error = err instanceof Error ? err.message : String(err);
}
console.log(JSON.stringify(result));
