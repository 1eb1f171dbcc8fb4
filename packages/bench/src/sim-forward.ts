import { PacketBatch, deviceDma, openDevice, type IxyDevice } from '@ixy/core';
import { Mempool } from '@ixy/memory';
import { Cable } from '@ixy/sim';
import { Generator } from '@ixy/traffic';
import { forwardBatch } from '@ixy/cli';
import { measure, type Rate } from './measure.js';

/**
 * ixy-fwd's loop on simulated ports, in one thread: a source on cable A's far end sends
 * 60-byte frames, fwd's ports forward A → B (the same `forwardBatch` the app runs), a sink on
 * B's far end frees them. Everything runs here: the drivers of four ports, four device models
 * copying frames through two cables. Per forwarded packet; fast and safe mode.
 */
export function simForward(ghz: number, seconds: number, cases: { safe: boolean; batch: number }[]): Rate[] {
  return cases.map(({ safe, batch: batchSize }) => {
    const tag = `bench-${process.pid}-${safe ? 's' : 'f'}${batchSize}`;
    // fwd's ports share one pool, as in ixy-fwd: fwdOut receives into fwdIn's (made for both)
    const src = openDevice(`sim:${tag}-a:1`, { safe });
    const fwdIn = openDevice(`sim:${tag}-a:0`, { safe, poolSize: 8192 });
    const fwdOut = openDevice(`sim:${tag}-b:0`, { safe, rxPool: fwdIn.rxPool?.(0) });
    const sink = openDevice(`sim:${tag}-b:1`, { safe });
    const ports: IxyDevice[] = [src, fwdIn, fwdOut, sink];
    const pool = new Mempool({ allocator: deviceDma(src), entries: 4096, safe });
    const gen = new Generator(pool, { size: 60 });
    const send = new PacketBatch(batchSize);
    const fwd = new PacketBatch(batchSize);
    const recv = new PacketBatch(256);
    const rate = measure(
      `fwd loop on sim ports, batch ${String(batchSize).padStart(3)}, ${safe ? 'safe' : 'fast'} mode`,
      () => {
        if (gen.fill(send) > 0) Mempool.freeBatch(send, src.txBatch(0, send));
        const n = forwardBatch(fwdIn, fwdOut, fwd);
        sink.rxBatch(0, recv);
        Mempool.freeBatch(recv);
        return n;
      },
      ghz,
      seconds,
    );
    for (const p of ports) p.close();
    pool.close();
    Cable.remove(`${tag}-a`);
    Cable.remove(`${tag}-b`);
    return rate;
  });
}
