// Packets through the whole simulated path in one thread: driver TX → 82599 model → cable →
// model → driver RX, 60-byte frames in batches of 32. Measures the model as much as the driver.
//   node --conditions=@ixy/source --import tsx bench/sim-pair.ts
import { PacketBatch, deviceDma, openDevice } from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { Cable } from '@ixy/sim';
import '../src/index.js';

const name = `bench-${process.pid}`;
const a = openDevice(`sim:${name}:0`);
const b = openDevice(`sim:${name}:1`);
const pool = new Mempool({ allocator: deviceDma(a), entries: 4096 });
const tx = new PacketBatch(32);
const rx = new PacketBatch(64);

function run(rounds: number): number {
  let received = 0;
  for (let r = 0; r < rounds; r++) {
    const n = pool.allocBatch(tx, 32);
    for (let i = 0; i < n; i++) {
      const h = tx.handles[i];
      pool.length[h & INDEX_MASK] = 60;
      pool.bytes[pool.dataOffset(h)] = 0xff;
    }
    const sent = a.txBatch(0, tx);
    Mempool.freeBatch(tx, sent);
    const got = b.rxBatch(0, rx);
    Mempool.freeBatch(rx);
    received += got;
  }
  return received;
}

run(20_000);
for (let i = 0; i < 3; i++) {
  const t = process.hrtime.bigint();
  const n = run(100_000);
  const ns = Number(process.hrtime.bigint() - t);
  console.log(`${(ns / n).toFixed(1)} ns per packet, ${(n / (ns / 1e3)).toFixed(2)} Mpps (sim path, one thread)`);
}
a.close();
b.close();
Cable.remove(name);
