// A fake sysfs tree with the files @ixy/pci reads and writes, so its logic is tested without
// touching this machine's own PCI devices.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeDevice {
  address: string;
  vendor: number;
  device: number;
  classCode: number;
  driver?: string;
  iommuGroup?: number;
  /** [kind, size] per BAR. */
  bars: ['mem' | 'io' | 'none', number][];
}

export function fakeSysfs(devices: FakeDevice[]): string {
  const root = mkdtempSync(join(tmpdir(), 'ixy-sysfs-'));
  const devs = join(root, 'bus', 'pci', 'devices');
  mkdirSync(devs, { recursive: true });
  for (const d of devices) {
    const dir = join(root, 'devices', 'pci0000:00', d.address);
    mkdirSync(dir, { recursive: true });
    symlinkSync(dir, join(devs, d.address));
    const hex = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}\n`;
    writeFileSync(join(dir, 'vendor'), hex(d.vendor, 4));
    writeFileSync(join(dir, 'device'), hex(d.device, 4));
    writeFileSync(join(dir, 'class'), hex(d.classCode, 6));
    const config = Buffer.alloc(256);
    config.writeUInt16LE(d.vendor, 0);
    config.writeUInt16LE(d.device, 2);
    config.writeUInt16LE(0x0003, 4); // IO + memory space enabled, bus master off
    writeFileSync(join(dir, 'config'), config);
    let base = 0xf000_0000;
    const lines: string[] = [];
    d.bars.forEach(([kind, size], i) => {
      const flags = kind === 'mem' ? 0x40200 : kind === 'io' ? 0x40101 : 0;
      if (kind === 'none') lines.push('0x0000000000000000 0x0000000000000000 0x0000000000000000');
      else {
        lines.push(
          `0x${base.toString(16).padStart(16, '0')} 0x${(base + size - 1).toString(16).padStart(16, '0')} 0x${flags.toString(16).padStart(16, '0')}`,
        );
        writeFileSync(join(dir, `resource${i}`), Buffer.alloc(size));
        base += size;
      }
    });
    while (lines.length < 13) lines.push('0x0000000000000000 0x0000000000000000 0x0000000000000000');
    writeFileSync(join(dir, 'resource'), lines.join('\n') + '\n');
    if (d.driver) {
      const drv = join(root, 'bus', 'pci', 'drivers', d.driver);
      mkdirSync(drv, { recursive: true });
      writeFileSync(join(drv, 'unbind'), '');
      symlinkSync(drv, join(dir, 'driver'));
    }
    if (d.iommuGroup !== undefined) {
      const grp = join(root, 'kernel', 'iommu_groups', String(d.iommuGroup));
      mkdirSync(grp, { recursive: true });
      symlinkSync(grp, join(dir, 'iommu_group'));
    }
  }
  return root;
}
