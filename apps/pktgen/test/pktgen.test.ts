// ixy-pktgen as a process: the frames it sends arrive at the far end of a simulated cable,
// numbered from 0 without gaps, every byte checkable.
import '@ixy/ixgbe';
import '@ixy/sim';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PacketBatch, openDevice } from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { Sink, hasSendTime, readSendTimeHi, readSendTimeLo, verifyFrame } from '@ixy/traffic';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function run(args: string[]): { exit: Promise<number | null>; out: () => string } {
  const c = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { exit: new Promise((resolve) => c.on('exit', resolve)), out: () => out };
}

describe('ixy-pktgen', () => {
  it('sends exactly --count frames of --size bytes, numbered without gaps', async () => {
    const tag = `pg${process.pid}`;
    const rx = openDevice(`sim:${tag}:1`, { ringSize: 4096 });
    const sink = new Sink();
    const batch = new PacketBatch(64);
    const n = 3000;
    const pktgen = run([`sim:${tag}:0`, '--count', String(n), '--size', '200', '--rate', '0.02']);
    let code: number | null | undefined;
    void pktgen.exit.then((c) => (code = c));
    const deadline = Date.now() + 60_000;
    while ((sink.received < n || code === undefined) && Date.now() < deadline) {
      rx.rxBatch(0, batch);
      sink.consume(batch);
      if (batch.length === 0) await new Promise((r) => setImmediate(r));
    }
    rx.close();
    expect(code, pktgen.out()).toBe(0);
    expect(pktgen.out()).toContain(`sent ${n} frames`);
    expect(pktgen.out()).toMatch(
      new RegExp(`\\[sim:${tag}:0\\] total RX: 0 packets 0 bytes \\| TX: ${n} packets ${n * 204} bytes`),
    );
    expect(sink.summary()).toBe(`${n} frames, ${n * 200} bytes, 0 bad, 0 lost, 0 duplicated, 0 out of order`);
  });

  it('--timestamp stamps every frame with CLOCK_MONOTONIC at its send, in order, and the frames stay checkable', async () => {
    const tag = `pgts${process.pid}`;
    const rx = openDevice(`sim:${tag}:1`, { ringSize: 4096 });
    const batch = new PacketBatch(64);
    const n = 2000;
    const before = process.hrtime.bigint();
    const pktgen = run([`sim:${tag}:0`, '--count', String(n), '--timestamp', '--rate', '0.02', '--batch', '16']);
    let code: number | null | undefined;
    void pktgen.exit.then((c) => (code = c));
    const stamps: bigint[] = [];
    let bad = 0;
    const deadline = Date.now() + 60_000;
    while ((stamps.length < n || code === undefined) && Date.now() < deadline) {
      const got = rx.rxBatch(0, batch);
      for (let i = 0; i < got; i++) {
        const h = batch.handles[i];
        const pool = Mempool.of(h);
        const off = pool.dataOffset(h);
        if (!hasSendTime(pool.bytes, off) || verifyFrame(pool.bytes, off, pool.length[h & INDEX_MASK]) !== 0) bad++;
        stamps.push((BigInt(readSendTimeHi(pool.bytes, off)) << 32n) | BigInt(readSendTimeLo(pool.bytes, off)));
      }
      Mempool.freeBatch(batch);
      if (got === 0) await new Promise((r) => setImmediate(r));
    }
    const after = process.hrtime.bigint();
    rx.close();
    expect(code, pktgen.out()).toBe(0);
    expect(pktgen.out()).toContain('stamped with their send time');
    expect(stamps.length).toBe(n);
    expect(bad).toBe(0);
    // the same clock as this process's hrtime (to within pktgen's calibration, well under 1 ms)
    const ms = 1_000_000n;
    for (const t of [stamps[0], stamps[n - 1]])
      expect(t > before - ms && t < after + ms, `${before} < ${t} < ${after}`).toBe(true);
    for (let i = 1; i < n; i++) if (stamps[i] < stamps[i - 1]) throw new Error(`stamp ${i} went back in time`);
  });

  it('before it closes the port, waits for a slow receiver to take every frame still in its TX ring', async () => {
    const tag = `pgslow${process.pid}`;
    // flow control: a full receive ring holds the cable back, and the cable pktgen's TX ring.
    // The receiver takes a frame every 10 ms only once pktgen has handed over all n: the last
    // ~300 leave pktgen's ring one by one over ~3 s, longer than its 2 s of patience without
    // progress (a total of 2 s, as before, closed the port on them)
    const rx = openDevice(`sim:${tag}:1`, { ringSize: 64, flowControl: true });
    const sink = new Sink();
    const one = new PacketBatch(1);
    const n = 900;
    const pktgen = run([`sim:${tag}:0`, '--count', String(n), '--size', '128']);
    let code: number | null | undefined;
    void pktgen.exit.then((c) => (code = c));
    for (let i = 0; i < 400 && !pktgen.out().includes('sending'); i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 300));
    // until all n came, or pktgen has exited and the ring and cable are empty
    let empty = 0;
    while (sink.received < n && (code === undefined || empty < 100)) {
      const got = rx.rxBatch(0, one);
      sink.consume(one);
      empty = got === 0 ? empty + 1 : 0;
      await new Promise((r) => setTimeout(r, got === 0 ? 1 : 10));
    }
    await pktgen.exit;
    rx.close();
    expect(code, pktgen.out()).toBe(0);
    expect(pktgen.out()).toContain(`sent ${n} frames`);
    expect(pktgen.out()).not.toMatch(/never left the port/);
    expect(sink.summary()).toBe(`${n} frames, ${n * 128} bytes, 0 bad, 0 lost, 0 duplicated, 0 out of order`);
  }, 120_000);

  it('counts as sent only what the port took, and says what never left a port without link', async () => {
    const tag = `pgnolink${process.pid}`;
    // nobody holds the far end: no link, so the port transmits nothing and its ring fills
    const pktgen = run([`sim:${tag}:0`, '--count', '2000', '--duration', '1']);
    expect(await pktgen.exit, pktgen.out()).toBe(0);
    const out = pktgen.out();
    expect(out).toMatch(/TX: 0 packets 0 bytes/);
    const sent = Number(/sent (\d+) frames/.exec(out)?.[1]);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(2000); // the TX ring's worth, no more
    expect(out).toContain(`${sent} of them never left the port (link down)`);
  });

  it('stops cleanly on Ctrl-C, and a second Ctrl-C ends the wait for its queue to drain: totals printed, cable removed', async () => {
    const tag = `pgsig${process.pid}`;
    const c = spawn(process.execPath, [main, `sim:${tag}:0`, '--count', '100000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => c.on('exit', resolve));
    for (let i = 0; i < 200 && !out.includes('sending'); i++) await new Promise((r) => setTimeout(r, 25));
    c.kill('SIGINT'); // no peer: the loop stops, then the drain waits for frames that cannot leave
    for (let i = 0; i < 200 && !out.includes('stopped by a signal'); i++) await new Promise((r) => setTimeout(r, 10));
    c.kill('SIGINT');
    expect(await exit, out).toBe(0);
    expect(out).toMatch(/total RX: 0 packets 0 bytes \| TX: 0 packets/);
    expect(out).toMatch(/never left the port \(link down\)/);
    expect(existsSync(`/dev/shm/ixy-cable-${tag}`)).toBe(false);
  });

  it('explains itself and rejects bad input with one line', async () => {
    const help = run(['--help']);
    expect(await help.exit).toBe(0);
    expect(help.out()).toMatch(/--rate <Mpps>/);
    const bad = run(['0000:00:1f.7']);
    expect(await bad.exit).toBe(1);
    expect(bad.out()).toMatch(/no PCI device at 0000:00:1f.7/);
    expect(bad.out()).not.toMatch(/\n\s+at /);
    const rate = run(['sim:x:0', '--rate', '-1']);
    expect(await rate.exit).not.toBe(0);
    expect(rate.out()).toMatch(/positive number of Mpps/);
  });
});
