import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PciBus } from '@ixy/pci';
import { reserveHugepages, statusLines } from '../src/setup.js';

/** A fake sysfs with one NIC bound to a kernel driver, one unbound NIC in IOMMU group 5, and a GPU. */
function fakeTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'ixy-setup-'));
  const devs = join(root, 'bus', 'pci', 'devices');
  mkdirSync(devs, { recursive: true });
  const add = (addr: string, vendor: string, device: string, cls: string, driver?: string, group?: number): void => {
    const dir = join(root, 'devices', addr);
    mkdirSync(dir, { recursive: true });
    symlinkSync(dir, join(devs, addr));
    writeFileSync(join(dir, 'vendor'), vendor);
    writeFileSync(join(dir, 'device'), device);
    writeFileSync(join(dir, 'class'), cls);
    if (driver) {
      mkdirSync(join(root, 'bus', 'pci', 'drivers', driver), { recursive: true });
      symlinkSync(join(root, 'bus', 'pci', 'drivers', driver), join(dir, 'driver'));
    }
    if (group !== undefined) {
      mkdirSync(join(root, 'kernel', 'iommu_groups', String(group)), { recursive: true });
      symlinkSync(join(root, 'kernel', 'iommu_groups', String(group)), join(dir, 'iommu_group'));
    }
  };
  add('0000:03:00.0', '0x8086', '0x10fb', '0x020000', 'ixgbe');
  add('0000:03:00.1', '0x8086', '0x10fb', '0x020000', undefined, 5);
  add('0000:00:02.0', '0x1234', '0x1111', '0x030000');
  return root;
}

describe('ixy-setup', () => {
  it('shows hugepages and only the network cards, with what they are ready for', () => {
    const lines = statusLines(new PciBus(fakeTree()), { free: 3, total: 8 });
    expect(lines).toEqual([
      'hugepages (2 MiB): 3 free of 8',
      '0000:03:00.0  8086:10fb  kernel driver ixgbe (ixy needs --unbind)',
      '0000:03:00.1  8086:10fb  no driver: ready for ixy (root)  (IOMMU group 5)',
    ]);
  });

  it('refuses to bind a card without an IOMMU group, or without vfio-pci loaded, saying what to do', () => {
    const bus = new PciBus(fakeTree());
    expect(() => bus.bindVfio('0000:03:00.0')).toThrow(/has no IOMMU group/);
    expect(() => bus.bindVfio('0000:03:00.1')).toThrow(/vfio-pci driver is not loaded/);
  });

  it('reserves hugepages through the sysfs file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ixy-hp-')), 'nr_hugepages');
    writeFileSync(file, '0');
    expect(reserveHugepages(64, file)).toBe(64);
    expect(readFileSync(file, 'utf8')).toBe('64');
  });
});

describe('ixy-setup command line', () => {
  it("refuses a count that is not decimal digits before it touches anything ('' once released every hugepage)", () => {
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    for (const bad of ['', '0x10', '1e3', '-1']) {
      const r = spawnSync(process.execPath, [main, 'hugepages', bad], { encoding: 'utf8' });
      expect(r.status, `'${bad}'`).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/decimal digits/);
      expect(r.stdout + r.stderr).not.toMatch(/hugepages \(2 MiB\): \d+ reserved/);
    }
  });
});
