// The traffic source and sink behind the simulated ports of `ixy-fwd` without arguments: runs
// in a worker thread, sends numbered test frames into both of fwd's ports and checks every
// frame that comes back out of the other one.
import { parentPort, workerData } from 'node:worker_threads';
import { PacketBatch, deviceDma, openDevice, type IxyDevice } from '@ixy/core';
import { Mempool } from '@ixy/memory';
import { Generator, Sink } from '@ixy/traffic';
import { loadDrivers } from '@ixy/cli';

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
}

const data = workerData as TrafficWorkerData;
const stop = new Int32Array(data.stop);

await loadDrivers();
const devs: IxyDevice[] = data.ports.map((p) => openDevice(p));
const gens = devs.map((d) => new Generator(new Mempool({ allocator: deviceDma(d), entries: 4096 }), { size: data.size }));
const sinks = devs.map(() => new Sink());
const batch = new PacketBatch(data.batch);
let sent = 0;

while (Atomics.load(stop, 0) === 0) {
  for (let i = 0; i < devs.length; i++) {
    if (gens[i].fill(batch) > 0) {
      const n = devs[i].txBatch(0, batch);
      sent += n;
      Mempool.freeBatch(batch, n);
    }
    devs[i].rxBatch(0, batch);
    sinks[i].consume(batch);
  }
}

const summary: TrafficSummary = {
  sent,
  received: sinks.reduce((a, s) => a + s.received, 0),
  bad: sinks.reduce((a, s) => a + s.bad, 0),
  firstFault: sinks.map((s) => s.firstFault).find((f) => f) ?? '',
};
for (const d of devs) d.close();
parentPort?.postMessage(summary);
