import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { PacketBatch, deviceDma, openDevice, type IxyDevice } from '@ixy/core';
import { Mempool } from '@ixy/memory';
import { Cable } from '@ixy/sim';
import {
  Generator,
  LatencyHistogram,
  Pacer,
  formatNs,
  nsBetween,
  readSendTimeHi,
  readSendTimeLo,
  writeSendTime,
  type LatencySummary,
} from '@ixy/traffic';
import { fwdNodeArgs } from './fwd-app.js';
import { linePlot } from './plot.js';
import type { Machine } from './machine.js';

/**
 * Latency through ixy-fwd, as the ixy paper measures it (its tail-latency figure: a CCDF per
 * offered rate), on simulated ports: ixy-fwd runs as the app, in a process of its own, between
 * two cables; this process is the load generator and the sink on the cables' far ends. One
 * busy-polling thread here stamps each frame with the clock when its batch goes to the port
 * (`Generator`'s stamp, CLOCK_MONOTONIC) and reads the clock once per received batch, so both
 * ends read one clock: no offset between them. Each frame's latency is from the stamp to the
 * moment this loop had it: the source port's TX, cable A, fwd's RX ring, fwd, its TX, cable B,
 * the sink's RX ring, plus up to one turn of this loop (under a µs at low rates, a few µs when it
 * fills whole batches at the maximum). On a 2-core machine the two busy threads have a core each
 * only when nothing else runs: the tail shows the machine's other work too.
 */

export interface FwdLatencyRun {
  /** ixy-fwd's poll mode. */
  mode: 'busy-poll' | 'hybrid';
  /** Offered rate in Mpps; null: as fast as the source port takes frames (the maximum). */
  offeredMpps: number | null;
  seconds: number;
  /** Frames the source port took, and those that came back through fwd. */
  sent: number;
  received: number;
  sentMpps: number;
  forwardedMpps: number;
  /** Share of a core ixy-fwd used during the run (10 ms resolution). */
  fwdCpu: number;
  /** Garbage collections in this (the measuring) thread during the run, and the longest (ms). */
  loadGcs: number;
  loadGcMaxMs: number;
  /** ns. */
  latency: LatencySummary;
  /** [ns, share of frames slower]: the CCDF. */
  ccdf: [number, number][];
}

export interface FwdLatencyOptions {
  /** Seconds measured per rate (after a warm-up of a quarter of it). */
  seconds: number;
  /** Offered rates below the maximum, in Mpps (those at or above 95 % of it are left out). */
  rates: number[];
  /** Also offer these shares of the maximum measured (e.g. 0.5, 0.9). */
  shares: number[];
  batch?: number;
  progress?: (msg: string) => void;
}

