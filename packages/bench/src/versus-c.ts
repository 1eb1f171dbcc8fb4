import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CBuild, type Round, runCReference } from './cref.js';
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

/** One point of the comparison: the best round of a case, per packet. */
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
  gc: { fast?: GcCheck; safe?: GcCheck };
  errors: string[];
}

function best(batch: number, rounds: Round[], ghz: number): Point {
  const top = rounds.reduce((a, b) => (b.cpuNs / b.packets < a.cpuNs / a.packets ? b : a));
  const ns = top.cpuNs / top.packets;
  return { batch, ns, cycles: ns * ghz, wallNs: top.wallNs / top.packets, rounds };
}

function runTsCase(
  mode: string,
  kind: 'fast' | 'safe',
  batch: number,
  seconds: number,
  rounds: number,
  gcSeconds: number,
): CaseResult {
  const args = [tsCase, mode, kind, String(batch), String(seconds), String(rounds), String(gcSeconds)];
  const out = spawnSync(process.execPath, [...CASE_NODE_FLAGS, ...args], { encoding: 'utf8' });
  const line = out.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as CaseResult;
  } catch {
    return { rounds: [], error: `exit ${out.status}: ${out.stderr.trim().split('\n').slice(0, 5).join(' | ')}` };
  }
}

/**
 * TypeScript fast and safe mode against the C reference, batch by batch: each case in a process
 * of its own, and the three cases in turn (C, TS fast, TS safe), `reps` times over for each
 * batch size; a case's point is its best round over all its processes. On a shared machine a
 * neighbour's burst hits one process of one case: taking turns spreads it, and the best of
 * several processes per case drops it (one process per case swung ratios by ±40 %).
 * `gcSeconds` > 0: the last fast and safe processes at `gcBatch` also run the steady-state heap
 * and GC check that long.
 */
export function versusC(
  mode: 'fwd' | 'rings',
  build: CBuild,
  ghz: number,
  batches: number[],
  seconds: number,
  rounds: number,
  reps: number,
  gcSeconds = 0,
  gcBatch = 32,
  progress: (msg: string) => void = () => {},
): Comparison {
  const result: Comparison = { mode, batches, c: build.ok ? [] : null, fast: [], safe: [], gc: {}, errors: [] };
  for (const batch of batches) {
    const got: { c: Round[]; fast: Round[]; safe: Round[] } = { c: [], fast: [], safe: [] };
    for (let rep = 0; rep < reps; rep++) {
      progress(`${mode} batch ${batch} (${rep + 1} of ${reps})`);
      if (build.ok && result.c !== null) {
        try {
          got.c.push(...runCReference(build, mode, batch, seconds, rounds));
        } catch (err) {
          result.errors.push(err instanceof Error ? err.message : String(err));
        }
      }
      for (const kind of ['fast', 'safe'] as const) {
        const last = rep === reps - 1 && batch === gcBatch;
        const one = runTsCase(mode, kind, batch, seconds, rounds, last ? gcSeconds : 0);
        if (one.error !== undefined) result.errors.push(`TypeScript ${kind} ${mode} batch ${batch}: ${one.error}`);
        got[kind].push(...one.rounds);
        if (one.gc !== undefined) result.gc[kind] = one.gc;
      }
    }
    if (result.c !== null && got.c.length > 0) result.c.push(best(batch, got.c, ghz));
    if (got.fast.length > 0) result.fast.push(best(batch, got.fast, ghz));
    if (got.safe.length > 0) result.safe.push(best(batch, got.safe, ghz));
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

/** The full table: C, fast, safe per batch size, with safe ÷ fast. */
export function comparisonTable(title: string, cmp: Comparison): string {
  const head = `  ${'batch'.padStart(5)} ${'C ns'.padStart(8)} ${'fast ns'.padStart(8)} ${'safe ns'.padStart(8)} ${'C cyc'.padStart(6)} ${'fast cyc'.padStart(8)} ${'safe cyc'.padStart(8)} ${'fast/C'.padStart(7)} ${'safe/C'.padStart(7)} ${'safe/fast'.padStart(9)}`;
  const rows = cmp.batches.map((batch) => {
    const c = cmp.c?.find((p) => p.batch === batch);
    const f = cmp.fast.find((p) => p.batch === batch);
    const s = cmp.safe.find((p) => p.batch === batch);
    const n = (p: Point | undefined): number => p?.ns ?? NaN;
    const y = (p: Point | undefined): number => p?.cycles ?? NaN;
    return `  ${String(batch).padStart(5)} ${fmt(n(c)).padStart(8)} ${fmt(n(f)).padStart(8)} ${fmt(n(s)).padStart(8)} ${fmt(y(c), 0).padStart(6)} ${fmt(y(f), 0).padStart(8)} ${fmt(y(s), 0).padStart(8)} ${fmt(n(f) / n(c), 2).padStart(7)} ${fmt(n(s) / n(c), 2).padStart(7)} ${fmt(n(s) / n(f), 2).padStart(9)}`;
  });
  return `${title}\n${head}\n${rows.join('\n')}`;
}
