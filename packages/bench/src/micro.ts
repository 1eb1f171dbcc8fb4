import { PacketBatch } from '@ixy/core';
import { Mempool, SimulatedMemory } from '@ixy/memory';
import { CheckedRegisters, MmioRegisters } from '@ixy/pci';
import { measure, type Rate } from './measure.js';

/**
 * What one register access costs through each accessor, on ordinary memory (so this is the
 * engine's cost, not the bus's): a plain typed-array element, Atomics for both (as
 * MmioRegisters wrote before: Atomics.store is an xchg), MmioRegisters (plain store, Atomics
 * load), and the bounds-checked CheckedRegisters of safe mode. One row = one write and one read.
 */
export function registerAccessors(ghz: number, seconds: number): Rate[] {
  const buffer = new ArrayBuffer(0x20000);
  const plain = new Uint32Array(buffer);
  const mmio = new MmioRegisters(buffer);
  const checked = new CheckedRegisters(new MmioRegisters(buffer));
  let v = 0;
  return [
    measure(
      'plain Uint32Array (reads may be cached: unsafe)',
      () => {
        plain[0x6018 >>> 2] = v++;
        return (plain[0x6010 >>> 2] & 0) + 1;
      },
      ghz,
      seconds,
    ),
    measure(
      'Atomics.store + Atomics.load (xchg)',
      () => {
        Atomics.store(plain, 0x6018 >>> 2, v++);
        return (Atomics.load(plain, 0x6010 >>> 2) & 0) + 1;
      },
      ghz,
      seconds,
    ),
    measure(
      'MmioRegisters (plain store, Atomics.load)',
      () => {
        mmio.write32(0x6018, v++);
        return (mmio.read32(0x6010) & 0) + 1;
      },
      ghz,
      seconds,
    ),
    measure(
      'CheckedRegisters (safe mode)',
      () => {
        checked.write32(0x6018, v++);
        return (checked.read32(0x6010) & 0) + 1;
      },
      ghz,
      seconds,
    ),
  ];
}

/** Mempool bulk alloc + free of a batch, fast vs safe mode; per packet. */
export function mempools(ghz: number, seconds: number, batchSize = 32): Rate[] {
  const memory = new SimulatedMemory();
  const rates: Rate[] = [];
  for (const safe of [false, true]) {
    const pool = new Mempool({ allocator: memory, entries: 4096, safe });
    const batch = new PacketBatch(batchSize);
    rates.push(
      measure(
        `alloc+free, batch ${batchSize}, ${safe ? 'safe' : 'fast'} mode`,
        () => {
          const n = pool.allocBatch(batch);
          Mempool.freeBatch(batch);
          return n;
        },
        ghz,
        seconds,
      ),
    );
    rates.push(
      measure(
        `driver RX+TX transfers, ${safe ? 'safe' : 'fast'} mode`,
        () => {
          // what a forwarded packet goes through: refill, hand to app, take for TX, free after TX
          const h = pool.driverAlloc();
          pool.driverGive(h);
          pool.driverTake(h);
          pool.driverFree(h);
          return 1;
        },
        ghz,
        seconds,
      ),
    );
    pool.close();
  }
  return rates;
}
