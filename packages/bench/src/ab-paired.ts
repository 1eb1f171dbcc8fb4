// Two versions of the code, side by side in one process: the fwd step of each built checkout (its
// InstantPort, PacketBatch and forwardBatch, each checkout's own modules) in alternating slices
// of 40 ms, the order flipped every pair (ABBA), for `seconds`. Prints each side's best, first
// quartile and median ns per packet (CPU time) and the median of the per-pair ratios B ÷ A, the
// steadiest figure on a shared machine (README, "Profiling a case yourself").
//
//   node dist/ab-paired.js <fast|safe> <batch> <seconds> <checkoutA>[:fast|safe] <checkoutB>[:fast|safe]
//
// A checkout is a directory holding this repository, built (`pnpm install && pnpm build`), e.g. a
// `git worktree` of the commit to compare against; the two sides are two checkouts (fast against
// safe of one commit: a worktree of it beside it).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tunePacketLoopV8 } from '@ixy/cli';

// both sides with the V8 inlining budget the apps set (a flag of the process, not of a checkout)
tunePacketLoopV8();

interface Batch {
  readonly capacity: number;
}
type Forward = (rx: unknown, tx: unknown, batch: Batch) => number;

const [kindArg, batchArg, secondsArg, ...sides] = process.argv.slice(2);
const batchSize = Number(batchArg);
const seconds = Number(secondsArg);
if (
  (kindArg !== 'fast' && kindArg !== 'safe') ||
  !(batchSize >= 1 && batchSize <= 256) ||
  !(seconds > 0) ||
  sides.length !== 2
) {
  console.error(
    'usage: ab-paired.js <fast|safe> <batch 1..256> <seconds> <checkoutA>[:fast|safe] <checkoutB>[:fast|safe]',
  );
  process.exit(2);
}

// One checkout on both sides shares its modules (an ES module is loaded once): the two sides'
// queues then run one compiled receive and send, which sees two pools and keeps neither as a
// constant. An A/A run of one checkout, fast against fast, measured B ÷ A 1.17 (AMD EPYC, Node
// 24); of two worktrees of one commit, 1.00–1.01.
if (resolve(sides[0].split(':')[0]) === resolve(sides[1].split(':')[0])) {
  console.error(
    'error: both sides are one checkout, whose modules the two sides would share (see the source); compare a second checkout: git worktree add <dir> HEAD, then pnpm install --offline && pnpm build in it',
  );
  process.exit(2);
}

async function load(spec: string): Promise<(ms: number) => number> {
  const [dir, kind = kindArg] = spec.split(':');
  const root = resolve(dir);
  const module = (path: string): string => {
    const file = join(root, 'packages', path);
    if (!existsSync(file)) {
      console.error(`error: ${file} is missing: is ${root} a checkout of ixy-ts, built with pnpm build?`);
      process.exit(2);
    }
    return pathToFileURL(file).href;
  };
  const { InstantPort } = (await import(module('bench/dist/instant-port.js'))) as {
    InstantPort: new (safe: boolean) => object;
  };
  const { PacketBatch } = (await import(module('core/dist/index.js'))) as { PacketBatch: new (n: number) => Batch };
  const { forwardBatch } = (await import(module('cli/dist/index.js'))) as { forwardBatch: Forward };
  const port = new InstantPort(kind === 'safe');
  const batch = new PacketBatch(batchSize);
  // each side its own functions, compiled from their own source: closures of one function
  // literal share their feedback, and the step's call sites would see both sides' functions
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function(
    'fwd',
    'port',
    'batch',
    `const step = () => fwd(port, port, batch);
     return (ms) => { let p = 0; const t0 = performance.now(); let t = t0;
       while (t - t0 < ms) { for (let i = 0; i < 64; i++) p += step(); t = performance.now(); } return p; };`,
  ) as (fwd: Forward, port: object, batch: Batch) => (ms: number) => number;
  return make(forwardBatch, port, batch);
}

const runs = [await load(sides[0]), await load(sides[1])];
for (let w = 0; w < 30; w++) for (const run of runs) run(20);
const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};
const ns: [number[], number[]] = [[], []];
const end = performance.now() + seconds * 1000;
for (let flip = 0; performance.now() < end; flip ^= 1) {
  for (const k of flip === 0 ? [0, 1] : [1, 0]) {
    const c0 = cpuNs();
    const packets = runs[k](40);
    ns[k].push((cpuNs() - c0) / packets);
  }
}
const sorted = (v: number[]): number[] => [...v].sort((x, y) => x - y);
const at = (v: number[], q: number): number => sorted(v)[Math.floor((v.length - 1) * q)];
const ratios = ns[0].map((a, i) => ns[1][i] / a);
const side = (name: string, v: number[]): string =>
  `${name} best ${at(v, 0).toFixed(1)}, p25 ${at(v, 0.25).toFixed(1)}, median ${at(v, 0.5).toFixed(1)} ns/packet`;
console.log(`fwd ${kindArg} batch ${batchSize}, ${ratios.length} pairs of 40 ms slices`);
console.log(`  A: ${sides[0]}: ${side('', ns[0]).trim()}`);
console.log(`  B: ${sides[1]}: ${side('', ns[1]).trim()}`);
console.log(
  `  B / A: median ${at(ratios, 0.5).toFixed(3)} (quartiles ${at(ratios, 0.25).toFixed(3)} to ${at(ratios, 0.75).toFixed(3)})`,
);