/** CPU seconds a process used so far (utime + stime, USER_HZ 100). */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Starts ixy-fwd between the near ends of two cables and waits until both of our far ends see link. */
async function startFwd(tag: string, busyPoll: boolean, src: IxyDevice, sink: IxyDevice): Promise<ChildProcess> {
  const args = fwdNodeArgs([`sim:${tag}-a:1`, `sim:${tag}-b:0`, ...(busyPoll ? ['--busy-poll'] : [])]);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = performance.now() + 60_000;
  while (src.linkSpeed() === 0 || sink.linkSpeed() === 0) {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ixy-fwd did not come up: ${err.trim() || `exit code ${child.exitCode}`}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

/**
 * One offered rate: a warm-up, `seconds` measured, then a drain (no more frames sent; what is
 * in flight is still received and recorded, so the tail is not cut off).
 */
function runRate(
  src: IxyDevice,
  sink: IxyDevice,
  gen: Generator,
  batchSize: number,
  offeredMpps: number | null,
  seconds: number,
  fwdPid: number,
): Omit<FwdLatencyRun, 'mode' | 'loadGcs' | 'loadGcMaxMs'> & { window: [number, number] } {
  const clock = gen.clock!;
  const pool = gen.pool;
  const send = new PacketBatch(batchSize);
  const recv = new PacketBatch(256);
  const hist = new LatencyHistogram();
  clock.read();
  const hi0 = clock.hi;
  const lo0 = clock.lo;
  const pacer = offeredMpps !== null ? new Pacer(offeredMpps * 1000, batchSize, 0) : null;
  const warmupMs = seconds * 250;
  const endMs = warmupMs + seconds * 1000;
  let sent = 0;
  let received = 0;
  let measuring = false;
  let cpu0 = 0;
  let lastFrameMs = 0;
  let stopMs = Infinity;
  let windowStart = 0;
  let wHi = 0;
  let wLo = 0;
  let cpu1 = 0;
  let turn = 0;
  for (;;) {
    // receive first: the clock read after it is this batch's receive time and the next send
    // time. Each read allocates (≈ 60 bytes inside performance.now() in Node 20 and 22, 30 in
    // 24) and so brings the next scavenge (≈ 0.1–0.2 ms, in which nothing is received) closer:
    // at a paced rate, a turn that received nothing reads the clock only every 8th time, which
    // delays a send by a few turns (≈ 1 µs) at most and does not touch a stamp (a stamp is the
    // read just taken).
    const n = sink.rxBatch(0, recv);
    if (n === 0 && pacer !== null && (++turn & 7) !== 0) continue;
    clock.read();
    const hi = clock.hi;
    const lo = clock.lo;
    const nowMs = nsBetween(hi0, lo0, hi, lo) / 1e6;
    if (n > 0) {
      const h = recv.handles;
      for (let i = 0; i < n; i++) {
        const p = Mempool.of(h[i]);
        const off = p.dataOffset(h[i]);
        const sHi = readSendTimeHi(p.bytes, off);
        const sLo = readSendTimeLo(p.bytes, off);
        // only frames sent in the measured window count (not the warm-up's stragglers)
        if (!measuring || nsBetween(wHi, wLo, sHi, sLo) < 0) continue;
        hist.record(nsBetween(sHi, sLo, hi, lo));
        received++;
      }
      Mempool.freeBatch(recv);
      lastFrameMs = nowMs;
    }
    if (nowMs < endMs) {
      if (!measuring && nowMs >= warmupMs) {
        measuring = true;
        windowStart = performance.now();
        wHi = hi;
        wLo = lo;
        cpu0 = cpuSeconds(fwdPid);
      }
      let want = batchSize;
      if (pacer !== null) want = Math.min(want, pacer.allowed(nowMs));
      if (want > 0) {
        const k = gen.fill(send, want);
        const sh = send.handles;
        for (let i = 0; i < k; i++) writeSendTime(pool.bytes, pool.dataOffset(sh[i]), hi, lo);
        const took = src.txBatch(0, send);
        if (took < k) Mempool.freeBatch(send, took); // the port's ring is full: not offered
        send.length = 0;
        if (measuring) sent += took;
        pacer?.took(k);
      }
    } else {
      if (stopMs === Infinity) {
        stopMs = nowMs;
        cpu1 = cpuSeconds(fwdPid);
      }
      // drained: 20 ms without a frame (or 500 ms, whatever is left is lost)
      if (nowMs - Math.max(lastFrameMs, stopMs) > 20 || nowMs - stopMs > 500) break;
    }
  }
  const fwdCpu = (cpu1 - cpu0) / seconds;
  const window: [number, number] = [windowStart, performance.now()];
  return {
    window,
    offeredMpps,
    seconds,
    sent,
    received,
    sentMpps: sent / seconds / 1e6,
    forwardedMpps: received / seconds / 1e6,
    fwdCpu,
    latency: hist.summary(),
    ccdf: hist.ccdf(),
  };
}

/** Latency through ixy-fwd at each rate, busy-polling and in hybrid mode. */
export async function fwdLatency(options: FwdLatencyOptions): Promise<FwdLatencyRun[]> {
  const batch = options.batch ?? 32;
  const runs: FwdLatencyRun[] = [];
  // the measuring loop's own GC pauses delay what it receives: counted per run
  const gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const withGcs = async (r: ReturnType<typeof runRate>): Promise<Omit<FwdLatencyRun, 'mode'>> => {
    await tick(); // the observer hears of the GCs of a synchronous loop once it yields
    const { window, ...run } = r;
    const during = gcs.filter((g) => g.startTime >= window[0] && g.startTime <= window[1]);
    return { ...run, loadGcs: during.length, loadGcMaxMs: Math.max(0, ...during.map((g) => g.duration)) };
  };
  for (const busyPoll of [true, false]) {
    const mode = busyPoll ? 'busy-poll' : 'hybrid';
    const tag = `bench-${process.pid}-lat${busyPoll ? 'b' : 'h'}`;
    const src = openDevice(`sim:${tag}-a:0`);
    const sink = openDevice(`sim:${tag}-b:1`);
    const pool = new Mempool({ allocator: deviceDma(src), entries: 4096 });
    let fwd: ChildProcess | undefined;
    try {
      const gen = new Generator(pool, { size: 60, timestamp: true });
      fwd = await startFwd(tag, busyPoll, src, sink);
      const pid = fwd.pid!;
      options.progress?.(`latency through ixy-fwd, ${mode}, maximum rate`);
      const max = await withGcs(runRate(src, sink, gen, batch, null, options.seconds, pid));
      const top = max.forwardedMpps;
      const rates = [...options.rates, ...options.shares.map((s) => Number((s * top).toPrecision(2)))]
        .filter((r) => r > 0 && r < 0.95 * top)
        .sort((a, b) => a - b)
        .filter((r, i, all) => i === 0 || r > all[i - 1] * 1.1); // one of two rates within 10 %
      for (const rate of rates) {
        options.progress?.(`latency through ixy-fwd, ${mode}, ${rate} Mpps`);
        runs.push({ mode, ...(await withGcs(runRate(src, sink, gen, batch, rate, options.seconds, pid))) });
      }
      runs.push({ mode, ...max });
    } finally {
      if (fwd && fwd.exitCode === null) {
        const exited = new Promise((r) => fwd!.once('exit', r));
        fwd.kill('SIGINT');
        await exited;
      }
      src.close();
      sink.close();
      pool.close();
      Cable.remove(`${tag}-a`);
      Cable.remove(`${tag}-b`);
    }
  }
  observer.disconnect();
  return runs;
}

const rateName = (r: FwdLatencyRun): string =>
  r.offeredMpps === null ? 'max' : `${Number(r.offeredMpps.toPrecision(3))} Mpps`;

export function formatFwdLatency(title: string, runs: FwdLatencyRun[]): string {
  const head =
    `  ${'ixy-fwd'.padEnd(9)} ${'offered'.padStart(11)} ${'sent'.padStart(6)} ${'fwd'.padStart(6)} ${'lost'.padStart(7)}` +
    ` ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'p99.9'.padStart(9)} ${'p99.99'.padStart(9)} ${'max'.padStart(9)} ${'fwd CPU'.padStart(8)} ${'load GCs'.padStart(14)}`;
  const rows = runs.map((r) => {
    const lost = r.sent > 0 ? ((r.sent - r.received) / r.sent) * 100 : 0;
    const l = r.latency;
    return (
      `  ${r.mode.padEnd(9)} ${rateName(r).padStart(11)} ${r.sentMpps.toFixed(3).padStart(6)} ${r.forwardedMpps.toFixed(3).padStart(6)} ${`${Math.max(0, lost).toFixed(lost > 0 && lost < 0.1 ? 3 : 1)} %`.padStart(7)}` +
      ` ${[l.p50, l.p99, l.p999, l.p9999, l.max].map((v) => (l.count > 0 ? formatNs(v) : '-').padStart(9)).join(' ')}` +
      ` ${`${(r.fwdCpu * 100).toFixed(0)} %`.padStart(8)} ${`${r.loadGcs} (≤${r.loadGcMaxMs.toFixed(2)} ms)`.padStart(14)}`
    );
  });
  return `${title}\n${head}\n${rows.join('\n')}`;
}

/**
 * The CCDF thinned for a plot: a point where the latency grew by 10 % or the share slower fell
 * by a third since the last one kept (the JSON keeps every bucket).
 */
function thin(ccdf: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [ns, above] of ccdf) {
    const last = out[out.length - 1];
    if (last === undefined || ns >= last[0] * 1.1 || above <= (last[1] * 2) / 3 || above === 0) out.push([ns, above]);
  }
  return out;
}

/** Writes the runs as JSON and their CCDFs as an SVG plot (µs on a log axis, like the paper's figure). */
export function writeFwdLatencyResults(
  runs: FwdLatencyRun[],
  dir: string,
  tag: string,
  machine: Machine,
  method: object,
): { json: string; svg: string } {
  const json = join(dir, `fwd-latency-${tag}.json`);
  writeFileSync(
    json,
    JSON.stringify({ date: new Date().toISOString(), machine, method, unit: 'ns', runs }, null, 2) + '\n',
  );
  const svg = join(dir, `fwd-latency-ccdf-${tag}.svg`);
  const floor = 1 / Math.max(1, ...runs.map((r) => r.latency.count));
  writeFileSync(
    svg,
    linePlot(
      runs.map((r) => ({
        name: `${r.mode === 'busy-poll' ? 'busy' : 'hybrid'} ${rateName(r)}`,
        points: thin(r.ccdf).map(([ns, above]) => [ns / 1000, above] as const),
        dashed: r.mode === 'hybrid',
      })),
      {
        title: `Latency through ixy-fwd, simulated ports (Node ${machine.node})`,
        xLabel: 'latency (µs)',
        yLabel: 'share of frames slower (CCDF)',
        logX: true,
        logY: true,
        yRange: [floor, 1],
      },
    ),
  );
  return { json, svg };
}

/**
 * The section `pnpm bench` prints: the table, then the JSON and the plot under `dir`. The quick
 * run (`--quick`) measures three rates per mode for 0.6 s each (≈ 10 s in all); the full one six
 * or so for 2 s each.
 */
export async function fwdLatencySection(
  machine: Machine,
  quick: boolean,
  dir: string,
  tag: string,
  progress?: (msg: string) => void,
): Promise<string> {
  const options: FwdLatencyOptions = quick
    ? { seconds: 0.6, rates: [0.005], shares: [0.5], progress }
    : { seconds: 2, rates: [0.005, 0.05, 0.5, 1, 2], shares: [0.9], progress };
  const load = loadavg()[0];
  const runs = await fwdLatency(options);
  const { json, svg } = writeFwdLatencyResults(runs, dir, tag, machine, {
    seconds: options.seconds,
    warmupSeconds: options.seconds / 4,
    frame: '60 bytes, stamped at TX (one clock read per batch), batch 32',
    setup: 'ixy-fwd in its own process between two simulated cables; source and sink busy-polling in the bench process',
    loadAverageBefore: load,
  });
  return (
    formatFwdLatency(
      `Latency through ixy-fwd on simulated ports (its own process; source and sink busy-polling in this one, ${options.seconds} s per rate), stamp at TX to receipt; load average ${load.toFixed(1)} before`,
      runs,
    ) + `\n  results: ${json}\n  CCDF plot: ${svg}`
  );
}
