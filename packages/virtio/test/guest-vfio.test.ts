// Interrupts of the virtio driver through VFIO in a QEMU guest: four modern virtio-net NICs
// with iommu_platform=on behind the emulated Intel IOMMU, bound to vfio-pci. One boot runs
// test/guest/interrupt-checks.ts (a receiver asleep in waitForWakeups is woken by the MSI-X
// interrupt of each frame a second process sends) and test/guest/idle-fwd.sh (an idle ixy-fwd
// between two VFIO ports sleeps, then forwards a burst, every frame verified). Nothing here
// asserts a duration: the guest may run under TCG on a busy machine. A guest that cannot run
// fails the tests with the reason.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBuilt, readGuestResult, runInGuest, type GuestResult, type NicSpec } from '@ixy/qemu-guest';
import { beforeAll, describe, expect, it } from 'vitest';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(pkg, '../..');
const NIC: NicSpec = { model: 'virtio-modern', properties: { iommu_platform: 'on' } };
const ADDRS = ['0000:00:10.0', '0000:00:11.0', '0000:00:12.0', '0000:00:13.0'];
/** Frames of the burst through fwd, and the idle time measured before it. */
const FRAMES = 1000;
const IDLE_SECONDS = 5;
/** Percent of a core an idle app may use while measured (the target is 5; see the test). */
const IDLE_CPU_LIMIT = 30;
/** Frames per wake-up round of interrupt-checks.ts, and the frames moved while polling. */
const ROUNDS = [1, 1, 8, 1, 32, 1];
const POLLED = 200;

interface WakeResult {
  error?: { message: string; stack?: string };
  interfaceKind: string;
  rxInterrupt: string;
  interruptNote: string;
  fds: number;
  polled: { frames: number; received: number; interrupts: number; eventfdSignalled: boolean };
  idle: { armed: boolean; woken: boolean };
  rounds: { frames: number; armed: boolean; woken: boolean; received: number }[];
  roundInterrupts: number;
  sent: number;
  received: number;
  duplicates: number;
  foreign: number;
  senderExit: number;
}
interface CpuResult {
  seconds: number;
  ticks: number[];
  percent: number[];
}

let run: GuestResult;

function log(name: string): string {
  try {
    return readFileSync(join(run.sharedDir, name), 'utf8');
  } catch {
    return `(no ${name})`;
  }
}

function wake(): WakeResult {
  const w = readGuestResult<WakeResult>(run, 'wake');
  if (w.error)
    throw new Error(
      `the guest checks failed: ${w.error.stack ?? w.error.message}\n${run.output.split('\n').slice(-20).join('\n')}`,
    );
  return w;
}

