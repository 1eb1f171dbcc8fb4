// Loaded into an app's process by the bench (`node --import …/gc-watch.js`, see app-gc.ts):
// records the GCs of the process's main thread (the packet loop's) and, at exit, writes them
// as JSON to the file IXY_GC_WATCH names. It adds nothing to the loop: the observer's entries
// come in on the event loop, which the apps' pollLoop visits every few ms anyway.
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { GC_KINDS } from './gc-kinds.js';

/** One GC: start (ms since the process's time origin), pause (ms), kind. */
export interface WatchedGc {
  start: number;
  ms: number;
  kind: string;
}

export interface GcWatch {
  /** The process's time origin (ms since the epoch): start + timeOrigin is comparable across processes. */
  timeOrigin: number;
  gcs: WatchedGc[];
}

const out = process.env.IXY_GC_WATCH;
if (isMainThread && out) {
  const gcs: WatchedGc[] = [];
  const take = (entries: PerformanceEntry[]): void => {
    for (const e of entries) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1;
      gcs.push({ start: e.startTime, ms: e.duration, kind: GC_KINDS[kind] ?? String(kind) });
    }
  };
  const observer = new PerformanceObserver((list) => take(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  process.on('exit', () => {
    take(observer.takeRecords());
    writeFileSync(out, JSON.stringify({ timeOrigin: performance.timeOrigin, gcs } satisfies GcWatch));
  });
}
