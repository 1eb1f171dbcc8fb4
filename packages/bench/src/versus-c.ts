import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaseProcess } from './case-process.js';
import { type CBuild, type Round } from './cref.js';
import type { CaseResult, GcCheck } from './ts-case.js';

// the built case script, also when this module runs from src/ (the bench's tests)
const tsCase = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'ts-case.js');

/**
 * V8 flags of the TypeScript case processes. V8's memory reducer runs a full mark-compact
 * (25–75 ms on this loaded machine) about 8 s into a process that allocates little, to give
 * back its start-up garbage: housekeeping, not the packet path, but a pause all the same. A
 * forwarder that must not pause runs with this flag too (README). --expose-gc: the heap check
 * empties the young generation before it starts watching.
 */
export const CASE_NODE_FLAGS = ['--no-memory-reducer', '--expose-gc'];

/** One point of the comparison: the best run of a case, per packet. */
export interface Point {
  batch: number;
  /** CPU ns per packet (best round). */
  ns: number;
  cycles: number;
  /** Wall-clock ns per packet of that round. */
  wallNs: number;
  rounds: Round[];
}

export interface Comparison {
  mode: 'fwd' | 'rings';
  batches: number[];
  c: Point[] | null;
  fast: Point[];
  safe: Point[];
  /** Every round of every batch size, the three cases' runs of a round side by side. */
  paired: { batch: number; rounds: PairedRound[] }[];
  gc: { fast?: GcCheck; safe?: GcCheck };
  errors: string[];
}

function best(batch: number, rounds: Round[], ghz: number): Point {
  const top = rounds.reduce((a, b) => (b.cpuNs / b.packets < a.cpuNs / a.packets ? b : a));
  const ns = top.cpuNs / top.packets;
  return { batch, ns, cycles: ns * ghz, wallNs: top.wallNs / top.packets, rounds };
}

/** A round of each case, taken in turn: the three runs of one round are seconds apart at most. */
export interface PairedRound {
  c?: Round;
  fast: Round;
  safe: Round;
}

function parseRound(line: string): Round {
  const [packets, cpuNs, wallNs] = line.split(' ').map(Number);
  if (!(packets > 0) || !(cpuNs > 0)) throw new Error(`C reference: unexpected output "${line}"`);
  return { packets, cpuNs, wallNs };
}

