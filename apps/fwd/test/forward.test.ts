// fwd end to end on simulated ports: every frame sent in arrives out of the other port
// unchanged but for the touched byte (byte 1, incremented once per hop).
import '@ixy/ixgbe';
import '@ixy/sim';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PacketBatch, createStats, deviceDma, openDevice, txBatchBusyWait, type IxyDevice } from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { Generator, Sink } from '@ixy/traffic';
import { forwardBatch } from '@ixy/cli';

const opened: IxyDevice[] = [];
function open(address: string): IxyDevice {
  const dev = openDevice(address);
  opened.push(dev);
  return dev;
}
afterEach(() => {
  for (const d of opened.splice(0)) d.close();
});

/** Checks byte 1 of each frame (touched once per hop), then lets the sink check the rest. */
function consume(batch: PacketBatch, sink: Sink, expectByte1: number, wrongByte1: { count: number }): void {
  const h = batch.handles;
  for (let i = 0; i < batch.length; i++) {
    const pool = Mempool.of(h[i]);
    if (pool.bytes[pool.dataOffset(h[i]) + 1] !== expectByte1) wrongByte1.count++;
  }
  sink.consume(batch);
}

describe('forwardBatch between two simulated ports', () => {
  for (const sizes of [[60], [60, 1514, 128, 999, 61]]) {
    it(`forwards every frame unchanged but the touched byte (sizes ${sizes.join(',')})`, () => {
      const tag = `t${process.pid}-${sizes.length}`;
      const src = open(`sim:${tag}-in:1`);
      const fwdIn = open(`sim:${tag}-in:0`);
      const fwdOut = open(`sim:${tag}-out:0`);
      const dst = open(`sim:${tag}-out:1`);
      const pool = new Mempool({ allocator: deviceDma(src), entries: 1024, safe: true });
      const gen = new Generator(pool, { sizes });
      const sink = new Sink();
      const wrong = { count: 0 };
      const sendBatch = new PacketBatch(32);
      const fwdBatch = new PacketBatch(32);
      const rxBatch = new PacketBatch(64);
      const total = 10_000;
      let spins = 0;
      while (sink.received < total && spins++ < 100_000) {
        if (gen.seq < total && gen.seq - sink.received < 256) {
          gen.fill(sendBatch, Math.min(32, total - gen.seq));
          txBatchBusyWait(src, 0, sendBatch);
        }
        forwardBatch(fwdIn, fwdOut, fwdBatch);
        forwardBatch(fwdOut, fwdIn, fwdBatch);
        dst.rxBatch(0, rxBatch);
        consume(rxBatch, sink, 0x01, wrong);
      }
      expect(sink.summary()).toBe(`${total} frames, ${sink.bytes} bytes, 0 bad, 0 lost, 0 duplicated, 0 out of order`);
      expect(sink.received).toBe(total);
      expect(wrong.count).toBe(0);
      const expectedBytes = Array.from({ length: total }, (_, i) => sizes[i % sizes.length]).reduce((a, b) => a + b, 0);
      expect(sink.bytes).toBe(expectedBytes);
      // nothing leaked: every buffer of the generator's pool came back after TX clean-up
      for (let i = 0; i < 100 && pool.freeCount < pool.entries; i++) txBatchBusyWait(src, 0, new PacketBatch(1));
      void INDEX_MASK;
    });
  }
});

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** The ixy-fwd process a test started (killed after each test). */
let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
});

