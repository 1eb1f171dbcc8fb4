// openPair and txPool for vitest files: what a test opens is closed after it (ports, cable
// files, pools), so the tests need no clean-up code of their own.
import { afterEach } from 'vitest';
import type { DeviceOptions as OpenOptions } from '@ixy/core';
import type { Mempool } from '@ixy/memory';
import { closePair, openPair as openUntracked, txPool as untrackedPool, type Pair } from './helpers.js';

const pairs: Pair[] = [];
const pools: Mempool[] = [];

afterEach(() => {
  for (const pair of pairs.splice(0)) closePair(pair);
  for (const pool of pools.splice(0)) pool.close();
});

/** Two ports on one fresh cable, closed after the test. */
export function openPair(a: OpenOptions = {}, b: OpenOptions = a): Pair {
  const pair = openUntracked(a, b);
  pairs.push(pair);
  return pair;
}

/** A pool for packets the test sends, closed after the test. */
export function txPool(entries = 1024, safe = false): Mempool {
  const pool = untrackedPool(entries, safe);
  pools.push(pool);
  return pool;
}
