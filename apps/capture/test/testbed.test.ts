// A test bed on one machine, as three processes over shared-memory cables:
//   ixy-pktgen sim:<in>:0  →  ixy-fwd sim:<in>:1 sim:<out>:0  →  ixy-capture sim:<out>:1 --verify
// Every frame must arrive: count, length, every payload byte, checksum, sequence, no duplicates.
// pktgen paces itself (10 kpps) so that three busy-polling processes on two cores never
// overflow a ring while one of them waits for a core (fwd's 4096-descriptor rings absorb 0.4 s):
// this checks correctness, not speed.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const app = (name: string): string => fileURLToPath(new URL(`../../${name}/dist/main.js`, import.meta.url));

interface Running {
  child: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function start(name: string, args: string[]): Running {
  const child = spawn(process.execPath, [app(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out, exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

async function waitFor(p: Running, text: string): Promise<void> {
  for (let i = 0; i < 600 && !p.out().includes(text); i++) {
    if (p.child.exitCode !== null) throw new Error(`exited early: ${p.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!p.out().includes(text)) throw new Error(`never printed '${text}': ${p.out()}`);
}

describe('pktgen → fwd → capture, three processes on simulated cables', () => {
  it('every frame arrives intact, in order, once', async () => {
    const tag = `tb${process.pid}`;
    const n = 5000;
    const capture = start('capture', [`sim:${tag}-out:1`, '--verify', '--in-order', '--count', String(n), '--duration', '120']);
    await waitFor(capture, 'receiving on');
    const fwd = start('fwd', [`sim:${tag}-in:1`, `sim:${tag}-out:0`, '--duration', '120', '--ring-size', '4096']);
    await waitFor(fwd, 'forwarding between');
    const pktgen = start('pktgen', [`sim:${tag}-in:0`, '--count', String(n), '--size', '128', '--rate', '0.01']);
    expect(await pktgen.exit, pktgen.out()).toBe(0);
    expect(pktgen.out()).toContain(`sent ${n} frames`);
    expect(await capture.exit, capture.out()).toBe(0);
    expect(capture.out()).toContain(`verified ${n} frames, ${n * 128} bytes, 0 bad, 0 lost, 0 duplicated, 0 out of order`);
    fwd.child.kill('SIGINT');
    expect(await fwd.exit, fwd.out()).toBe(0);
    // the device counts bytes as the 82599 does: with the 4-byte CRC
    expect(fwd.out()).toMatch(new RegExp(`\\[sim:${tag}-in:1\\] total RX: ${n} packets ${n * 132} bytes`));
  }, 180_000);

  it('pktgen and capture explain themselves and reject bad input clearly', async () => {
    const help = start('pktgen', ['--help']);
    expect(await help.exit).toBe(0);
    expect(help.out()).toMatch(/Sends UDP test frames/);
    const bad = start('capture', ['nonsense']);
    expect(await bad.exit).toBe(1);
    expect(bad.out()).toMatch(/'nonsense' is not a device address/);
    expect(bad.out()).not.toMatch(/\n\s+at /);
    const size = start('pktgen', ['sim:x:0', '--size', '9000']);
    expect(await size.exit).not.toBe(0);
    expect(size.out()).toMatch(/expected an integer from 60 to 1514/);
  });
});
