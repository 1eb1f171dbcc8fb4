import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceAccess, DeviceIdentity, DriverFactory, OpenOptions } from '../src/registry.js';
import { clearRegistry, openDevice, registerDriver, registerResolver, registeredDrivers } from '../src/registry.js';
import type { IxyDevice } from '../src/device.js';
import { InvalidAddressError, IxyError, NoDriverError, UnknownOptionError } from '../src/errors.js';

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
      optionNames: [],
      accepts: (a) => a.startsWith('fake:'),
      resolve: (a) => fakeAccess(a === 'fake:1' ? nic : gpu, log),
    });
    const driver: DriverFactory = {
      name: 'fake-ixgbe',
      optionNames: [],
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
      optionNames: [],
      accepts: (a) => a.startsWith('fake:'),
      resolve: (a) => fakeAccess(a === 'fake:1' ? nic : gpu, log),
    });
    expect(() => openDevice('fake:1')).toThrow(NoDriverError);
    expect(() => openDevice('fake:2')).toThrow(/not a network controller/);
    expect(log).toEqual(['release', 'release']);
  });

  it('rejects unknown addresses and an empty registry clearly', () => {
    expect(() => openDevice('eth0')).toThrow(IxyError);
    registerResolver({
      name: 'fake',
      optionNames: [],
      accepts: (a) => a.startsWith('fake:'),
      resolve: () => fakeAccess(nic, []),
    });
    expect(() => openDevice('eth0')).toThrow(InvalidAddressError);
  });

  it('releases the device when the driver fails to open it', () => {
    const log: string[] = [];
    registerResolver({ name: 'fake', optionNames: [], accepts: () => true, resolve: () => fakeAccess(nic, log) });
    registerDriver({
      name: 'broken',
      optionNames: [],
      matches: () => true,
      open: () => {
        throw new IxyError('EDEVICE', 'broken');
      },
    });
    expect(() => openDevice('fake:1')).toThrow('broken');
    expect(log).toEqual(['release']);
  });

  it("tries the drivers made for the device's bus first", () => {
    registerResolver({ name: 'fake', optionNames: [], accepts: () => true, resolve: () => fakeAccess(nic, []) });
    const open = (name: string) => (a: DeviceAccess) => ({ ...fakeDevice(a.identity.address), driverName: name });
    registerDriver({ name: 'card', optionNames: [], matches: () => true, open: open('card') });
    registerDriver({ name: 'other-bus', bus: 'pci', optionNames: [], matches: () => true, open: open('other-bus') });
    expect(openDevice('fake:1').driverName).toBe('card');
    registerDriver({ name: 'port', bus: 'fake', optionNames: [], matches: () => true, open: open('port') });
    expect(openDevice('fake:1').driverName).toBe('port');
  });

  it('rejects options neither the driver nor the bus knows, naming the known ones', () => {
    const log: string[] = [];
    interface CardOptions extends OpenOptions {
      speed?: number;
    }
    let seen: CardOptions | undefined;
    registerResolver<{ cable?: string }>({
      name: 'fake',
      optionNames: ['cable'],
      accepts: () => true,
      resolve: () => fakeAccess(nic, log),
    });
    const card: DriverFactory<CardOptions> = {
      name: 'card',
      optionNames: ['speed'],
      matches: () => true,
      open: (a, o) => {
        seen = o;
        return fakeDevice(a.identity.address);
      },
    };
    registerDriver(card);
    openDevice('fake:1', { speed: 10, cable: 'x', ringSize: 64, unbind: undefined, spede: undefined });
    expect(seen).toMatchObject({ speed: 10, ringSize: 64 });
    let err: unknown;
    try {
      openDevice('fake:1', { spede: 10 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownOptionError);
    expect(err).toMatchObject({ code: 'EUNKNOWNOPTION', option: 'spede' });
    expect((err as UnknownOptionError).message).toBe("unknown option 'spede' for the card driver on fake:1");
    expect((err as UnknownOptionError).hint).toBe(
      'known options: cable, flowControl, poolSize, ringSize, rxPool, rxQueues, safe, speed, txQueues, unbind',
    );
    expect(log).toEqual(['release']);
  });
});
