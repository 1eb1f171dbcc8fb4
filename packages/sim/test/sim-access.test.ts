import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PacketBatch,
  createStats,
  registerDriver,
  registeredResolvers,
  type DeviceOptions,
  type DeviceStats,
  type IxyDevice,
} from '@ixy/core';
import { simulatedMemory } from '@ixy/memory';
import { Cable } from '../src/cable.js';
import { SimDeviceAccess, isSimAddress, parseSimAddress, simResolver } from '../src/sim-access.js';
import { SimPortDevice } from '../src/sim-port.js';
import { simPortDriver } from '../src/sim-driver.js';
import '../src/index.js';

const cables: string[] = [];
function cable(): string {
  const n = `access-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  cables.push(n);
  return n;
}
afterEach(() => {
  for (const n of cables.splice(0)) Cable.remove(n);
});

/** Records the calls a wrapper passes on. */
class FakeDevice implements IxyDevice {
  readonly address = 'fake';
  readonly driverName = 'fake';
  readonly rxQueueCount = 1;
  readonly txQueueCount = 1;
  calls: string[] = [];
  rxBatch(): number {
    this.calls.push('rx');
    return 0;
  }
  txBatch(): number {
    this.calls.push('tx');
    return 0;
  }
  readStats(_s: DeviceStats): void {
    this.calls.push('stats');
  }
  rxWakeup(): null {
    return null;
  }
  resetStats(): void {}
  setPromisc(): void {}
  linkSpeed(): number {
    return 0;
  }
  macAddress(): Uint8Array {
    return new Uint8Array(6);
  }
  setMacAddress(): void {}
  close(): void {
    this.calls.push('close');
  }
}

describe('sim:<cable>:<end> ports', () => {
  it('parses addresses', () => {
    expect(isSimAddress('sim:a:0')).toBe(true);
    expect(isSimAddress('sim:a-b.c_d:1')).toBe(true);
    expect(isSimAddress('sim:a:2')).toBe(false);
    expect(isSimAddress('0000:03:00.0')).toBe(false);
    expect(parseSimAddress('sim:x:1')).toEqual({ cable: 'x', end: 1 });
    expect(() => parseSimAddress('sim:.hidden:0')).toThrow(/not a device address/);
  });

  it('is registered with @ixy/core when the package is imported', () => {
    expect(registeredResolvers()).toContain(simResolver);
  });

  it('looks like an 82599 (8086:10fb, Ethernet) on bus sim, with the model as BAR0', () => {
    const name = cable();
    const access = new SimDeviceAccess(`sim:${name}:0`);
    try {
      expect(access.identity).toMatchObject({
        address: `sim:${name}:0`,
        bus: 'sim',
        vendorId: 0x8086,
        deviceId: 0x10fb,
        classCode: 0x020000,
      });
      expect(access.dma).toBe(simulatedMemory);
      expect(access.registers(0)).toBe(access.model);
      expect(() => access.registers(2)).toThrow(/BAR0 only/);
      expect(access.readConfig(0, 2)).toBe(0x8086);
      expect(access.readConfig(2, 2)).toBe(0x10fb);
      expect(access.readConfig(8, 4) >>> 8).toBe(0x020000);
    } finally {
      access.release();
    }
  });

  it('takes its cable end at claim and lets it go at release', () => {
    const name = cable();
    const a = new SimDeviceAccess(`sim:${name}:0`);
    const b = new SimDeviceAccess(`sim:${name}:1`);
    try {
      a.claim();
      expect(a.model.read32(0x042a4) >>> 30).toBe(0);
      b.claim();
      expect(a.model.read32(0x042a4) >>> 30).toBe(1);
      b.release();
      expect(a.model.read32(0x042a4) >>> 30).toBe(0);
      b.release(); // idempotent
    } finally {
      a.release();
      b.release();
    }
  });

  it('opens ports with the card driver, wrapped so the model runs before rx and after tx', () => {
    const name = cable();
    const access = new SimDeviceAccess(`sim:${name}:0`);
    try {
      const inner = new FakeDevice();
      let given: DeviceOptions | undefined;
      registerDriver<DeviceOptions>({
        name: 'fake-82599',
        optionNames: ['linkTimeoutMs'],
        matches: (id) => id.vendorId === 0x8086 && id.deviceId === 0x10fb,
        open: (_access, options) => {
          given = options;
          return inner;
        },
      });
      const polls: string[] = [];
      const model = access.model as unknown as { poll(): void };
      const poll = model.poll.bind(model);
      model.poll = () => {
        inner.calls.push('poll');
        polls.push('poll');
        poll();
      };
      const dev = simPortDriver.open(access, { ringSize: 64 }) as SimPortDevice;
      expect(dev).toBeInstanceOf(SimPortDevice);
      expect(dev.inner).toBe(inner);
      expect(given).toEqual({ ringSize: 64, linkTimeoutMs: 0 }); // the model's link needs no wait
      expect(simPortDriver.optionNames).toEqual(['linkTimeoutMs']);
      const batch = new PacketBatch(1);
      dev.rxBatch(0, batch);
      dev.txBatch(0, batch);
      dev.readStats(createStats());
      dev.close();
      expect(inner.calls).toEqual(['poll', 'rx', 'tx', 'poll', 'stats', 'close']);
    } finally {
      access.release();
    }
  });
});
