import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DeviceNotFoundError,
  IxyError,
  NoDriverError,
  clearRegistry,
  openDevice,
  registerDriver,
  registerResolver,
} from '@ixy/core';
import {
  CheckedRegisters,
  IoPortRegisters,
  MmioRegisters,
  PciBus,
  RegisterAccessError,
  createPciResolver,
} from '../src/index.js';
import { fakeSysfs } from './fake-sysfs.js';

const root = fakeSysfs([
  {
    address: '0000:03:00.0',
    vendor: 0x8086,
    device: 0x10fb,
    classCode: 0x020000,
    driver: 'ixgbe',
    iommuGroup: 17,
    bars: [
      ['mem', 0x20000],
      ['none', 0],
      ['io', 32],
    ],
  },
  {
    address: '0000:00:04.0',
    vendor: 0x1af4,
    device: 0x1000,
    classCode: 0x020000,
    bars: [
      ['io', 32],
      ['mem', 4096],
    ],
  },
  { address: '0000:00:02.0', vendor: 0x1234, device: 0x1111, classCode: 0x030000, bars: [['mem', 4096]] },
]);
afterAll(() => rmSync(root, { recursive: true, force: true }));
const bus = new PciBus(root);

describe('PciBus on a fake sysfs tree', () => {
  it('enumerates devices with ids, class, driver and IOMMU group', () => {
    const all = bus.list();
    expect(all.map((d) => d.address)).toEqual(['0000:00:02.0', '0000:00:04.0', '0000:03:00.0']);
    expect(bus.info('03:00.0')).toEqual({
      address: '0000:03:00.0',
      vendorId: 0x8086,
      deviceId: 0x10fb,
      classCode: 0x020000,
      driver: 'ixgbe',
      iommuGroup: 17,
    });
    expect(bus.info('0000:00:04.0').driver).toBeNull();
    expect(bus.info('0000:00:04.0').iommuGroup).toBeNull();
  });

  it('says clearly when there is no such device', () => {
    expect(() => bus.info('0000:09:00.0')).toThrow(DeviceNotFoundError);
    expect(() => bus.info('0000:09:00.0')).toThrow(/no PCI device at 0000:09:00.0/);
  });

  it('reads the BARs and their kinds', () => {
    const bars = bus.bars('0000:03:00.0');
    expect(bars[0]).toMatchObject({ kind: 'memory', size: 0x20000 });
    expect(bars[1].kind).toBe('none');
    expect(bars[2]).toMatchObject({ kind: 'io', size: 32 });
  });

  it('unbinds from the kernel driver by writing the address to driver/unbind', () => {
    bus.unbind('0000:03:00.0');
    expect(readFileSync(join(root, 'bus/pci/drivers/ixgbe/unbind'), 'utf8')).toBe('0000:03:00.0');
    expect(() => bus.unbind('0000:00:04.0')).not.toThrow(); // no driver: nothing to do
  });

  it('enables bus mastering: bit 2 of the command register, other bits kept', () => {
    expect(bus.busMastering('0000:03:00.0')).toBe(false);
    bus.enableBusMastering('0000:03:00.0');
    expect(bus.busMastering('0000:03:00.0')).toBe(true);
    expect(bus.readConfig('0000:03:00.0', 4, 2)).toBe(0x0007);
    expect(bus.readConfig('0000:03:00.0', 0, 4)).toBe(0x10fb8086);
  });

  it('maps a memory BAR as registers', () => {
    const regs = bus.mapBar('0000:03:00.0', 0);
    expect(regs).toBeInstanceOf(MmioRegisters);
    expect(regs.size).toBe(0x20000);
    regs.write32(0x8, 0x12345678);
    expect(regs.read32(0x8)).toBe(0x12345678);
    expect(regs.read16(0xa)).toBe(0x1234);
    expect(regs.read8(0x8)).toBe(0x78);
    const again = bus.mapBar('0000:03:00.0', 0); // MAP_SHARED: the file is the device
    expect(again.read32(0x8)).toBe(0x12345678);
    regs.unmap();
    again.unmap();
    expect(readFileSync(join(root, 'devices/pci0000:00/0000:03:00.0/resource0')).readUInt32LE(8)).toBe(0x12345678);
  });

  it('accesses an I/O-port BAR with pread/pwrite', () => {
    const io = bus.ioBar('0000:00:04.0', 0);
    expect(io).toBeInstanceOf(IoPortRegisters);
    io.write32(4, 0xa1b2c3d4);
    io.write8(20, 0x52);
    io.write16(16, 0xbeef);
    expect(io.read32(4)).toBe(0xa1b2c3d4);
    expect(io.read8(20)).toBe(0x52);
    expect(io.read16(16)).toBe(0xbeef);
    io.close();
  });

  it('refuses to map an I/O BAR, or to port-access a memory BAR, or a missing BAR', () => {
    expect(() => bus.mapBar('0000:00:04.0', 0)).toThrow(/I\/O-port BAR, not memory/);
    expect(() => bus.ioBar('0000:00:04.0', 1)).toThrow(/memory BAR, not I\/O/);
    expect(() => bus.mapBar('0000:03:00.0', 1)).toThrow(/has no BAR 1/);
    expect(() => bus.mapBar('0000:03:00.0', 1)).toThrow(IxyError);
  });
});

