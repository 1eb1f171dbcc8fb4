import {
  chownSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  readlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { DeviceNotFoundError, IxyError, PermissionError, type DeviceIdentity, systemErrorCode } from '@ixy/core';
import { mapSharedFile } from '@ixy/memory';
import { parsePciAddress } from './address.js';
import { IoPortRegisters, MmioRegisters } from './registers.js';

/** One PCI function as sysfs describes it. */
export interface PciDeviceInfo {
  address: string;
  vendorId: number;
  deviceId: number;
  /** 24-bit class code (0x020000: Ethernet controller). */
  classCode: number;
  /** Name of the bound kernel driver, or null. */
  driver: string | null;
  /** IOMMU group number, or null without an IOMMU. */
  iommuGroup: number | null;
}

/** What `@ixy/core`'s registry needs to know of a PCI device. */
export function pciIdentity(info: PciDeviceInfo): DeviceIdentity {
  return {
    address: info.address,
    bus: 'pci',
    vendorId: info.vendorId,
    deviceId: info.deviceId,
    classCode: info.classCode,
    kernelDriver: info.driver,
  };
}

/** A BAR as listed in sysfs `resource`. */
export interface PciBar {
  index: number;
  kind: 'memory' | 'io' | 'none';
  start: number;
  size: number;
}

const IORESOURCE_IO = 0x100;
const IORESOURCE_MEM = 0x200;
/** Command register (config offset 4), bit 2: bus master enable (PCI spec 6.2.2). */
const COMMAND_REGISTER = 4;
const COMMAND_BUS_MASTER = 1 << 2;

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * PCI through sysfs. The sysfs root is a parameter, so tests run against a fake tree and
 * never touch the machine's own devices.
 */
export class PciBus {
  readonly devicesDir: string;

  constructor(readonly sysfsRoot = '/sys') {
    this.devicesDir = join(sysfsRoot, 'bus', 'pci', 'devices');
  }

  /** Directory of a device; throws DeviceNotFoundError when it is not there. */
  deviceDir(address: string): string {
    const canonical = parsePciAddress(address);
    const dir = join(this.devicesDir, canonical);
    if (!existsSync(dir)) throw new DeviceNotFoundError(canonical);
    return dir;
  }

  /** Every PCI function on the bus. */
  list(): PciDeviceInfo[] {
    let names: string[];
    try {
      names = readdirSync(this.devicesDir);
    } catch {
      throw new IxyError('ENOSYSFS', `cannot read ${this.devicesDir}`, 'is sysfs mounted at /sys?');
    }
    return names.sort().map((name) => this.info(name));
  }

  /** What sysfs says of one device. */
  info(address: string): PciDeviceInfo {
    const dir = this.deviceDir(address);
    const hex = (name: string): number => Number.parseInt(readFileSync(join(dir, name), 'utf8').trim(), 16);
    const link = (name: string): string | null => {
      try {
        return basename(readlinkSync(join(dir, name)));
      } catch {
        return null;
      }
    };
    const group = link('iommu_group');
    return {
      address: basename(dir),
      vendorId: hex('vendor'),
      deviceId: hex('device'),
      classCode: hex('class'),
      driver: link('driver'),
      iommuGroup: group === null ? null : Number.parseInt(group, 10),
    };
  }

  /** Names of the network interfaces the kernel made of the device (empty when none). */
  interfaces(address: string): string[] {
    try {
      return readdirSync(join(this.deviceDir(address), 'net')).sort();
    } catch {
      return [];
    }
  }

  /** The device's BARs from sysfs `resource` (start, end, flags per line). */
  bars(address: string): PciBar[] {
    const dir = this.deviceDir(address);
    const lines = readFileSync(join(dir, 'resource'), 'utf8').trim().split('\n').slice(0, 6);
    return lines.map((line, index) => {
      const [start, end, flags] = line
        .trim()
        .split(/\s+/)
        .map((v) => Number(BigInt(v)));
      const kind = flags & IORESOURCE_IO ? 'io' : flags & IORESOURCE_MEM ? 'memory' : 'none';
      return { index, kind, start, size: kind === 'none' || end < start ? 0 : end - start + 1 };
    });
  }

  /** Unbinds the device from its kernel driver, if it has one (writes the address to driver/unbind). */
  unbind(address: string): void {
    const dir = this.deviceDir(address);
    const unbind = join(dir, 'driver', 'unbind');
    if (!existsSync(unbind)) return;
    try {
      writeFileSync(unbind, basename(dir));
    } catch (err) {
      if (errnoOf(err) === 'EACCES' || errnoOf(err) === 'EPERM') {
        throw new PermissionError(`cannot unbind ${basename(dir)} from its kernel driver: permission denied`);
      }
      throw new IxyError(systemErrorCode(err) ?? 'EIO', `cannot unbind ${basename(dir)}: ${(err as Error).message}`);
    }
  }

  /**
   * Set-up for VFIO (as root): binds the device to vfio-pci (unbinding its kernel driver,
   * `driver_override` = vfio-pci, then a probe) and, with `owner`, gives that user the group's
   * /dev/vfio/<group>, so the driver can then run without root. Returns the IOMMU group.
   */
  bindVfio(address: string, owner?: { uid: number; gid: number }, devVfio = '/dev/vfio'): number {
    const dir = this.deviceDir(address);
    const info = this.info(address);
    if (info.iommuGroup === null) {
      throw new IxyError(
        'ENOIOMMU',
        `${info.address} has no IOMMU group`,
        'boot with the IOMMU on (intel_iommu=on or amd_iommu=on)',
      );
    }
    if (!existsSync(join(this.sysfsRoot, 'bus', 'pci', 'drivers', 'vfio-pci'))) {
      throw new IxyError('ENOVFIO', 'the vfio-pci driver is not loaded', 'modprobe vfio-pci');
    }
    try {
      if (info.driver !== 'vfio-pci') {
        this.unbind(info.address);
        writeFileSync(join(dir, 'driver_override'), 'vfio-pci');
        writeFileSync(join(this.sysfsRoot, 'bus', 'pci', 'drivers_probe'), info.address);
      }
      if (owner) chownSync(join(devVfio, String(info.iommuGroup)), owner.uid, owner.gid);
    } catch (err) {
      if (err instanceof IxyError) throw err;
      if (errnoOf(err) === 'EACCES' || errnoOf(err) === 'EPERM') {
        throw new PermissionError(`cannot bind ${info.address} to vfio-pci: permission denied`);
      }
      throw new IxyError(
        systemErrorCode(err) ?? 'EIO',
        `cannot bind ${info.address} to vfio-pci: ${(err as Error).message}`,
      );
    }
    if (this.info(info.address).driver !== 'vfio-pci') {
      throw new IxyError(
        'ENOVFIO',
        `${info.address} did not bind to vfio-pci`,
        'check dmesg; every device of its IOMMU group must be bound to vfio-pci',
      );
    }
    return info.iommuGroup;
  }

  /** Reads 1, 2 or 4 bytes of config space (little endian). */
  readConfig(address: string, offset: number, width: 1 | 2 | 4): number {
    const path = join(this.deviceDir(address), 'config');
    const buf = Buffer.alloc(width);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new PermissionError(`cannot read ${path}: ${(err as Error).message}`);
    }
    try {
      if (readSync(fd, buf, 0, width, offset) !== width) {
        throw new IxyError('EIO', `cannot read ${width} bytes at ${offset} of ${path}`);
      }
    } finally {
      closeSync(fd);
    }
    return width === 1 ? buf.readUInt8(0) : width === 2 ? buf.readUInt16LE(0) : buf.readUInt32LE(0);
  }

  /** Writes 1, 2 or 4 bytes of config space. */
  writeConfig(address: string, offset: number, width: 1 | 2 | 4, value: number): void {
    const path = join(this.deviceDir(address), 'config');
    const buf = Buffer.alloc(width);
    if (width === 1) buf.writeUInt8(value, 0);
    else if (width === 2) buf.writeUInt16LE(value, 0);
    else buf.writeUInt32LE(value >>> 0, 0);
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (err) {
      throw new PermissionError(`cannot write ${path}: ${(err as Error).message}`);
    }
    try {
      if (writeSync(fd, buf, 0, width, offset) !== width) {
        throw new IxyError('EIO', `cannot write ${width} bytes at ${offset} of ${path}`);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Sets bus master enable in the command register, so the device can do DMA. */
  enableBusMastering(address: string): void {
    const cmd = this.readConfig(address, COMMAND_REGISTER, 2);
    if (!(cmd & COMMAND_BUS_MASTER)) this.writeConfig(address, COMMAND_REGISTER, 2, cmd | COMMAND_BUS_MASTER);
  }

  /** Is bus mastering enabled? */
  busMastering(address: string): boolean {
    return (this.readConfig(address, COMMAND_REGISTER, 2) & COMMAND_BUS_MASTER) !== 0;
  }

  private bar(address: string, index: number): PciBar {
    const bar = this.bars(address)[index];
    if (!bar || bar.kind === 'none') {
      throw new IxyError('ENOBAR', `${parsePciAddress(address)} has no BAR ${index}`);
    }
    return bar;
  }

  /** Maps a memory BAR (`resourceN`) as registers. Throws for an I/O BAR. */
  mapBar(address: string, index: number): MmioRegisters {
    const bar = this.bar(address, index);
    const canonical = parsePciAddress(address);
    if (bar.kind !== 'memory') {
      throw new IxyError(
        'EBARKIND',
        `BAR ${index} of ${canonical} is an I/O-port BAR, not memory: it cannot be mapped`,
        'use ioBar() (port I/O through pread/pwrite) for it',
      );
    }
    const path = join(this.deviceDir(address), `resource${index}`);
    return new MmioRegisters(mapSharedFile(path, 0));
  }

  /** Opens an I/O-port BAR for pread/pwrite access. Throws for a memory BAR. */
  ioBar(address: string, index: number): IoPortRegisters {
    const bar = this.bar(address, index);
    const canonical = parsePciAddress(address);
    if (bar.kind !== 'io') {
      throw new IxyError(
        'EBARKIND',
        `BAR ${index} of ${canonical} is a memory BAR, not I/O ports`,
        'use mapBar() for it',
      );
    }
    const path = join(this.deviceDir(address), `resource${index}`);
    try {
      return new IoPortRegisters(path, bar.size);
    } catch (err) {
      if (errnoOf(err) === 'EACCES' || errnoOf(err) === 'EPERM') {
        throw new PermissionError(`cannot open ${path}: permission denied`);
      }
      throw err;
    }
  }
}
