// The e1000e plugin on QEMU's emulated 82574L (`-device e1000e`) in a guest, driven by the
// unchanged apps with `--driver @ixy/e1000e`: pktgen → fwd → capture, every frame checked
// (fwd and capture --lossless: a full ring holds, never drops, so the counts are exact on any
// machine, however slow or busy). Once through sysfs and pagemap (root, physical addresses),
// once through VFIO (IOMMU, I/O virtual addresses) as an ordinary user, with the MSI-X receive
// interrupt checked first; once mixed with virtio-net, both ways across fwd. Fails with the
// reason when the guest cannot run; never skips.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, readGuestResult, runInGuest, type GuestResult, type NicSpec } from '@ixy/qemu-guest';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(pkg, '../..');
const testbed = join(pkg, 'test', 'guest', 'testbed.sh');
const FRAMES = 2000;
const NICS = ['0000:00:10.0', '0000:00:11.0', '0000:00:12.0', '0000:00:13.0'];

function log(run: GuestResult, name: string): string {
  try {
    return readFileSync(join(run.sharedDir, name), 'utf8');
  } catch {
    return `(no ${name})`;
  }
}

/** Checks one pktgen → fwd → capture run whose logs are in `dir` of the share; p1, p2: fwd's ports. */
function expectTestbed(run: GuestResult, dir: string, p1: string, p2: string): void {
  const at = (f: string): string => log(run, join(dir, f));
  const all = ['status', 'pktgen.log', 'fwd.log', 'capture.log'].map((f) => `--- ${dir}/${f}\n${at(f)}`).join('\n');
  expect(run.exitCode, `${run.output.split('\n').slice(-20).join('\n')}\n${all}`).toBe(0);
  expect(at('status'), all).toBe('pktgen=0\ncapture=0\nfwd=0\n');
  expect(at('pktgen.log'), all).toContain(`sent ${FRAMES} frames`);
  // every frame, byte-exact, once; the order is reported but not asserted (QEMU's hub network
  // may reorder when a receive ring runs dry)
  expect(at('capture.log'), all).toMatch(
    new RegExp(`verified ${FRAMES} frames, ${FRAMES * 128} bytes, 0 bad, 0 lost, 0 duplicated, \\d+ out of order`),
  );
  console.log(`${run.accel} ${dir}: ${/verified .*/.exec(at('capture.log'))?.[0]}`);
  expect(at('fwd.log'), all).toMatch(new RegExp(`\\[${p1}\\] total RX: ${FRAMES} packets`));
  expect(at('fwd.log'), all).toMatch(
    new RegExp(`\\[${p2}\\] total RX: \\d+ packets \\d+ bytes \\| TX: ${FRAMES} packets \\d+ bytes\n`),
  );
  // --lossless: fwd held what a full TX ring did not take, so nothing was dropped anywhere
  expect(at('fwd.log') + at('capture.log'), all).not.toMatch(/dropped/);
}

// the guest runs the built apps, the packages they load and this driver from dist/
beforeAll(() => {
  assertBuilt(
    [
      ...['fwd', 'pktgen', 'capture'].map((a) => join(root, 'apps', a)),
      ...['core', 'memory', 'pci', 'virtio', 'cli', 'traffic', 'qemu-guest', 'e1000e'].map((p) =>
        join(root, 'packages', p),
      ),
    ],
    root,
  );
});

