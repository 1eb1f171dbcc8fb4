// A port in another process, for the cross-process test: `send <cable> <count>` opens
// sim:<cable>:0 and sends <count> frames with known bytes; `receive <cable> <count>` opens
// sim:<cable>:1 and checks that they arrive complete, in order and byte-exact.
// Run with: node --conditions=@ixy/source --import tsx cable-peer.ts ...
import { PacketBatch, createStats, openDevice, txBatchBusyWait } from '@ixy/core';
import { Mempool, simulatedMemory, INDEX_MASK } from '@ixy/memory';
import '../src/index.js';
import '@ixy/sim';
import { fillBatch, frameBytes } from './helpers.js';

/** Frame length for sequence number `seq`: all sizes from 60 to 1514. */
export function peerFrameLength(seq: number): number {
  return 60 + ((seq * 37) % 1455);
}

function send(cable: string, count: number): void {
  const dev = openDevice(`sim:${cable}:0`, { linkTimeoutMs: 20_000 });
  if (dev.linkSpeed() === 0) throw new Error('no link: the receiver is not there');
  const pool = new Mempool({ allocator: simulatedMemory, entries: 2048 });
  const batch = new PacketBatch(32);
  for (let seq = 0; seq < count;) {
    const frames = [];
    for (let i = 0; i < 32 && seq < count; i++, seq++) frames.push(frameBytes(seq, peerFrameLength(seq)));
    fillBatch(pool, batch, frames);
    txBatchBusyWait(dev, 0, batch);
  }
  // the model may still hold frames back while the cable is full: let it run until all are out
  const stats = createStats();
  const empty = new PacketBatch(1);
  const deadline = Date.now() + 60_000;
  while (stats.txPackets < count) {
    if (Date.now() > deadline) throw new Error(`only ${stats.txPackets} of ${count} frames left the port`);
    dev.txBatch(0, empty);
    dev.readStats(stats);
  }
  dev.close();
  pool.close();
}

function receive(cable: string, count: number): void {
  const dev = openDevice(`sim:${cable}:1`, { linkTimeoutMs: 0 });
  process.send?.('ready');
  const rx = new PacketBatch(512);
  const deadline = Date.now() + 60_000;
  let next = 0;
  while (next < count) {
    if (Date.now() > deadline) throw new Error(`received only ${next} of ${count} frames`);
    const n = dev.rxBatch(0, rx);
    for (let i = 0; i < n; i++, next++) {
      const h = rx.handles[i];
      const pool = Mempool.of(h);
      const want = frameBytes(next, peerFrameLength(next));
      const len = pool.length[h & INDEX_MASK];
      const at = pool.dataOffset(h);
      if (len !== want.length) throw new Error(`frame ${next}: ${len} bytes, expected ${want.length}`);
      for (let b = 0; b < len; b++) {
        if (pool.bytes[at + b] !== want[b]) throw new Error(`frame ${next}: byte ${b} differs`);
      }
    }
    Mempool.freeBatch(rx);
  }
  const stats = createStats();
  dev.readStats(stats);
  if (stats.rxDropped !== 0) throw new Error(`${stats.rxDropped} frames dropped`);
  dev.close();
}

const [role, cable, countArg] = process.argv.slice(2);
if (role === 'send' || role === 'receive') {
  const count = Number(countArg);
  try {
    if (role === 'send') send(cable, count);
    else receive(cable, count);
    process.stdout.write(`${role} ok ${count}\n`);
  } catch (err) {
    process.stderr.write(`${role} failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
