// The apps on real (emulated) PCI devices in a QEMU guest: pktgen → fwd → capture on four
// virtio-net NICs, every frame checked (fwd and capture --lossless: a full ring holds, never
// drops, so the counts are exact on any machine, however slow or busy); once through sysfs and pagemap (root, physical
// addresses), once through VFIO (IOMMU, I/O virtual addresses) as an ordinary user. Fails with
// the reason when the guest cannot run; never skips.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repoRoot, runInGuest, type GuestResult, type NicSpec } from '@ixy/qemu-guest';

const root = repoRoot();
const here = resolve(fileURLToPath(new URL('.', import.meta.url)));
const FRAMES = 2000;
const NICS = ['0000:00:10.0', '0000:00:11.0', '0000:00:12.0', '0000:00:13.0'];

function log(run: GuestResult, name: string): string {
  try {
    return readFileSync(join(run.sharedDir, name), 'utf8');
  } catch {
    return `(no ${name})`;
  }
}

function expectTestbed(run: GuestResult, frames = FRAMES): void {
  const all = ['status', 'pktgen.log', 'fwd.log', 'capture.log'].map((f) => `--- ${f}\n${log(run, f)}`).join('\n');
  expect(run.exitCode, `${run.output.split('\n').slice(-20).join('\n')}\n${all}`).toBe(0);
  expect(log(run, 'status'), all).toBe('pktgen=0\ncapture=0\nfwd=0\n');
  expect(log(run, 'pktgen.log'), all).toContain(`sent ${frames} frames`);
  // every frame, byte-exact, once; the order is reported but not asserted: QEMU's hub network
  // reorders frames when a receive ring runs dry (seen under TCG with the IOMMU)
  expect(log(run, 'capture.log'), all).toMatch(
    new RegExp(`verified ${frames} frames, ${frames * 128} bytes, 0 bad, 0 lost, 0 duplicated, \\d+ out of order`),
  );
  console.log(`${run.accel}: ${/verified .*/.exec(log(run, 'capture.log'))?.[0]}`);
  expect(log(run, 'fwd.log'), all).toMatch(new RegExp(`\\[${NICS[1]}\\] total RX: ${frames} packets`));
  expect(log(run, 'fwd.log'), all).toMatch(
    new RegExp(`\\[${NICS[2]}\\] total RX: \\d+ packets \\d+ bytes \\| TX: ${frames} packets \\d+ bytes\n`),
  );
  // --lossless: fwd held what a full TX ring did not take, so nothing was dropped anywhere
  expect(log(run, 'fwd.log') + log(run, 'capture.log'), all).not.toMatch(/dropped/);
}

// the guest runs the built apps: all three, and the packages they load, must be built and current
beforeAll(() => {
  assertBuilt(
    [
      ...['fwd', 'pktgen', 'capture'].map((a) => join(root, 'apps', a)),
      ...['core', 'memory', 'pci', 'virtio', 'cli', 'traffic'].map((p) => join(root, 'packages', p)),
    ],
    root,
  );
});

describe('pktgen → fwd → capture on virtio-net in a QEMU guest', () => {
  it('through sysfs, hugepages and pagemap (modern virtio)', async () => {
    const run = await runInGuest({
      command: ['sh', join(here, 'guest', 'testbed.sh'), String(FRAMES), ...NICS],
      nics: ['virtio-modern', 'virtio-modern', 'virtio-modern', 'virtio-modern'],
      cwd: root,
      hugepages: 128,
      timeoutMs: 600_000,
    });
    expectTestbed(run);
  }, 700_000);

  it('with fwd stalled while pktgen sends: the frames wait in pktgen’s TX ring, and leave before pktgen closes the port', async () => {
    // what CI once met by chance (a slow receiver, 192 of 2000 frames discarded at pktgen's
    // close, counted as sent), made to happen: fwd is stopped while pktgen sends 400 frames
    const frames = 400;
    const run = await runInGuest({
      command: ['sh', join(here, 'guest', 'testbed.sh'), String(frames), ...NICS],
      nics: ['virtio-modern', 'virtio-modern', 'virtio-modern', 'virtio-modern'],
      env: { IXY_STALL_FWD: '1' },
      cwd: root,
      hugepages: 128,
      timeoutMs: 600_000,
    });
    expectTestbed(run, frames);
  }, 700_000);

  it('through VFIO and the IOMMU, as an ordinary user after a root set-up (modern virtio with iommu_platform)', async () => {
    const nic: NicSpec = { model: 'virtio-modern', properties: { iommu_platform: 'on' } };
    // root binds the NICs to vfio-pci and gives uid 65534 their groups; the apps then run as 65534
    const run = await runInGuest({
      command:
        `node ${join(here, 'guest', 'bind-vfio.mjs')} --owner 65534 ${NICS.join(' ')} && ` +
        `IXY_AS_USER=65534 sh ${join(here, 'guest', 'testbed.sh')} ${FRAMES} ${NICS.join(' ')}`,
      nics: [nic, nic, nic, nic],
      iommu: true,
      modules: ['vfio_pci', 'vfio_iommu_type1'],
      cwd: root,
      hugepages: 128,
      timeoutMs: 600_000,
    });
    expect(run.output).toMatch(/bound to vfio-pci, IOMMU group \d+, owned by uid 65534/);
    for (const app of ['pktgen', 'fwd', 'capture'])
      expect(log(run, `${app}.log`)).toContain('(running as uid 65534, gid 65534)');
    expectTestbed(run);
  }, 700_000);
});
