// The VFIO addon's error paths on real groups and devices, in a QEMU guest (two modern
// virtio-net NICs with iommu_platform=on behind the emulated Intel IOMMU, bound to vfio-pci by
// test/guest/vfio-error-checks.ts). The host tests of @ixy/pci (test/native-errors.test.ts)
// cover what fake descriptors can reach; these need the kernel's VFIO: a group opened twice, a
// device not in the group, a region or IRQ index the device lacks, a BAR mapped past its end.
// Each failure is forced ten times and the process's descriptors counted around it.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBuilt, readGuestResult, runInGuest, type GuestResult, type NicSpec } from '@ixy/qemu-guest';
import { beforeAll, describe, expect, it } from 'vitest';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(pkg, '../..');
const NIC: NicSpec = { model: 'virtio-modern', properties: { iommu_platform: 'on' } };
const ADDRS = ['0000:00:10.0', '0000:00:11.0'];

interface Failure {
  fields: Record<string, unknown>;
  leaked: number;
}
interface Result {
  error?: { message: string; stack?: string };
  groupTwice: Failure;
  noGroup: Failure;
  foreignDevice: Failure;
  badRegion: Failure;
  badMap: Failure;
  badIrq: Failure;
  groupHeld: Failure;
  afterOwnClosed: number;
  cycles: number[];
}

let run: GuestResult;

function result(): Result {
  const r = readGuestResult<Result>(run, 'vfio-errors');
  if (r.error)
    throw new Error(
      `the guest checks failed: ${r.error.stack ?? r.error.message}\n${run.output.split('\n').slice(-20).join('\n')}`,
    );
  return r;
}

beforeAll(async () => {
  assertBuilt(
    ['core', 'memory', 'pci', 'qemu-guest'].map((p) => join(root, 'packages', p)),
    root,
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.guest.json'], { cwd: pkg, stdio: 'inherit' });
  run = await runInGuest({
    command: `node build/guest/vfio-error-checks.js ${ADDRS.join(' ')}`,
    nics: [NIC, NIC],
    iommu: true,
    modules: ['vfio_pci', 'vfio_iommu_type1'],
    cwd: pkg,
    hugepages: 16,
    timeoutMs: 300_000,
  });
}, 400_000);

describe('VFIO error paths in a QEMU guest', () => {
  it('refuse a group opened twice with EBUSY from open, and leak no fd', () => {
    const { groupTwice } = result();
    expect(groupTwice.fields).toMatchObject({ code: 'EBUSY', errno: -16, syscall: 'open' });
    expect(groupTwice.fields.path).toMatch(/^\/dev\/vfio\/\d+$/);
    expect(groupTwice.leaked).toBe(0);
  });

  it('name a missing group ENOENT with its path', () => {
    const { noGroup } = result();
    expect(noGroup.fields).toMatchObject({ code: 'ENOENT', syscall: 'open', path: '/dev/vfio/4242' });
    expect(noGroup.leaked).toBe(0);
  });

  it('refuse a device outside the group, a region and an IRQ index it lacks, by the ioctl', () => {
    const r = result();
    expect(r.foreignDevice.fields).toMatchObject({ syscall: 'VFIO_GROUP_GET_DEVICE_FD' });
    expect(r.foreignDevice.fields.code).toMatch(/^E[A-Z]+$/);
    expect(r.badRegion.fields).toMatchObject({ code: 'EINVAL', syscall: 'VFIO_DEVICE_GET_REGION_INFO' });
    expect(r.badIrq.fields).toMatchObject({ code: 'EINVAL', syscall: 'VFIO_DEVICE_SET_IRQS' });
    expect(r.badMap.fields).toMatchObject({ code: 'EINVAL', syscall: 'mmap' });
    for (const f of [r.foreignDevice, r.badRegion, r.badIrq, r.badMap]) expect(f.leaked).toBe(0);
  });

  it('explain a device whose group another container holds (EVFIOGROUP), leaving nothing open', () => {
    const { groupHeld, afterOwnClosed } = result();
    expect(groupHeld.fields).toMatchObject({ name: 'IxyError', code: 'EVFIOGROUP' });
    expect(groupHeld.fields.message).toMatch(/open already/);
    expect(groupHeld.leaked).toBe(0);
    // of all the checks so far only the process's container is still open
    expect(afterOwnClosed).toBe(1);
  });

  it('open and release a device ten times keeping only the container and the group open', () => {
    expect(result().cycles).toEqual(Array(10).fill(2));
  });
});
