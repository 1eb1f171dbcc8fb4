import { readFileSync, writeFileSync } from 'node:fs';
import { IxyError, PermissionError, systemErrorCode } from '@ixy/core';
import { hugepageCounts } from '@ixy/memory';
import { PciBus, type PciDeviceInfo } from '@ixy/pci';

const NR_HUGEPAGES = '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages';

/** Reserves `count` 2 MiB hugepages (as root); returns how many the kernel really has now. */
export function reserveHugepages(count: number, file = NR_HUGEPAGES): number {
  try {
    writeFileSync(file, String(count));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      throw new PermissionError(`cannot write ${file}: permission denied`, 'run ixy-setup as root');
    throw new IxyError(systemErrorCode(code) ?? 'EIO', `cannot write ${file}: ${(err as Error).message}`);
  }
  return Number.parseInt(readFileSync(file, 'utf8'), 10);
}

/** The NICs of the machine, for the status overview. */
export function networkDevices(bus: PciBus): PciDeviceInfo[] {
  return bus.list().filter((d) => d.classCode >>> 16 === 0x02);
}

/** Lines of the status overview: hugepages, then one line per network device. */
export function statusLines(bus: PciBus, counts = hugepageCounts()): string[] {
  const lines = [`hugepages (2 MiB): ${counts.free} free of ${counts.total}`];
  const nics = networkDevices(bus);
  if (nics.length === 0) lines.push('no network devices');
  for (const d of nics) {
    const id = `${d.vendorId.toString(16).padStart(4, '0')}:${d.deviceId.toString(16).padStart(4, '0')}`;
    const use =
      d.driver === 'vfio-pci'
        ? 'ready for ixy through VFIO'
        : d.driver
          ? `kernel driver ${d.driver} (ixy needs --unbind)`
          : 'no driver: ready for ixy (root)';
    lines.push(`${d.address}  ${id}  ${use}${d.iommuGroup === null ? '' : `  (IOMMU group ${d.iommuGroup})`}`);
  }
  return lines;
}