function parseJson<T>(name: string, line: string): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${name}: unexpected output "${line.slice(0, 200)}"`);
  }
}

type CaseKind = 'c' | 'fast' | 'safe';

/** The three processes of one batch size, and its rounds so far. */
interface BatchCases {
  batch: number;
  cases: { kind: CaseKind; proc: CaseProcess }[];
  rounds: PairedRound[];
}

/** Starts one case's process (`cBinary`: the built C reference, for kind 'c'). */
function startCase(kind: CaseKind, mode: string, batch: number, cBinary: string): CaseProcess {
  return kind === 'c'
    ? new CaseProcess(`C reference ${mode} batch ${batch}`, cBinary, ['serve', mode, String(batch)])
    : new CaseProcess(`TypeScript ${kind} ${mode} batch ${batch}`, process.execPath, [
        ...CASE_NODE_FLAGS,
        tsCase,
        mode,
        kind,
        String(batch),
        'serve',
      ]);
}

/**
 * TypeScript fast and safe mode against the C reference. Each case of each batch size runs in a
 * process of its own (the JIT sees one mode and one batch size, as in an application), started
 * and warmed up one after the other. Then the bench takes turns between all of them, one run of
 * `seconds` each: a round runs every batch size's C, fast and safe (that order rotated every
 * round), `rounds` rounds. A case's point is its best run.
 *
 * This machine is a shared virtual one whose speed changes for seconds at a time (a neighbour on
 * the same physical core), and those phases slow the TypeScript more than the C (batch 32: 30 →
 * 55 ns against 20 → 25). With processes in turn, each a few seconds long, one case could meet a
 * quiet phase and another only a busy one (fast ÷ C at batch 32 was 1.31, 1.42 and 1.55 in
 * three runs of the same code); with one batch size's runs all in a row, a busy phase of a few
 * seconds could take all of them (batch 32 once came out at 1.96 between 1.62 at 16 and 1.25 at
 * 64). Runs in turn across cases and batch sizes, a tenth of a second each, spread every case
 * over the whole measurement. `gcSeconds` > 0: at `gcBatch`, fast and safe then run the
 * steady-state heap and GC check that long.
 */
export async function versusC(
  mode: 'fwd' | 'rings',
  build: CBuild,
  ghz: number,
  batches: number[],
  seconds: number,
  rounds: number,
  gcSeconds = 0,
  gcBatch = 32,
  progress: (msg: string) => void = () => {},
): Promise<Comparison> {
  const result: Comparison = {
    mode,
    batches,
    c: build.ok ? [] : null,
    fast: [],
    safe: [],
    paired: [],
    gc: {},
    errors: [],
  };
  const kinds: readonly CaseKind[] = build.ok ? ['c', 'fast', 'safe'] : ['fast', 'safe'];
  const live: BatchCases[] = [];
  /** Drops a batch size whose process failed: its error is kept, its processes stopped. */
  const fail = (b: BatchCases, err: unknown): void => {
    result.errors.push(err instanceof Error ? err.message : String(err));
    for (const { proc } of b.cases) proc.kill();
    live.splice(live.indexOf(b), 1);
  };
  for (const batch of batches) {
    progress(`${mode}: starting batch ${batch}`);
    const b: BatchCases = { batch, cases: [], rounds: [] };
    live.push(b);
    try {
      for (const kind of kinds) {
        const proc = startCase(kind, mode, batch, build.ok ? build.binary : '');
        b.cases.push({ kind, proc });
        const ready = await proc.next();
        if (ready !== 'ready') throw new Error(`${proc.name}: "${ready}" instead of ready`);
      }
    } catch (err) {
      fail(b, err);
    }
  }
  for (let r = 0; r < rounds; r++) {
    progress(`${mode}: round ${r + 1} of ${rounds}`);
    for (const b of [...live]) {
      try {
        const round: Partial<PairedRound> = {};
        for (let k = 0; k < b.cases.length; k++) {
          const { kind, proc } = b.cases[(r + k) % b.cases.length];
          const line = await proc.request(kind === 'c' ? String(seconds) : `run ${seconds}`);
          round[kind] = kind === 'c' ? parseRound(line) : parseJson<Round>(proc.name, line);
        }
        b.rounds.push(round as PairedRound);
      } catch (err) {
        fail(b, err);
      }
    }
  }
  for (const b of [...live]) {
    try {
      if (b.batch === gcBatch && gcSeconds > 0) {
        progress(`${mode}: steady-state check at batch ${b.batch}`);
        for (const { kind, proc } of b.cases) {
          if (kind !== 'c') result.gc[kind] = parseJson<GcCheck>(proc.name, await proc.request(`gc ${gcSeconds}`));
        }
      }
      for (const { kind, proc } of b.cases) {
        const { tail, code } = await proc.finish();
        const end = kind === 'c' ? undefined : parseJson<CaseResult>(proc.name, tail[tail.length - 1] ?? '');
        if (end?.error !== undefined) result.errors.push(`${proc.name}: ${end.error}`);
        if (code !== 0) result.errors.push(`${proc.name} exited with ${code}: ${proc.errorOutput}`);
      }
    } catch (err) {
      fail(b, err);
      continue;
    }
    result.paired.push({ batch: b.batch, rounds: b.rounds });
    const of = (kind: CaseKind): Round[] => b.rounds.map((p) => p[kind]).filter((x): x is Round => x !== undefined);
    if (result.c !== null) result.c.push(best(b.batch, of('c'), ghz));
    result.fast.push(best(b.batch, of('fast'), ghz));
    result.safe.push(best(b.batch, of('safe'), ghz));
  }
  return result;
}

const fmt = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

/**
 * The summary lines: `fwd batch 32: <ns> ns/packet, <cycles> cycles/packet, <ratio>x C`, and the
 * same prefixed `safe ` for safe mode (ratio = TypeScript / C, both measured in this run).
 */
export function summaryLines(cmp: Comparison, batches: number[]): string[] {
  const lines: string[] = [];
  for (const kind of ['fast', 'safe'] as const) {
    for (const batch of batches) {
      const ts = cmp[kind].find((p) => p.batch === batch);
      const c = cmp.c?.find((p) => p.batch === batch);
      if (ts === undefined) continue;
      const ratio = c !== undefined ? `${fmt(ts.ns / c.ns, 2)}x C` : 'n/a x C (no C reference)';
      lines.push(
        `${kind === 'safe' ? 'safe ' : ''}${cmp.mode} batch ${batch}: ${fmt(ts.ns)} ns/packet, ${fmt(ts.cycles, 0)} cycles/packet, ${ratio}`,
      );
    }
  }
  return lines;
}

/** The median over a batch size's rounds of the ratio of two cases' runs in the same round. */
export function pairedRatio(cmp: Comparison, batch: number, top: 'fast' | 'safe', bottom: 'c' | 'fast'): number {
  const ratios = (cmp.paired.find((p) => p.batch === batch)?.rounds ?? [])
    .map((r) => {
      const a = r[top];
      const b = r[bottom];
      return b === undefined ? NaN : a.cpuNs / a.packets / (b.cpuNs / b.packets);
    })
    .filter(Number.isFinite)
    .sort((x, y) => x - y);
  return ratios.length > 0 ? ratios[ratios.length >> 1] : NaN;
}

/** The full table: C, fast, safe per batch size, with safe ÷ fast, and the paired ratios. */
export function comparisonTable(title: string, cmp: Comparison): string {
  const head = `  ${'batch'.padStart(5)} ${'C ns'.padStart(8)} ${'fast ns'.padStart(8)} ${'safe ns'.padStart(8)} ${'C cyc'.padStart(6)} ${'fast cyc'.padStart(8)} ${'safe cyc'.padStart(8)} ${'fast/C'.padStart(7)} ${'safe/C'.padStart(7)} ${'safe/fast'.padStart(9)} ${'paired: fast/C'.padStart(14)} ${'safe/fast'.padStart(9)}`;
  const rows = cmp.batches.map((batch) => {
    const c = cmp.c?.find((p) => p.batch === batch);
    const f = cmp.fast.find((p) => p.batch === batch);
    const s = cmp.safe.find((p) => p.batch === batch);
    const n = (p: Point | undefined): number => p?.ns ?? NaN;
    const y = (p: Point | undefined): number => p?.cycles ?? NaN;
    const pf = pairedRatio(cmp, batch, 'fast', 'c');
    const ps = pairedRatio(cmp, batch, 'safe', 'fast');
    return `  ${String(batch).padStart(5)} ${fmt(n(c)).padStart(8)} ${fmt(n(f)).padStart(8)} ${fmt(n(s)).padStart(8)} ${fmt(y(c), 0).padStart(6)} ${fmt(y(f), 0).padStart(8)} ${fmt(y(s), 0).padStart(8)} ${fmt(n(f) / n(c), 2).padStart(7)} ${fmt(n(s) / n(c), 2).padStart(7)} ${fmt(n(s) / n(f), 2).padStart(9)} ${fmt(pf, 2).padStart(14)} ${fmt(ps, 2).padStart(9)}`;
  });
  return `${title}\n${head}\n${rows.join('\n')}`;
}