beforeAll(async () => {
  // the guest runs the built JavaScript: the apps, the packages they load, and the guest program
  assertBuilt(
    [
      ...['fwd', 'pktgen', 'capture'].map((a) => join(root, 'apps', a)),
      ...['core', 'memory', 'pci', 'virtio', 'cli', 'traffic', 'qemu-guest'].map((p) => join(root, 'packages', p)),
    ],
    root,
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.guest.json'], { cwd: pkg, stdio: 'inherit' });
  const addrs = ADDRS.join(' ');
  run = await runInGuest({
    command:
      `node build/guest/interrupt-checks.js bind ${addrs} && ` +
      `{ node build/guest/interrupt-checks.js wake ${ADDRS[1]} ${ADDRS[0]}; sh test/guest/idle-fwd.sh ${FRAMES} ${IDLE_SECONDS} ${addrs}; }`,
    nics: [NIC, NIC, NIC, NIC],
    iommu: true,
    modules: ['vfio_pci', 'vfio_iommu_type1'],
    cwd: pkg,
    hugepages: 128,
    timeoutMs: 600_000,
  });
  const cpu = readGuestResult<CpuResult>(run, 'cpu');
  const w = readGuestResult<WakeResult>(run, 'wake');
  console.log(
    `virtio interrupts through VFIO (${run.accel}, boot ${run.bootMs} ms, total ${run.durationMs} ms): ` +
      `${w.rounds?.filter((r) => r.woken).length}/${ROUNDS.length} sleeps woken by a frame, ${w.roundInterrupts} interrupts; ` +
      `${w.polled?.interrupts} while polling ${POLLED} frames; idle fwd ${cpu.percent[0].toFixed(1)} %, capture ${cpu.percent[1].toFixed(1)} % of a core over ${cpu.seconds.toFixed(1)} s`,
  );
}, 700_000);

describe('virtio-net receive interrupts through VFIO in a QEMU guest', () => {
  it('binds the NICs to vfio-pci, one IOMMU group each', () => {
    expect(run.output).toMatch(/0000:00:13.0 bound to vfio-pci, IOMMU group \d+/);
  });

  it('gives the receive queue of a modern port opened through VFIO an MSI-X wake-up', () => {
    const w = wake();
    expect(w.interfaceKind).toBe('modern');
    expect(w.rxInterrupt).toBe('msix');
    expect(w.interruptNote).toMatch(/MSI-X vector 0 into eventfd \d+/);
    expect(w.fds).toBe(1);
  });

  it('raises no interrupt while the receiver polls (notifications suppressed)', () => {
    const { polled } = wake();
    expect(polled).toEqual({ frames: POLLED, received: POLLED, interrupts: 0, eventfdSignalled: false });
  });

  it('does not wake an armed sleeper when nothing arrives (the sleep times out)', () => {
    expect(wake().idle).toEqual({ armed: true, woken: false });
  });

  it('wakes a receiver asleep in waitForWakeups (up to 2 s) for each frame another process sends, and the frame is there', () => {
    const w = wake();
    expect(w.rounds).toEqual(ROUNDS.map((frames) => ({ frames, armed: true, woken: true, received: frames })));
    // at least one interrupt per sleep (the guest kernel's count for the vector)
    expect(w.roundInterrupts).toBeGreaterThanOrEqual(ROUNDS.length);
  });

  it('loses and duplicates nothing', () => {
    const w = wake();
    expect(w.sent).toBe(POLLED + ROUNDS.reduce((a, b) => a + b, 0));
    expect(w.received).toBe(w.sent);
    expect(w.duplicates).toBe(0);
    expect(w.foreign).toBe(0);
    expect(w.senderExit).toBe(0);
  });

  // The design's target is under 5 % of a core. Under TCG each sleep-and-wake cycle costs the
  // guest 2-6 ms of emulated CPU: with pollLoop's sleeps of at most 10 ms idle fwd measured
  // 15-25 % here, with the 100 ms it sleeps now 2-4.5 % (3.8 % fwd, 2.2 % capture in the run
  // that set this). The bound leaves room for a host kept busy; a poller takes a whole core.
  // It was 15 until idle capture crossed it (9.5-16.9 % with a core kept busy): it loaded
  // hdr-histogram-js at start, whose garbage made a full GC fall in the measured seconds (a 20 ms
  // GC natively is most of a second under TCG). Loaded on first use, capture measured 2.6-4.0 %
  // again (8.5 and 16.0 % with the eager load, same day). What is left is V8's memory reducer,
  // a GC or two some 8 s after start that may fall in the window (fwd 3-12.7 %, once 21 %):
  // housekeeping, not polling. 30 leaves room for it; a poller takes a whole core.
  it('an idle ixy-fwd (and ixy-capture) between VFIO ports sleeps instead of polling', () => {
    const cpu = readGuestResult<CpuResult>(run, 'cpu');
    expect(cpu.seconds).toBeGreaterThanOrEqual(IDLE_SECONDS);
    expect(cpu.percent[0], 'fwd').toBeLessThan(IDLE_CPU_LIMIT);
    expect(cpu.percent[1], 'capture').toBeLessThan(IDLE_CPU_LIMIT);
  });

  it('then forwards a burst sent after the idle period, every frame arriving', () => {
    const all = ['status', 'pktgen.log', 'fwd.log', 'capture.log'].map((f) => `--- ${f}\n${log(f)}`).join('\n');
    expect(log('status'), all).toBe('cpu=0\npktgen=0\ncapture=0\nfwd=0\n');
    expect(log('pktgen.log'), all).toContain(`sent ${FRAMES} frames`);
    expect(log('capture.log'), all).toMatch(
      new RegExp(`verified ${FRAMES} frames, ${FRAMES * 128} bytes, 0 bad, 0 lost, 0 duplicated`),
    );
    expect(log('fwd.log'), all).toMatch(new RegExp(`\\[${ADDRS[1]}\\] total RX: ${FRAMES} packets`));
    expect(log('fwd.log'), all).toMatch(
      new RegExp(`\\[${ADDRS[2]}\\] total RX: \\d+ packets \\d+ bytes \\| TX: ${FRAMES} packets`),
    );
  });
});
