// A test bed on one machine, as three processes over shared-memory cables:
//   ixy-pktgen sim:<in>:0  →  ixy-fwd sim:<in>:1 sim:<out>:0  →  ixy-capture sim:<out>:1 --verify
// Every frame must arrive: count, length, every payload byte, checksum, sequence, no duplicates;
// or, where the apps may drop, be counted as dropped. No assertion depends on timing.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out, exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

async function waitFor(p: Running, text: string): Promise<void> {
  for (let i = 0; i < 600 && !p.out().includes(text); i++) {
    if (p.child.exitCode !== null) throw new Error(`exited early: ${p.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!p.out().includes(text)) throw new Error(`never printed '${text}': ${p.out()}`);
}

/** CPU time (user + system) a process has used, in seconds, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** The drop counts in an app's totals lines: `(N dropped)` after RX and after TX. */
function drops(out: string): number {
  return [...out.matchAll(/\((\d+) dropped\)/g)].reduce((a, m) => a + Number(m[1]), 0);
}

describe('pktgen → fwd → capture, three processes on simulated cables', () => {
  // 1 Mpps through three processes on (say) two cores: busy-polling apps take turns on the
  // cores and overflow each other's rings (78 % lost, seen). Here idle apps sleep, and
  // --lossless turns every full ring into back-pressure (flow control, held TX), so the count
  // is exact whatever the machine's load: a slower machine only takes longer.
  it('at 1 Mpps with --lossless, every frame arrives intact, in order, once; idle apps sleep', async () => {
    const tag = `tb${process.pid}`;
    const n = 200_000;
    const capture = start('capture', [
      `sim:${tag}-out:1`,
      '--verify',
      '--in-order',
      '--lossless',
      '--count',
      String(n),
      '--duration',
      '300',
    ]);
    await waitFor(capture, 'receiving on');
    const fwd = start('fwd', [`sim:${tag}-in:1`, `sim:${tag}-out:0`, '--lossless', '--duration', '300']);
    await waitFor(fwd, 'forwarding between');
    // idle: both sleep on their cables instead of burning a core each
    const before = [cpuSeconds(fwd.child.pid!), cpuSeconds(capture.child.pid!)];
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 2000));
    const wall = (performance.now() - t0) / 1000;
    const used = [cpuSeconds(fwd.child.pid!) - before[0], cpuSeconds(capture.child.pid!) - before[1]];
    expect(used[0] / wall, `fwd used ${used[0]} s of CPU in ${wall} s idle`).toBeLessThan(0.25);
    expect(used[1] / wall, `capture used ${used[1]} s of CPU in ${wall} s idle`).toBeLessThan(0.25);
    // then a burst at 1 Mpps
    const pktgen = start('pktgen', [`sim:${tag}-in:0`, '--count', String(n), '--size', '128', '--rate', '1']);
    expect(await pktgen.exit, pktgen.out()).toBe(0);
    expect(pktgen.out()).toContain(`sent ${n} frames`);
    expect(await capture.exit, capture.out()).toBe(0);
    expect(capture.out()).toContain(
      `verified ${n} frames, ${n * 128} bytes, 0 bad, 0 lost, 0 duplicated, 0 out of order`,
    );
    fwd.child.kill('SIGINT');
    expect(await fwd.exit, fwd.out()).toBe(0);
    // the device counts bytes as the 82599 does: with the 4-byte CRC
    expect(fwd.out()).toMatch(new RegExp(`\\[sim:${tag}-in:1\\] total RX: ${n} packets ${n * 132} bytes \\|`));
    expect(drops(fwd.out() + capture.out())).toBe(0);
  }, 300_000);

  // Without --lossless, fwd drops what its full TX ring does not take (as ixy-fwd does) and a
  // port drops what finds no free descriptor: how many depends on the machine, but every frame
  // is accounted for, at the port where it was dropped.
  it('without --lossless, every frame either arrives or is counted as dropped where it was dropped', async () => {
    const tag = `tc${process.pid}`;
    const n = 100_000;
    const capture = start('capture', [`sim:${tag}-out:1`, '--verify', '--idle', '2', '--duration', '300']);
    await waitFor(capture, 'receiving on');
    const fwd = start('fwd', [`sim:${tag}-in:1`, `sim:${tag}-out:0`, '--duration', '300']);
    await waitFor(fwd, 'forwarding between');
    const pktgen = start('pktgen', [`sim:${tag}-in:0`, '--count', String(n), '--size', '64']);
    expect(await pktgen.exit, pktgen.out()).toBe(0);
    expect(pktgen.out()).toContain(`sent ${n} frames`);
    await capture.exit;
    fwd.child.kill('SIGINT');
    expect(await fwd.exit, fwd.out()).toBe(0);
    const verified = /verified (\d+) frames, \d+ bytes, (\d+) bad, \d+ lost(?:, (\d+) duplicated)?/.exec(capture.out());
    expect(verified, capture.out()).not.toBeNull();
    const [got, bad, dup] = verified!.slice(1).map((v) => Number(v ?? 0));
    expect(bad).toBe(0);
    expect(dup).toBe(0);
    expect(got + drops(fwd.out()) + drops(capture.out()), `${fwd.out()}\n${capture.out()}`).toBe(n);
  }, 300_000);

  it("pktgen --format ixy sends C ixy-pktgen's frames, and capture --verify checks them", async () => {
    const tag = `tx${process.pid}`;
    const n = 2000;
    const capture = start('capture', [
      `sim:${tag}:1`,
      '--verify',
      '--in-order',
      '--lossless',
      '--count',
      String(n),
      '--duration',
      '120',
    ]);
    await waitFor(capture, 'receiving on');
    const pktgen = start('pktgen', [`sim:${tag}:0`, '--count', String(n), '--format', 'ixy']);
    expect(await pktgen.exit, pktgen.out()).toBe(0);
    expect(await capture.exit, capture.out()).toBe(0);
    expect(capture.out()).toContain(
      `verified ${n} frames, ${n * 60} bytes, 0 bad, 0 lost, 0 duplicated, 0 out of order`,
    );
    expect(capture.out()).toContain(`${n} of them in C ixy-pktgen's format`);
    const size = start('pktgen', [`sim:${tag}:0`, '--format', 'ixy', '--size', '64']);
    expect(await size.exit).toBe(1);
    expect(size.out()).toMatch(/C ixy-pktgen's frames, which are 60 bytes/);
  }, 180_000);

  it('pktgen --timestamp → capture --latency: a latency summary over every frame, and histogram files with that count', async () => {
    const { mkdtempSync, readFileSync: read } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { HistogramLogReader } = await import('hdr-histogram-js');
    const dir = mkdtempSync(join(tmpdir(), 'ixy-capture-latency-'));
    const n = 20_000;
    for (const file of ['run.hgrm', 'run.hlog']) {
      const tag = `tl${process.pid}-${file.slice(4)}`;
      const path = join(dir, file);
      const capture = start('capture', [
        `sim:${tag}:1`,
        '--latency-histogram',
        path,
        '--verify',
        '--in-order',
        '--lossless',
        '--count',
        String(n),
        '--duration',
        '120',
      ]);
      await waitFor(capture, 'receiving on');
      const pktgen = start('pktgen', [`sim:${tag}:0`, '--count', String(n), '--timestamp', '--size', '100']);
      expect(await pktgen.exit, pktgen.out()).toBe(0);
      expect(pktgen.out()).toContain('stamped with their send time');
      expect(await capture.exit, capture.out()).toBe(0);
      const out = capture.out();
      // stamped frames are still good test frames: every byte after the stamp checked
      expect(out).toContain(`verified ${n} frames, ${n * 100} bytes, 0 bad, 0 lost, 0 duplicated, 0 out of order`);
      const unit = String.raw`[\d.]+ (?:µs|ms)`;
      expect(out).toMatch(
        new RegExp(
          `latency of ${n} frames: p50 ${unit}, p99 ${unit}, p99\\.9 ${unit}, p99\\.99 ${unit}, max ${unit}\n`,
        ),
      );
      expect(out).not.toMatch(/carried no send time/);
      expect(out).toContain(`wrote the latency histogram of ${n} frames to ${path}`);
      const text = read(path, 'utf8');
      if (file.endsWith('.hgrm')) {
        expect(text).toMatch(/^\s+Value\s+Percentile\s+TotalCount/);
        expect(/Total count\s*=\s*(\d+)/.exec(text)?.[1]).toBe(String(n));
        // the percentile rows end at 100 % with every frame counted
        const rows = text.split('\n').filter((l) => /^\s*[\d.]+\s+[\d.]+\s+\d+/.test(l));
        expect(Number(rows[rows.length - 1].trim().split(/\s+/)[2])).toBe(n);
      } else {
        const h = new HistogramLogReader(text).nextIntervalHistogram();
        expect(h?.totalCount).toBe(n);
        const max = /latency of \d+ frames: .* max ([\d.]+) (µs|ms)\n/.exec(out)!;
        const maxNs = Number(max[1]) * (max[2] === 'ms' ? 1e6 : 1e3);
        expect(Math.abs(h!.maxValue - maxNs) / maxNs).toBeLessThan(0.01); // the same run, 3 digits
      }
    }
    // unstamped frames are counted, not measured
    const tag = `tl${process.pid}-plain`;
    const capture = start('capture', [`sim:${tag}:1`, '--latency', '--lossless', '--count', '100', '--duration', '60']);
    await waitFor(capture, 'receiving on');
    const pktgen = start('pktgen', [`sim:${tag}:0`, '--count', '100']);
    expect(await pktgen.exit, pktgen.out()).toBe(0);
    expect(await capture.exit, capture.out()).toBe(0);
    expect(capture.out()).toContain('100 frames carried no send time (send with ixy-pktgen --timestamp)');
  }, 180_000);

  it('--latency-histogram and --timestamp reject bad values with one line, and leave no cable behind', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ixy-capture-latency-bad-'));
    const cases: [string, RegExp][] = [
      ['', /argument '' is invalid\. expected the path of a file/],
      [join(dir, 'no', 'such', 'dir.hgrm'), /cannot write the latency histogram to .*ENOENT/],
      [dir, /cannot write the latency histogram to .*EISDIR/],
    ];
    for (const [i, [path, why]] of cases.entries()) {
      const tag = `tlb${process.pid}-${i}`;
      const c = start('capture', [`sim:${tag}:1`, '--latency-histogram', path, '--duration', '1']);
      expect(await c.exit, c.out()).toBe(1);
      expect(c.out()).toMatch(why);
      expect(
        c
          .out()
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('  hint:')),
      ).toHaveLength(1);
      expect(existsSync(`/dev/shm/ixy-cable-${tag}`), 'the cable was left behind').toBe(false);
    }
    const ixy = start('pktgen', [`sim:tlb${process.pid}-f:0`, '--timestamp', '--format', 'ixy']);
    expect(await ixy.exit).toBe(1);
    expect(ixy.out()).toMatch(/--timestamp needs room in the frame that C ixy-pktgen's frames/);
    expect(ixy.out()).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('capture -w refuses links, devices and unwritable paths with one line, a full disk too, and closes the port', async () => {
    const { mkdtempSync, symlinkSync, writeFileSync, readFileSync, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ixy-capture-w-'));
    const precious = join(dir, 'precious');
    writeFileSync(precious, 'keep me');
    const link = join(dir, 'link.pcap');
    symlinkSync(precious, link);
    const cases: [string, RegExp][] = [
      [link, /symbolic link/],
      ['/proc/version', /cannot write (the capture )?to \/proc\/version/],
      [join(dir, 'no', 'such', 'dir.pcap'), /cannot write the capture to .*ENOENT|no such file/i],
    ];
    for (const [path, why] of cases) {
      const tag = `tw${process.pid}-${cases.findIndex((c) => c[0] === path)}`;
      const c = start('capture', [`sim:${tag}:1`, '-w', path, '--duration', '1']);
      expect(await c.exit, c.out()).toBe(1);
      expect(c.out()).toMatch(why);
      expect(c.out()).not.toMatch(/\n\s+at /);
      expect(existsSync(`/dev/shm/ixy-cable-${tag}`), 'the cable was left behind').toBe(false);
    }
    expect(readFileSync(precious, 'utf8')).toBe('keep me');
    // /dev/full: the header goes into the buffer, the write at the end fails: one line, exit 1
    const full = start('capture', [`sim:tw${process.pid}-full:1`, '-w', '/dev/full', '--duration', '1']);
    expect(await full.exit, full.out()).toBe(1);
    expect(full.out()).toMatch(/not a regular file|ENOSPC|disk is full/);
    const huge = start('capture', [`sim:tw${process.pid}-n:1`, '--verify', '-n', '9007199254740991']);
    expect(await huge.exit).toBe(1);
    expect(huge.out()).toMatch(/--verify counts at most 4294967296 frames exactly/);
    expect(huge.out()).not.toMatch(/\n\s+at /);
  }, 60_000);

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
