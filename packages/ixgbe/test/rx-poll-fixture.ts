// Run with: node --allow-natives-syntax --conditions=@ixy/source --import tsx rx-poll-fixture.ts
// A receive loop compiled by the optimising compiler must see descriptors that another thread
// (standing in for the card's DMA) writes while it polls: the status reads of RxQueue.receive
// may not be cached or hoisted. Prints a JSON line; exits non-zero when a check fails.
import { Worker } from 'node:worker_threads';
import { PacketBatch, type DmaAllocator, type DmaRegion, type Registers } from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { RxQueue } from '../src/rx-queue.js';
import { IXGBE_RDT } from '../src/registers.js';

const RING = 64;
const PACKETS = 5000;

/** DMA memory a worker thread can write: SharedArrayBuffers with made-up bus addresses. */
class SharedDma implements DmaAllocator {
  readonly name = 'shared';
  private next = 0x1_0000_0000;
  allocate(size: number): DmaRegion {
    const buffer = new SharedArrayBuffer(Math.ceil(size / 4096) * 4096);
    const base = this.next;
    this.next += 0x100_0000;
    return {
      buffer,
      size: buffer.byteLength,
      contiguousChunk: buffer.byteLength,
      physAddr: (o: number) => base + o,
      free: () => {},
    };
  }
}

/** Registers that publish RDT to the device thread. */
class TailRegisters implements Registers {
  readonly size = 0x20000;
  readonly tail = new Int32Array(new SharedArrayBuffer(4));
  read32(): number {
    return 0;
  }
  write32(offset: number, value: number): void {
    if (offset === IXGBE_RDT(0)) Atomics.store(this.tail, 0, value);
  }
  read16(): number {
    return 0;
  }
  write16(): void {}
  read8(): number {
    return 0;
  }
  write8(): void {}
}

const dma = new SharedDma();
const regs = new TailRegisters();
const pool = new Mempool({ allocator: dma, entries: 512 });
const queue = new RxQueue(0, RING, pool, dma, regs);
queue.fill();
regs.write32(IXGBE_RDT(0), RING - 1);
const batch = new PacketBatch(32);

/** The application's receive loop: polls until `want` packets came, checking each length. */
function receiveLoop(
  q: RxQueue,
  b: PacketBatch,
  want: number,
  first: number,
  maxSpins: number,
): { spins: number; bad: number } {
  let got = 0;
  let spins = 0;
  let bad = 0;
  while (got < want) {
    const n = q.receive(b, 32);
    if (n === 0) {
      if (++spins > maxSpins) break;
      continue;
    }
    for (let i = 0; i < n; i++) {
      const h = b.handles[i];
      if (pool.length[h & INDEX_MASK] !== 60 + ((first + got + i) % 100)) bad++;
      pool.free(h);
    }
    got += n;
  }
  return { spins, bad: bad + (want - got) };
}

/** The device: writes one descriptor at a time, as DMA would, pausing now and then. */
const device = `
const { workerData } = require('node:worker_threads');
const { ring, tail, start, count, size } = workerData;
const u32 = new Uint32Array(ring);
const t = new Int32Array(tail);
const nap = new Int32Array(new SharedArrayBuffer(4));
let head = start;
for (let i = 0; i < count; i++) {
  while (head === Atomics.load(t, 0)) {} // ring full: wait for the driver to hand buffers back
  const w = head * 4;
  u32[w] = 0; u32[w + 1] = 0;
  u32[w + 3] = 60 + (i % 100);
  Atomics.store(u32, w + 2, 3); // DD | EOP, last
  head = (head + 1) % size;
  if (i % 97 === 0) Atomics.wait(nap, 0, 0, 1);
}
`;

// warm up with descriptors written by this thread, then have the loop optimised
const ring = queue.ring;
let next = 0;
const feed = (n: number): void => {
  for (let i = 0; i < n; i++) {
    const w = ((next + i) % RING) * 4;
    ring[w + 3] = 60 + (i % 100);
    ring[w + 2] = 3;
  }
  next = (next + n) % RING;
};
// V8 natives syntax is not TypeScript: these three are built at run time (node --allow-natives-syntax)
/* eslint-disable @typescript-eslint/no-implied-eval */
const optStatus = new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number;
const prepare = new Function('f', '%PrepareFunctionForOptimization(f)') as (f: unknown) => void;
const optimize = new Function('f', '%OptimizeFunctionOnNextCall(f)') as (f: unknown) => void;
prepare(receiveLoop);
// (asking for one more than fed also runs the empty-poll path, so it is compiled too)
for (let r = 0; r < 3; r++) {
  feed(40);
  receiveLoop(queue, batch, 41, 0, 1000);
}
optimize(receiveLoop);
feed(40);
receiveLoop(queue, batch, 41, 0, 1000);
const status = optStatus(receiveLoop);
const optimized = (status & 16) !== 0 && (status & 64) !== 0; // V8 11: optimised, TurboFan

const worker = new Worker(device, {
  eval: true,
  workerData: { ring: queue.region.buffer, tail: regs.tail.buffer, start: next, count: PACKETS, size: RING },
});
const result = receiveLoop(queue, batch, PACKETS, 0, 2e9);
await worker.terminate();
const stillOptimized = (optStatus(receiveLoop) & 16) !== 0;
console.log(JSON.stringify({ optimized, stillOptimized, ...result }));
if (!optimized || !stillOptimized || result.bad !== 0) process.exitCode = 1;
