import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceAccess, DeviceIdentity, DriverFactory } from '../src/registry.js';
import { clearRegistry, openDevice, registerDriver, registerResolver, registeredDrivers } from '../src/registry.js';
import type { IxyDevice } from '../src/device.js';
import { InvalidAddressError, IxyError, NoDriverError } from '../src/errors.js';

function fakeAccess(identity: DeviceIdentity, log: string[]): DeviceAccess {
  return {
    identity,
    dma: {
      name: 'none',
      allocate: () => {
        throw new Error('no dma');
      },
    },
    claim: () => log.push('claim'),
    registers: () => {
      throw new Error('no bars');
    },
    readConfig: () => 0,
    release: () => log.push('release'),
  };
}

const nic: DeviceIdentity = { address: 'fake:1', bus: 'fake', vendorId: 0x8086, deviceId: 0x10fb, classCode: 0x020000 };
const gpu: DeviceIdentity = { address: 'fake:2', bus: 'fake', vendorId: 0x10de, deviceId: 0x1234, classCode: 0x030000 };

function fakeDevice(address: string): IxyDevice {
  return { address, driverName: 'fake' } as unknown as IxyDevice;
}

describe('driver registry', () => {
  afterEach(() => clearRegistry());

  it('opens a device with the first driver that matches it', () => {
    const log: string[] = [];
    registerResolver({
      name: 'fake',
      accepts: (a) => a.startsWith('fake:'),
      resolve: (a) => fakeAccess(a === 'fake:1' ? nic : gpu, log),
    });
    const driver: DriverFactory = {
      name: 'fake-ixgbe',
      matches: (id) => id.vendorId === 0x8086 && id.deviceId === 0x10fb,
      open: (access) => {
        access.claim();
        return fakeDevice(access.identity.address);
      },
    };
    registerDriver(driver);
    registerDriver(driver); // twice is once
    expect(registeredDrivers()).toHaveLength(1);
    expect(openDevice('fake:1').address).toBe('fake:1');
    expect(log).toEqual(['claim']);
  });

  it('says when no driver matches, and releases the device', () => {
    const log: string[] = [];
    registerResolver({
      name: 'fake',
      accepts: (a) => a.startsWith('fake:'),
      resolve: (a) => fakeAccess(a === 'fake:1' ? nic : gpu, log),
    });
    expect(() => openDevice('fake:1')).toThrow(NoDriverError);
    expect(() => openDevice('fake:2')).toThrow(/not a network controller/);
    expect(log).toEqual(['release', 'release']);
  });

  it('rejects unknown addresses and an empty registry clearly', () => {
    expect(() => openDevice('eth0')).toThrow(IxyError);
    registerResolver({ name: 'fake', accepts: (a) => a.startsWith('fake:'), resolve: () => fakeAccess(nic, []) });
    expect(() => openDevice('eth0')).toThrow(InvalidAddressError);
  });

  it('releases the device when the driver fails to open it', () => {
    const log: string[] = [];
    registerResolver({ name: 'fake', accepts: () => true, resolve: () => fakeAccess(nic, log) });
    registerDriver({
      name: 'broken',
      matches: () => true,
      open: () => {
        throw new IxyError('EBROKEN', 'broken');
      },
    });
    expect(() => openDevice('fake:1')).toThrow('broken');
    expect(log).toEqual(['release']);
  });

  it('lets the bus wrap the device (device models)', () => {
    registerResolver({
      name: 'fake',
      accepts: () => true,
      resolve: () => ({
        ...fakeAccess(nic, []),
        wrapDevice: (d: IxyDevice) => ({ ...d, driverName: 'wrapped' }),
      }),
    });
    registerDriver({ name: 'x', matches: () => true, open: (a) => fakeDevice(a.identity.address) });
    expect(openDevice('fake:1').driverName).toBe('wrapped');
  });
});
