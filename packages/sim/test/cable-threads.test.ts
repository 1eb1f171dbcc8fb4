import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Cable } from '../src/cable.js';
import { testFrame } from './test-frame.js';

const BOOT = fileURLToPath(new URL('./ts-worker.mjs', import.meta.url));
const PEER = new URL('./thread-peer.ts', import.meta.url).href;

function startPeer(
  name: string,
  count: number,
  end: 0 | 1,
): { worker: Worker; messages: string[]; next: () => Promise<string>; exited: Promise<number> } {
  const worker = new Worker(BOOT, { workerData: { file: PEER, name, count, end } });
  // from the start: a worker that ends before the test waits for it (its last frames still in
  // the cable) has fired 'exit' already, and a listener added then waits forever (a 90 s
  // timeout, 1 run in 8 on Node 20 under load)
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const messages: string[] = [];
  const waiting: ((m: string) => void)[] = [];
  worker.on('message', (m: string) => (waiting.length ? waiting.shift()!(m) : messages.push(m)));
  worker.on('error', (e) =>
    waiting.length ? waiting.shift()!(`error: ${e.message}`) : messages.push(`error: ${e.message}`),
  );
  const next = (): Promise<string> =>
    messages.length ? Promise.resolve(messages.shift()!) : new Promise((r) => waiting.push(r));
  return { worker, messages, next, exited };
}

describe('a cable between two worker threads of one process', () => {
  it('carries frames from a worker to the main thread byte-exact, with flow control', async () => {
    const name = `threads-${process.pid}-${randomBytes(4).toString('hex')}`;
    const cable = Cable.open(name, { slots: 64 });
    try {
      const me = cable.attach(0);
      const count = 5000;
      const peer = startPeer(name, count, 1);
      expect(await peer.next()).toBe('attached');
      expect(me.peerPresent(true)).toBe(true);
      let seq = 0;
      const deadline = Date.now() + 60_000;
      while (seq < count && Date.now() < deadline) {
        const f = me.rx.receive();
        if (f === null) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        const want = testFrame(seq);
        if (f.length !== want.length || !f.every((b, i) => b === want[i])) expect(f, `frame ${seq}`).toEqual(want);
        seq++;
      }
      expect(seq).toBe(count);
      expect(await peer.next()).toBe('sent');
      // the worker closes its end after saying 'sent', then ends by itself: wait for that (a
      // terminate() right after 'sent' could stop it before its close, under load it did)
      await peer.exited;
      expect(me.peerPresent()).toBe(false); // the worker closed its end
    } finally {
      cable.close();
      Cable.remove(name);
    }
  }, 90_000);

  it('refuses an end another thread of this process holds', async () => {
    const name = `threads-${process.pid}-${randomBytes(4).toString('hex')}`;
    const cable = Cable.open(name, { slots: 16 });
    try {
      cable.attach(1);
      const peer = startPeer(name, 0, 1);
      expect(await peer.next()).toMatch(/error: end 1 of cable .* is open in another process or thread/);
      await peer.worker.terminate();
    } finally {
      cable.close();
      Cable.remove(name);
    }
  }, 30_000);
});