describe('CheckedRegisters (safe mode)', () => {
  it('passes good accesses and rejects out-of-bounds or misaligned ones', () => {
    const regs = new CheckedRegisters(new MmioRegisters(new ArrayBuffer(64)));
    regs.write32(60, 1);
    expect(regs.read32(60)).toBe(1);
    expect(() => regs.read32(64)).toThrow(RegisterAccessError);
    expect(() => regs.write32(62, 0)).toThrow(/misaligned/);
    expect(() => regs.read16(-2)).toThrow(RegisterAccessError);
    expect(() => regs.read8(64)).toThrow(RegisterAccessError);
  });
});

describe('pci resolver with the core registry', () => {
  it('identifies devices for drivers, and rejects a device that is not a NIC', () => {
    clearRegistry();
    registerResolver(createPciResolver(root));
    registerDriver({
      name: 'fake',
      optionNames: [],
      matches: (id) => id.vendorId === 0x8086,
      open: (access) => {
        access.claim();
        expect(access.registers(0).size).toBe(0x20000);
        return { address: access.identity.address, driverName: 'fake' } as never;
      },
    });
    expect(openDevice('03:00.0', { unbind: true }).address).toBe('0000:03:00.0');
    expect(() => openDevice('0000:00:02.0')).toThrow(NoDriverError);
    expect(() => openDevice('0000:00:02.0')).toThrow(/1234:1111 class 030000, not a network controller/);
    expect(() => openDevice('0000:00:04.0')).toThrow(/no ixy driver for 0000:00:04.0 \(1af4:1000 class 020000\)/);
    expect(() => openDevice('0000:0a:00.0')).toThrow(DeviceNotFoundError);
    clearRegistry();
  });

  it('refuses a device a kernel driver holds, unless told to unbind it', () => {
    clearRegistry();
    const tree = fakeSysfs([
      {
        address: '0000:05:00.0',
        vendor: 0x8086,
        device: 0x10fb,
        classCode: 0x020000,
        driver: 'ixgbe',
        bars: [['mem', 0x20000]],
      },
    ]);
    mkdirSync(join(tree, 'devices/pci0000:00/0000:05:00.0/net/eth7'), { recursive: true });
    registerResolver(createPciResolver(tree));
    registerDriver({
      name: 'fake',
      optionNames: [],
      matches: () => true,
      open: (access) => (access.claim(), { address: access.identity.address } as never),
    });
    let caught: unknown;
    try {
      openDevice('0000:05:00.0');
    } catch (err) {
      caught = err;
    }
    expect((caught as IxyError).code).toBe('EDRIVERBOUND');
    expect((caught as IxyError).message).toBe(
      '0000:05:00.0 is in use by the kernel driver ixgbe (network interface eth7)',
    );
    expect((caught as IxyError).hint).toMatch(/--unbind/);
    const unbindFile = join(tree, 'bus/pci/drivers/ixgbe/unbind');
    expect(readFileSync(unbindFile, 'utf8')).toBe(''); // nothing half-done
    expect(new PciBus(tree).busMastering('0000:05:00.0')).toBe(false);
    openDevice('0000:05:00.0', { unbind: true });
    expect(readFileSync(unbindFile, 'utf8')).toBe('0000:05:00.0');
    expect(new PciBus(tree).busMastering('0000:05:00.0')).toBe(true);
    clearRegistry();
    rmSync(tree, { recursive: true, force: true });
  });
});