/** Starts ixy-fwd between `sim:<tag>-a:0` and `sim:<tag>-b:0`; resolves once it forwards. */
async function startFwd(tag: string, ...extra: string[]) {
  const proc = spawn(process.execPath, [main, `sim:${tag}-a:0`, `sim:${tag}-b:0`, ...extra, '--duration', '60'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (c) => {
      code = c;
      resolve(c);
    }),
  );
  while (!out.includes('forwarding between')) {
    if (proc.exitCode !== null) throw new Error(`ixy-fwd exited early: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, out: () => out, exited, code: () => code };
}

describe('ixy-fwd as a process, with traffic from this process over shared-memory cables', () => {
  it('forwards N frames end to end, then stops cleanly on SIGTERM with totals', async () => {
    const tag = `p${process.pid}`;
    const fwd = await startFwd(tag);
    const src = open(`sim:${tag}-a:1`);
    const dst = open(`sim:${tag}-b:1`);
    const pool = new Mempool({ allocator: deviceDma(src), entries: 1024 });
    const gen = new Generator(pool, { sizes: [60, 1514, 300] });
    const sink = new Sink();
    const wrong = { count: 0 };
    const send = new PacketBatch(16);
    const recv = new PacketBatch(64);
    const total = 3000;
    const deadline = Date.now() + 60_000;
    while (sink.received < total && Date.now() < deadline) {
      if (gen.seq < total && gen.seq - sink.received < 64) {
        gen.fill(send, Math.min(16, total - gen.seq));
        txBatchBusyWait(src, 0, send);
      }
      dst.rxBatch(0, recv);
      consume(recv, sink, 0x01, wrong);
      if (recv.length === 0) await new Promise((r) => setImmediate(r));
    }
    expect(sink.summary()).toBe(`${total} frames, ${sink.bytes} bytes, 0 bad, 0 lost, 0 duplicated, 0 out of order`);
    expect(wrong.count).toBe(0);
    fwd.proc.kill('SIGTERM');
    expect(await fwd.exited).toBe(0);
    expect(fwd.out()).toMatch(new RegExp(`\\[sim:${tag}-a:0\\] total RX: ${total} packets`));
    expect(fwd.out()).toMatch(new RegExp(`\\[sim:${tag}-b:0\\] total RX: 0 packets .* TX: ${total} packets`));
  });
});

describe("ixy-fwd's stop: what its TX rings hold leaves before the ports close, or is counted", () => {
  /**
   * Sends `total` frames into fwd's port a, towards a receiver at port b's far end with a ring of
   * 64 and flow control that reads nothing yet: the frames fill its ring (63), the cable (256
   * slots) and back up into fwd's TX ring. Resolves once the source has sent all of them.
   */
  async function backUp(tag: string, total: number) {
    const src = open(`sim:${tag}-a:1`);
    const dst = openDevice(`sim:${tag}-b:1`, { ringSize: 64, flowControl: true });
    opened.push(dst);
    const pool = new Mempool({ allocator: deviceDma(src), entries: 1024 });
    const gen = new Generator(pool, { sizes: [128] });
    const send = new PacketBatch(16);
    while (gen.seq < total) {
      gen.fill(send, Math.min(16, total - gen.seq));
      txBatchBusyWait(src, 0, send);
    }
    // the source's TX ring empties into fwd, which takes all of it (its ring holds 512)
    const stats = createStats();
    for (let i = 0; i < 400 && stats.txPackets < total; i++) {
      src.txBatch(0, new PacketBatch(1));
      src.readStats(stats);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(stats.txPackets).toBe(total);
    return dst;
  }

  /**
   * Resolves once ixy-fwd has taken everything the source sent: a stats line of port a, printed
   * after `mark` (the source had sent all), with nothing received in its second. fwd forwards at
   * once what its RX ring takes, as its TX ring has room for what the cable and the receiver's
   * ring do not hold. Not a fixed sleep, which a busy machine can outlast.
   */
  async function received(out: () => string, tag: string, mark: number): Promise<void> {
    const idle = new RegExp(`\\[sim:${tag}-a:0\\] RX: 0\\.00 Mbit/s`);
    for (let i = 0; i < 600 && !idle.test(out().slice(mark)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(out().slice(mark), 'ixy-fwd never had a second without receiving').toMatch(idle);
  }

  /** ixy-fwd started, `total` frames backed up into its TX ring, then SIGTERM. */
  async function stopBackedUp(tag: string, total: number) {
    const fwd = await startFwd(tag, '--lossless');
    const dst = await backUp(tag, total);
    await received(fwd.out, tag, fwd.out().length);
    fwd.proc.kill('SIGTERM');
    return { fwd, dst };
  }

  it('waits for a slow receiver to take what is still in its TX ring', async () => {
    const tag = `drain${process.pid}`;
    const total = 650;
    const { fwd, dst } = await stopBackedUp(tag, total);
    // the receiver now takes a frame every 10 ms: the ~330 frames in fwd's TX ring leave over
    // ~3 s, longer than the drain's patience without progress (a wait of 2 s in all loses some)
    const sink = new Sink();
    const one = new PacketBatch(1);
    let empty = 0;
    while (sink.received < total && (fwd.code() === undefined || empty < 100)) {
      const got = dst.rxBatch(0, one);
      sink.consume(one);
      empty = got === 0 ? empty + 1 : 0;
      await new Promise((r) => setTimeout(r, got === 0 ? 1 : 10));
    }
    expect(await fwd.exited, fwd.out()).toBe(0);
    expect(sink.summary()).toBe(`${total} frames, ${total * 128} bytes, 0 bad, 0 lost, 0 duplicated, 0 out of order`);
    expect(fwd.out()).toMatch(/ixy-fwd: waiting for \d+ frames still in the TX rings to leave/);
    expect(fwd.out()).not.toMatch(/never left|dropped/);
    expect(fwd.out()).toMatch(new RegExp(`\\[sim:${tag}-b:0\\] total RX: 0 packets .* TX: ${total} packets`));
  }, 60_000);

  it('counts as dropped, and says so, what a receiver that takes nothing left in its TX ring', async () => {
    const tag = `stuck${process.pid}`;
    const total = 700;
    const { fwd, dst } = await stopBackedUp(tag, total);
    expect(await fwd.exited, fwd.out()).toBe(0);
    // what left fwd's port is in the receiver's ring and the cable; the rest never left
    const batch = new PacketBatch(64);
    const sink = new Sink();
    for (let empty = 0; empty < 50;) {
      empty = dst.rxBatch(0, batch) === 0 ? empty + 1 : 0;
      sink.consume(batch);
      await new Promise((r) => setTimeout(r, 1));
    }
    const stuck = total - sink.received;
    expect(sink.received).toBeGreaterThan(0);
    expect(stuck).toBeGreaterThan(0);
    expect(fwd.out()).toContain(
      `ixy-fwd: ${stuck} frames for sim:${tag}-b:0 never left (link up): they were in its TX ring at the stop; counted as dropped`,
    );
    expect(fwd.out()).toMatch(
      new RegExp(
        `\\[sim:${tag}-b:0\\] total RX: 0 packets .* TX: ${sink.received} packets \\d+ bytes \\(${stuck} dropped\\)`,
      ),
    );
  }, 60_000);
});

describe('ixy-fwd command line', () => {
  it("reports a failure of the demo's traffic source in one line, exit 1, no unhandled rejection", async () => {
    const { Cable } = await import('@ixy/sim');
    const child = spawn(process.execPath, [main, '--duration', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // take the far end of the demo's first cable before the demo's source can: it will fail
    const cable = Cable.open(`fwd-${child.pid}-a`);
    const end = cable.attach(1);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    end.detach();
    cable.close();
    expect(code, out).toBe(1);
    expect(out).toMatch(
      /the demo's traffic source failed: end 1 of cable fwd-\d+-a is open in another process or thread/,
    );
    expect(out).not.toMatch(/\n\s+at |Unhandled|unhandled/);
  });

  it('stops cleanly on a Ctrl-C that arrives before the poll loop starts: totals printed, cables removed', async () => {
    const tag = `early${process.pid}`;
    const child = spawn(
      process.execPath,
      [main, `sim:${tag}-a:0`, `sim:${tag}-b:0`, '--driver', './test/fixtures/slow-driver'],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // once the slow driver package has begun to load (it blocks for 1.5 s), the loop has not started
    for (let i = 0; i < 400 && !out.includes('slow driver loading'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(out).toContain('slow driver loading');
    child.kill('SIGINT');
    expect(await exit, out).toBe(0);
    expect(out).toMatch(new RegExp(`\\[sim:${tag}-a:0\\] total RX: 0 packets`));
    expect(existsSync(`/dev/shm/ixy-cable-${tag}-a`)).toBe(false);
    expect(existsSync(`/dev/shm/ixy-cable-${tag}-b`)).toBe(false);
  });

  const run = (args: string[]): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (out += d.toString()));
      c.on('exit', (code) => resolve({ code, out }));
    });

  it('explains itself with --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Forwards packets between two ports/);
    expect(r.out).toMatch(/--batch/);
  });

  it('gives one clear line and a non-zero exit for bad input, never a stack trace', async () => {
    for (const [args, msg] of [
      [['eth0', 'eth1'], /'eth0' is not a device address/],
      [['sim:x:0'], /needs two ports/],
      [['--batch', '0'], /expected an integer from 1 to 4096/],
      [['0000:7f:1f.7', '0000:7f:1f.6'], /no PCI device at 0000:7f:1f.7/],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(msg);
      expect(r.out).not.toMatch(/\n\s+at /);
    }
  });

  it('runs the simulated demo with no arguments and checks the traffic', async () => {
    const r = await run(['--duration', '3']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/simulated demo/);
    expect(r.out).toMatch(/\[sim:fwd-\d+-a:0\] RX: [\d.]+ Mbit\/s [\d.]+ Mpps \| TX: [\d.]+ Mbit\/s [\d.]+ Mpps/);
    const m = /sent (\d+) frames, (\d+) came back forwarded, 0 corrupt/.exec(r.out);
    expect(m, r.out).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(0);
  });
});
