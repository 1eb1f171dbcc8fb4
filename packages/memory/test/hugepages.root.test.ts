// Tier 2: the real kernel paths on this machine. Needs root (pagemap PFNs, hugepage
// reservation); reserves the hugepages it needs itself, and fails with the reason otherwise.
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HugepagesError } from '@ixy/core';
import { HUGEPAGE_SIZE, HugepageAllocator, Mempool, hugepageCounts, native } from '../src/index.js';

const NEEDED = 8;

beforeAll(() => {
  if (process.getuid?.() !== 0) {
    throw new Error('hugepage tests need root (CAP_SYS_ADMIN for pagemap, writing nr_hugepages): run them as root');
  }
  const { free, total } = hugepageCounts();
  if (free < NEEDED) {
    writeFileSync('/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages', String(total + NEEDED - free));
    const after = hugepageCounts();
    if (after.free < NEEDED) throw new Error(`could not reserve ${NEEDED} hugepages (kernel gave ${after.free} free)`);
  }
});

/** An independent pagemap read, in plain JS, for the byte at virtual address `virt`. */
function pagemapPhys(virt: number): number {
  const fd = openSync('/proc/self/pagemap', 'r');
  try {
    const entry = Buffer.alloc(8);
    readSync(fd, entry, 0, 8, Math.floor(virt / 4096) * 8);
    const v = entry.readBigUInt64LE(0);
    expect(v >> 63n).toBe(1n); // present
    const pfn = v & ((1n << 55n) - 1n);
    return Number(pfn) * 4096 + (virt % 4096);
  } finally {
    closeSync(fd);
  }
}

describe('hugepage DMA memory (root)', () => {
  it('allocates locked 2 MiB pages with physical addresses that match pagemap', () => {
    const region = new HugepageAllocator().allocate(3 * 1024 * 1024);
    try {
      expect(region.size).toBe(2 * HUGEPAGE_SIZE);
      const virt = native().address(region.buffer as ArrayBuffer);
      expect(virt % HUGEPAGE_SIZE).toBe(0);
      for (const offset of [0, 4096, 123_456, HUGEPAGE_SIZE - 1, HUGEPAGE_SIZE, 2 * HUGEPAGE_SIZE - 8]) {
        const phys = region.physAddr(offset);
        expect(Number.isSafeInteger(phys)).toBe(true);
        expect(phys).toBe(pagemapPhys(virt + offset));
      }
      expect(region.physAddr(0) % HUGEPAGE_SIZE).toBe(0);
    } finally {
      region.free();
    }
  });

  it('each 2 MiB page is physically contiguous (every 4 KiB page of it, by pagemap)', () => {
    const region = new HugepageAllocator().allocate(HUGEPAGE_SIZE, { contiguous: true });
    try {
      const phys = native().physAddrs(region.buffer as ArrayBuffer, 4096);
      expect(phys.length).toBe(512);
      for (let i = 0; i < phys.length; i++) expect(phys[i]).toBe(phys[0] + i * 4096);
    } finally {
      region.free();
    }
  });

  it('memory is usable, zeroed, and released on free (hugepages return)', () => {
    const before = hugepageCounts().free;
    const region = new HugepageAllocator().allocate(HUGEPAGE_SIZE);
    expect(hugepageCounts().free).toBe(before - 1);
    const bytes = new Uint8Array(region.buffer);
    expect(bytes.every((b) => b === 0)).toBe(true);
    bytes.fill(0x5a);
    expect(bytes[HUGEPAGE_SIZE - 1]).toBe(0x5a);
    region.free();
    expect(bytes.length).toBe(0); // detached: a stale view reads nothing instead of faulting
    expect(hugepageCounts().free).toBe(before);
  });

  it('a mempool on hugepages gives each buffer its physical address', () => {
    const pool = new Mempool({ allocator: new HugepageAllocator(), entries: 2048 });
    try {
      const virt = native().address(pool.region.buffer as ArrayBuffer);
      for (const i of [0, 1, 1023, 1024, 2047]) {
        expect(pool.physAddr[i]).toBe(pagemapPhys(virt + i * 2048 + 128));
      }
    } finally {
      pool.close();
    }
  });

  it('says how to reserve hugepages when there are not enough', () => {
    const { free } = hugepageCounts();
    let caught: unknown;
    try {
      new HugepageAllocator().allocate((free + 1) * HUGEPAGE_SIZE);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HugepagesError);
    expect((caught as HugepagesError).message).toMatch(/not enough free 2 MiB hugepages/);
    expect((caught as HugepagesError).hint).toMatch(/nr_hugepages/);
    expect(hugepageCounts().free).toBe(free); // nothing half-allocated stays behind
  });

  it('refuses a contiguous region larger than a hugepage', () => {
    expect(() => new HugepageAllocator().allocate(HUGEPAGE_SIZE + 1, { contiguous: true })).toThrow(/contiguous/);
  });
});