describe('pktgen → fwd → capture on e1000e (82574L) in a QEMU guest', () => {
  it('through sysfs, hugepages and pagemap; and the IxyDevice contract (@ixy/testing)', async () => {
    const conformance = join(pkg, 'test', 'guest', 'conformance.mjs');
    const run = await runInGuest({
      command:
        `IXY_LOG_DIR=$IXY_GUEST_SHARE/sysfs sh ${testbed} ${FRAMES} ${NICS.join(' ')}; ` +
        `(cd ${pkg} && node ${conformance} ${NICS[0]} ${NICS[1]})`,
      nics: ['e1000e', 'e1000e', 'e1000e', 'e1000e'],
      cwd: root,
      hugepages: 128,
      timeoutMs: 600_000,
    });
    expectTestbed(run, 'sysfs', NICS[1], NICS[2]);
    let c: { passed: string[]; failed: { name: string; error: string }[] };
    try {
      c = readGuestResult<typeof c>(run, 'conformance');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${run.output.split('\n').slice(-30).join('\n')}`, { cause: err });
    }
    expect(c.failed, JSON.stringify(c.failed, null, 2)).toEqual([]);
    expect(c.passed.length).toBe(14); // every case but the statistics (see conformance.mjs)
  }, 900_000);

  it('through VFIO and the IOMMU as an ordinary user, woken by the MSI-X receive interrupt', async () => {
    const bind = join(root, 'apps', 'fwd', 'test', 'guest', 'bind-vfio.mjs');
    const wake = join(pkg, 'test', 'guest', 'wake.mjs');
    // root binds the NICs to vfio-pci and gives uid 65534 their groups, runs the wake-up checks
    // (they write to the share, which only root may), then the apps run as 65534
    const run = await runInGuest({
      command:
        `node ${bind} --owner 65534 ${NICS.join(' ')} && ulimit -l unlimited && ` +
        `(cd ${pkg} && node ${wake} ${NICS[1]} ${NICS[0]}) && ` +
        `IXY_AS_USER=65534 IXY_LOG_DIR=$IXY_GUEST_SHARE/vfio sh ${testbed} ${FRAMES} ${NICS.join(' ')}`,
      nics: ['e1000e', 'e1000e', 'e1000e', 'e1000e'],
      iommu: true,
      modules: ['vfio_pci', 'vfio_iommu_type1'],
      cwd: root,
      hugepages: 128,
      timeoutMs: 600_000,
    });
    expect(run.output).toMatch(/bound to vfio-pci, IOMMU group \d+, owned by uid 65534/);
    interface Wake {
      error?: { message: string; stack?: string };
      driver: string;
      wakeup: boolean;
      idle: { armed: boolean; woken: boolean };
      rounds: { frames: number; armed: boolean; woken: boolean; received: number }[];
      interrupts: number;
      sent: number;
      received: number;
      bad: number;
    }
    let w: Wake;
    try {
      w = readGuestResult<Wake>(run, 'wake');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${run.output.split('\n').slice(-30).join('\n')}`, { cause: err });
    }
    expect(w.error, JSON.stringify(w.error)).toBeUndefined();
    expect(w.driver).toBe('e1000e/e1000e');
    expect(w.wakeup).toBe(true);
    // armed and quiet: the sleep is not cut short
    expect(w.idle).toEqual({ armed: true, woken: false });
    // each round: armed while the ring was empty, woken by the interrupt, every frame received
    for (const r of w.rounds) expect(r).toEqual({ frames: r.frames, armed: true, woken: true, received: r.frames });
    expect(w.received).toBe(w.sent);
    expect(w.bad).toBe(0);
    // the guest kernel counted the vector's interrupts (at least one per round)
    expect(w.interrupts).toBeGreaterThanOrEqual(w.rounds.length);
    for (const app of ['pktgen', 'fwd', 'capture'])
      expect(log(run, `vfio/${app}.log`)).toContain('(running as uid 65534, gid 65534)');
    expectTestbed(run, 'vfio', NICS[1], NICS[2]);
  }, 700_000);

  it('mixed with virtio-net: e1000e → fwd → virtio and virtio → fwd → e1000e (sysfs)', async () => {
    const virtio: NicSpec = { model: 'virtio-modern' };
    const back = [...NICS].reverse();
    const run = await runInGuest({
      command:
        `IXY_LOG_DIR=$IXY_GUEST_SHARE/there sh ${testbed} ${FRAMES} ${NICS.join(' ')} && ` +
        `IXY_LOG_DIR=$IXY_GUEST_SHARE/back sh ${testbed} ${FRAMES} ${back.join(' ')}`,
      nics: ['e1000e', 'e1000e', virtio, virtio],
      cwd: root,
      hugepages: 128,
      timeoutMs: 600_000,
    });
    expectTestbed(run, 'there', NICS[1], NICS[2]);
    expectTestbed(run, 'back', back[1], back[2]);
  }, 700_000);
});
