// The traffic source and sink behind the simulated ports of `ixy-fwd` without arguments: runs
// in a worker thread, sends numbered test frames into both of fwd's ports and checks every
// frame that comes back out of the other one.
import { parentPort, workerData } from 'node:worker_threads';
import { PacketBatch, createStats, deviceDma, openDevice, type IxyDevice } from '@ixy/core';
import { Mempool } from '@ixy/memory';
import { Generator, Sink } from '@ixy/traffic';
import { loadDrivers } from '@ixy/drivers';

export interface TrafficWorkerData {
  /** The far ends of fwd's two cables. */
  ports: [string, string];
  /** Int32Array[1]: set to 1 to stop. */
  stop: SharedArrayBuffer;
  size: number;
  batch: number;
}

export interface TrafficSummary {
  sent: number;
  received: number;
  bad: number;
  firstFault: string;
  /** Frames the source's own ports dropped on receive (no free descriptor). */
  dropped: number;
}

const data = workerData as TrafficWorkerData;
const stop = new Int32Array(data.stop);

await loadDrivers();
// flow control on the source's ports too: the demo is lossless end to end (see main.ts)
const devs: IxyDevice[] = data.ports.map((p) => openDevice(p, { flowControl: true }));
const gens = devs.map(
  (d) => new Generator(new Mempool({ allocator: deviceDma(d), entries: 4096 }), { size: data.size }),
);
const sinks = devs.map(() => new Sink());
const batch = new PacketBatch(data.batch);
// frames a port did not take wait in their batch and go first (no gaps in the sequence)
const pending = devs.map(() => new PacketBatch(data.batch));
// a field, not a module-level variable: past 2^31 frames a variable's count is a new heap
// number at every store (module variables live in the module's context), a field's is updated
// in place (Node 24: 462 minor GCs per 3e7 increments against 1)
const tally = { sent: 0 };

while (Atomics.load(stop, 0) === 0) {
  for (let i = 0; i < devs.length; i++) {
    const out = pending[i];
    if (out.length > 0 || gens[i].fill(out) > 0) {
      const n = devs[i].txBatch(0, out);
      tally.sent += n;
      out.shift(n);
    }
    devs[i].rxBatch(0, batch);
    sinks[i].consume(batch);
  }
}

for (const p of pending) Mempool.freeBatch(p);
const stats = createStats();
for (const d of devs) d.readStats(stats);
const summary: TrafficSummary = {
  dropped: stats.rxDropped,
  sent: tally.sent,
  received: sinks.reduce((a, s) => a + s.received, 0),
  bad: sinks.reduce((a, s) => a + s.bad, 0),
  firstFault: sinks.map((s) => s.firstFault).find((f) => f) ?? '',
};
for (const d of devs) d.close();
parentPort?.postMessage(summary);
