import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PacketBatch, deviceDma, openDevice, type IxyDevice } from '@ixy/core';
import { pollLoop, rxWakeups } from '@ixy/cli';
import { Mempool } from '@ixy/memory';
import { Cable } from '@ixy/sim';
import { Generator } from '@ixy/traffic';
import { forwardBatch } from '@ixy/cli';
import type { Rate } from './measure.js';

/**
 * What hybrid mode costs at full load: ixy-fwd's loop on simulated ports (as in simForward),
 * run through the apps' pollLoop once busy-polling and once in hybrid mode. Under full load
 * a hybrid loop never goes idle, so the difference is the check of each step's result.
 */
export async function hybridAtFullLoad(ghz: number, seconds: number): Promise<Rate[]> {
  const rates: Rate[] = [];
  for (const busyPoll of [true, false]) {
    const tag = `bench-${process.pid}-h${busyPoll ? 'b' : 'h'}`;
    const ports: IxyDevice[] = [`sim:${tag}-a:1`, `sim:${tag}-a:0`, `sim:${tag}-b:0`, `sim:${tag}-b:1`].map((a) =>
      openDevice(a),
    );
    const [src, fwdIn, fwdOut, sink] = ports;
    const pool = new Mempool({ allocator: deviceDma(src), entries: 4096 });
    const gen = new Generator(pool, { size: 60 });
    const send = new PacketBatch(32);
    const fwd = new PacketBatch(32);
    const recv = new PacketBatch(256);
    let packets = 0;
    const step = (): number => {
      if (gen.fill(send) > 0) Mempool.freeBatch(send, src.txBatch(0, send));
      const n = forwardBatch(fwdIn, fwdOut, fwd);
      sink.rxBatch(0, recv);
      Mempool.freeBatch(recv);
      packets += n;
      return n;
    };
    const wakeups = rxWakeups([fwdIn, fwdOut]);
    await pollLoop(step, { durationSeconds: Math.min(0.5, seconds / 2), busyPoll, wakeups, signals: [] }); // warm-up
    let best = 0;
    for (let round = 0; round < 3; round++) {
      packets = 0;
      const start = performance.now();
      await pollLoop(step, { durationSeconds: seconds, busyPoll, wakeups, signals: [] });
      best = Math.max(best, packets / ((performance.now() - start) / 1000));
    }
    const ns = 1e9 / best;
    rates.push({
      name: `fwd loop, pollLoop ${busyPoll ? 'busy-polling' : 'hybrid (default)'}`,
      packets: best,
      seconds: 1,
      mpps: best / 1e6,
      nsPerPacket: ns,
      cyclesPerPacket: ns * ghz,
    });
    for (const p of ports) p.close();
    pool.close();
    Cable.remove(`${tag}-a`);
    Cable.remove(`${tag}-b`);
  }
  return rates;
}

/** CPU seconds (user + system) this process's main thread has used (/proc: the worker is not counted). */
function mainThreadCpuSeconds(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ ticks
}

export interface Latency {
  name: string;
  frames: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  /** CPU time the receiving thread used, as a share of the wall time (10 ms resolution). */
  cpuShare: number;
}

// The sender: a worker thread that puts one frame stamped with the send time on a cable every
// `gapMs`, straight into the cable's frame ring (no device: only the receiver is measured). Its
// script is the built one, also when this module runs from src/ (the bench's tests), and it
// runs without this thread's flags (under vitest those map @ixy packages to their sources).
const SENDER = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'wakeup-sender.js');

/**
 * Wake-up latency: a frame arrives every `gapMs` on an otherwise idle simulated port; the
 * receiver runs the apps' pollLoop, busy-polling or hybrid (asleep on the cable's futex between
 * frames). Reports the time from the sender's stamp to the receiver seeing the frame, and how
 * much CPU the receiver burns meanwhile.
 */
export async function wakeupLatency(frames: number, gapMs: number): Promise<Latency[]> {
  const out: Latency[] = [];
  for (const busyPoll of [true, false]) {
    const tag = `bench-${process.pid}-lat${busyPoll ? 'b' : 'h'}`;
    const dev = openDevice(`sim:${tag}:1`);
    dev.setPromisc(true);
    const batch = new PacketBatch(32);
    const lat: number[] = [];
    const worker = new Worker(SENDER, { workerData: { cable: tag, frames, gapMs }, execArgv: [] });
    let done = false;
    worker.once('message', () => (done = true));
    const cpu0 = mainThreadCpuSeconds();
    const t0 = performance.now();
    await pollLoop(
      () => {
        const n = dev.rxBatch(0, batch);
        if (n === 0) return 0;
        const now = performance.timeOrigin + performance.now();
        for (let i = 0; i < n; i++) {
          const h = batch.handles[i];
          const pool = Mempool.of(h);
          lat.push(
            now -
              new DataView(pool.bytes.buffer, pool.bytes.byteOffset + pool.dataOffset(h) + 16, 8).getFloat64(0, true),
          );
        }
        Mempool.freeBatch(batch);
        return n;
      },
      { busyPoll, wakeups: rxWakeups([dev]), stopWhen: () => done, signals: [] },
    );
    const cpu = mainThreadCpuSeconds() - cpu0;
    const wall = performance.now() - t0;
    await worker.terminate();
    dev.close();
    Cable.remove(tag);
    lat.sort((a, b) => a - b);
    const q = (p: number): number =>
      lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] * 1000 : NaN;
    out.push({
      name: busyPoll ? 'busy-polling' : 'hybrid (default)',
      frames: lat.length,
      p50Us: q(0.5),
      p99Us: q(0.99),
      maxUs: lat.length ? lat[lat.length - 1] * 1000 : NaN,
      cpuShare: cpu / (wall / 1000),
    });
  }
  return out;
}

export function formatLatency(title: string, rows: Latency[]): string {
  return (
    `${title}\n  ${'mode'.padEnd(20)} ${'frames'.padStart(7)} ${'p50'.padStart(10)} ${'p99'.padStart(10)} ${'max'.padStart(10)} ${'CPU used'.padStart(9)}\n` +
    rows
      .map(
        (r) =>
          `  ${r.name.padEnd(20)} ${String(r.frames).padStart(7)} ${r.p50Us.toFixed(1).padStart(7)} µs ${r.p99Us.toFixed(1).padStart(7)} µs ${r.maxUs
            .toFixed(1)
            .padStart(7)} µs ${(r.cpuShare * 100).toFixed(1).padStart(7)} %`,
      )
      .join('\n')
  );
}
