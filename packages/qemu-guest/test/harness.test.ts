// Unit tests of the harness pieces that need no guest boot and nothing installed (the rest are in
// guest-prerequisites.test.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkPrerequisites,
  ensurePrerequisites,
  layoutNics,
  nicArguments,
  PrerequisitesError,
  qemuArguments,
} from '../src/index.js';

describe('NIC layout', () => {
  it('puts NIC i at 00:(0x10+i).0 with a fixed MAC, paired 0-1, 2-3', () => {
    const { specs, guest } = layoutNics(['virtio-legacy', 'virtio-modern', { model: 'e1000', kernelDriver: true }]);
    expect(guest.map((n) => [n.address, n.mac, n.peer, n.vendorId, n.deviceId, n.kernelDriver])).toEqual([
      ['0000:00:10.0', '52:54:00:12:34:50', 1, 0x1af4, 0x1000, null],
      ['0000:00:11.0', '52:54:00:12:34:51', 0, 0x1af4, 0x1041, null],
      ['0000:00:12.0', '52:54:00:12:34:52', null, 0x8086, 0x100e, 'e1000'],
    ]);
    const args = nicArguments(specs, guest);
    expect(args).toContain('hubport,id=nic0,hubid=0');
    expect(args).toContain('hubport,id=nic1,hubid=0');
    expect(args).toContain('hubport,id=nic2,hubid=1');
    expect(args.join(' ')).not.toMatch(/\b(tap|user|bridge)\b/);
    expect(args).toContain(
      'virtio-net-pci,disable-modern=on,disable-legacy=off,netdev=nic0,mac=52:54:00:12:34:50,addr=0x10,romfile=',
    );
  });

  it('passes -device properties and rejects bad ones', () => {
    const { specs, guest } = layoutNics([{ model: 'virtio-modern', properties: { iommu_platform: 'on' } }]);
    expect(nicArguments(specs, guest).at(-1)).toMatch(/,iommu_platform=on$/);
    expect(() => layoutNics([{ model: 'e1000', properties: { 'a,b': 'c' } }])).toThrow(/bad -device property/);
    expect(() => layoutNics([{ model: 'rtl8139' as 'e1000' }])).toThrow(/unknown NIC model/);
  });

  it('adds the IOMMU before the other devices', () => {
    const args = qemuArguments({
      accel: 'tcg',
      kernel: 'k',
      initramfs: 'i',
      append: 'a',
      memoryMiB: 512,
      cpus: 1,
      iommu: true,
      sharedDir: '/s',
      nics: ['-device', 'e1000'],
    });
    const devices = args.flatMap((a, i) => (args[i - 1] === '-device' ? [a] : []));
    expect(devices[0]).toBe('intel-iommu');
    expect(args).toContain('tcg');
  });
});

describe('prerequisites', () => {
  it('says exactly what is missing, and fails rather than skipping', () => {
    const empty = mkdtempSync(join(tmpdir(), 'prereq-'));
    const where = { binDirs: [empty], bootDir: empty, modulesRoot: empty };
    const pre = checkPrerequisites(where);
    expect(pre.ok).toBe(false);
    expect(pre.missing).toHaveLength(3);
    expect(pre.missing.join('\n')).toMatch(/qemu-system-x86_64 .*qemu-system-x86/);
    expect(pre.missing.join('\n')).toMatch(/vmlinuz.*linux-image-amd64/);
    expect(pre.missing.join('\n')).toMatch(/busybox-static/);
    expect(() => ensurePrerequisites({ ...where, install: false })).toThrow(PrerequisitesError);
    expect(() => ensurePrerequisites({ ...where, install: false })).toThrow(
      /apt-get install -y qemu-system-x86 linux-image-amd64 busybox-static/,
    );
  });
});
