// Test helpers: pairs of simulated ports on a fresh cable, frames with known bytes.
import { randomBytes } from 'node:crypto';
import { openDevice, type DeviceOptions as OpenOptions, type IxyDevice, type PacketBatch } from '@ixy/core';
import { INDEX_MASK, Mempool, simulatedMemory } from '@ixy/memory';
import { Cable, SimPortDevice, type IxgbeModel } from '@ixy/sim';
import '../src/index.js';

export interface Port {
  dev: IxyDevice;
  model: IxgbeModel;
}

let counter = 0;

/** A cable name no other test (or test run) uses. */
export function freshCable(): string {
  return `t${process.pid}-${Date.now().toString(36)}-${counter++}-${randomBytes(3).toString('hex')}`;
}

export function openPort(address: string, options: OpenOptions = {}): Port {
  const dev = openDevice(address, { linkTimeoutMs: 0, ...options });
  if (!(dev instanceof SimPortDevice)) throw new Error(`${address} did not open as a simulated port`);
  return { dev, model: dev.model };
}

export interface Pair {
  cable: string;
  p0: Port;
  p1: Port;
}

/** Two ports on one fresh cable; close them with closePair (tracked.ts does it after each test). */
export function openPair(a: OpenOptions = {}, b: OpenOptions = a): Pair {
  const cable = freshCable();
  const p0 = openPort(`sim:${cable}:0`, a);
  const p1 = openPort(`sim:${cable}:1`, b);
  return { cable, p0, p1 };
}

export function closePair(pair: Pair): void {
  pair.p0.dev.close();
  pair.p1.dev.close();
  Cable.remove(pair.cable);
}

/** A pool for packets the test sends. */
export function txPool(entries = 1024, safe = false): Mempool {
  return new Mempool({ allocator: simulatedMemory, entries, safe });
}

/** Deterministic frame bytes for sequence number `seq`: broadcast, EtherType 0x88b5, payload. */
export function frameBytes(seq: number, length: number): Uint8Array {
  const f = new Uint8Array(length);
  f.fill(0xff, 0, 6);
  f.set([0x02, 0, 0, 0, 0, 1], 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  new DataView(f.buffer).setUint32(14, seq, true);
  for (let i = 18; i < length; i++) f[i] = (seq * 7 + i) & 0xff;
  return f;
}

/** Fills `batch` with `count` packets from `pool` holding the given bytes. */
export function fillBatch(pool: Mempool, batch: PacketBatch, frames: Uint8Array[]): void {
  batch.length = 0;
  for (const f of frames) {
    const h = pool.allocOrThrow();
    pool.bytes.set(f, pool.dataOffset(h));
    pool.length[h & INDEX_MASK] = f.length;
    batch.push(h);
  }
}

/** A copy of a packet's bytes. */
export function packetBytes(h: number): Uint8Array {
  const pool = Mempool.of(h);
  const at = pool.dataOffset(h);
  return pool.bytes.slice(at, at + pool.length[h & INDEX_MASK]);
}
