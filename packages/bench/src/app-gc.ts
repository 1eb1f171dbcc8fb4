import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fwdNodeArgs } from './fwd-app.js';
import type { GcWatch } from './gc-watch.js';

/**
 * ixy-fwd as a user starts it, for `seconds`: its demo (`pnpm --filter fwd start`, which runs
 * `node --no-memory-reducer dist/main.js`: two simulated 82599 ports, traffic from a worker
 * thread), with a GC watcher loaded into the process (gc-watch.ts). The versus-C section checks
 * the step alone for GCs; this checks the app around it: its poll loop, stats, event loop and
 * the simulated ports, where the step's check cannot see an allocation (the apps' memory reducer
 * pauses and the poll loop's clock reads were found only here).
 */
export interface AppGcRun {
  seconds: number;
  /**
   * GCs of the forwarding (main) thread between its first and its last stats line: from a
   * second into forwarding to the end of the loop (not the drain and teardown after it).
   */
  gcs: number;
  kinds: Record<string, number>;
  maxPauseMs: number;
  /** The longest pause before that (start-up: loading, compiling, opening the ports). */
  startupMaxPauseMs: number;
  /** What the demo's traffic source reported at the end. */
  sent: number;
  received: number;
  corrupt: number;
  droppedAtFwd: number;
  droppedAtSource: number;
  exitCode: number | null;
  /** Why the run tells nothing, if it does not (the app failed, printed no stats, ...). */
  error?: string;
}

// the built watcher, also when this module runs from src/ (the bench's tests)
const WATCHER = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'gc-watch.js')).href;
const TRAFFIC_LINE =
  /traffic source: sent (\d+) frames, (\d+) came back forwarded, (\d+) corrupt; dropped: (\d+) at fwd's ports, (\d+) at the source's/;

export async function appGcRun(seconds: number): Promise<AppGcRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ixy-bench-gc-'));
  const file = join(dir, 'gcs.json');
  // as the app's start script runs it, with the watcher loaded before the app
  const child = spawn(process.execPath, fwdNodeArgs(['--duration', String(seconds)], ['--import', WATCHER]), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, IXY_GC_WATCH: file },
  });
  // a demo that does not end in time is stopped (SIGINT: it still reports), then killed
  const stop = setTimeout(() => child.kill('SIGINT'), (seconds + 30) * 1000);
  const kill = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
  // the window, in ms since the epoch: the GCs' times come from the child's clock as its time
  // origin (epoch ms) + ms since, which matches this process's unless the wall clock is set
  // during the run
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let traffic: RegExpExecArray | null = null;
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (/^\[.*\] RX: /.test(line)) {
      windowEnd = performance.timeOrigin + performance.now();
      if (windowStart === Infinity) windowStart = windowEnd;
    }
    traffic ??= TRAFFIC_LINE.exec(line);
  });
  const exitCode = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(stop);
  clearTimeout(kill);
  const run: AppGcRun = {
    seconds,
    gcs: 0,
    kinds: {},
    maxPauseMs: 0,
    startupMaxPauseMs: 0,
    sent: 0,
    received: 0,
    corrupt: 0,
    droppedAtFwd: 0,
    droppedAtSource: 0,
    exitCode,
  };
  const t = traffic as RegExpExecArray | null;
  if (t !== null) {
    [run.sent, run.received, run.corrupt, run.droppedAtFwd, run.droppedAtSource] = t.slice(1, 6).map(Number);
  }
  let watch: GcWatch | undefined;
  try {
    watch = JSON.parse(readFileSync(file, 'utf8')) as GcWatch;
  } catch {
    // reported below
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // the demo exits 1 when a frame came back corrupt: reported as such (formatAppGc)
  if (t === null || (exitCode !== 0 && run.corrupt === 0)) {
    run.error = `ixy-fwd's demo ended with exit code ${exitCode}${t === null ? ' and no traffic report' : ''}: ${err.trim().split('\n').slice(-3).join(' / ') || '(nothing on stderr)'}`;
  } else if (windowStart === Infinity) {
    run.error = 'ixy-fwd printed no stats line';
  } else if (watch === undefined) {
    run.error = `the GC watcher wrote nothing to ${file}`;
  }
  for (const gc of watch?.gcs ?? []) {
    const at = watch!.timeOrigin + gc.start;
    if (at < windowStart) {
      run.startupMaxPauseMs = Math.max(run.startupMaxPauseMs, gc.ms);
      continue;
    }
    if (at > windowEnd) continue; // the drain and teardown
    run.gcs++;
    run.kinds[gc.kind] = (run.kinds[gc.kind] ?? 0) + 1;
    run.maxPauseMs = Math.max(run.maxPauseMs, gc.ms);
  }
  return run;
}

/** The section's report line, and what fails the bench. */
export function formatAppGc(r: AppGcRun): { text: string; failures: string[] } {
  const failures: string[] = [];
  if (r.error !== undefined) failures.push(r.error);
  const kinds = Object.entries(r.kinds)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const text =
    `ixy-fwd's demo as users start it (node --no-memory-reducer dist/main.js), ${r.seconds} s, with a GC watcher loaded:\n` +
    `  forwarding thread from its first to its last stats line: ${r.gcs} GCs${kinds ? ` (${kinds})` : ''}, longest pause ${r.maxPauseMs.toFixed(2)} ms` +
    ` (start-up before it: longest ${r.startupMaxPauseMs.toFixed(2)} ms)\n` +
    `  traffic: ${r.sent} frames sent, ${r.received} forwarded back (${(r.received / r.seconds / 1e6).toFixed(2)} Mpps in all), ${r.corrupt} corrupt, dropped ${r.droppedAtFwd} at fwd's ports and ${r.droppedAtSource} at the source's`;
  if (r.error === undefined) {
    if (r.maxPauseMs > 1)
      failures.push(
        `ixy-fwd's demo: a GC pause of ${r.maxPauseMs.toFixed(2)} ms in its forwarding thread (over 1 ms; on a busy machine a thread descheduled during a scavenge stretches it: run the bench on an idle one)`,
      );
    if (r.corrupt > 0) failures.push(`ixy-fwd's demo: ${r.corrupt} corrupt frames`);
  }
  return { text, failures };
}
