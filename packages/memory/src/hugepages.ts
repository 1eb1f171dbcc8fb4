import { readFileSync } from 'node:fs';
import {
  HugepagesError,
  IxyError,
  PermissionError,
  type DmaAllocator,
  type DmaRegion,
  systemErrorCode,
} from '@ixy/core';
import { isNativeError, native } from './native.js';

export const HUGEPAGE_SIZE = 2 * 1024 * 1024;
const SYSFS_HUGEPAGES = '/sys/kernel/mm/hugepages/hugepages-2048kB';

/** Free and total 2 MiB hugepages of the running kernel (0/0 when it has none). */
export function hugepageCounts(sysfs = SYSFS_HUGEPAGES): { free: number; total: number } {
  const read = (name: string): number => {
    try {
      return Number.parseInt(readFileSync(`${sysfs}/${name}`, 'utf8'), 10) || 0;
    } catch {
      return 0;
    }
  };
  return { free: read('free_hugepages'), total: read('nr_hugepages') };
}

/** The first hugetlbfs mount point (for kernels without memfd hugepages), or ''. */
export function hugetlbfsMount(mounts = '/proc/mounts'): string {
  try {
    for (const line of readFileSync(mounts, 'utf8').split('\n')) {
      const [, dir, type] = line.split(' ');
      if (type === 'hugetlbfs' && dir) return dir;
    }
  } catch {
    // no /proc: fall through
  }
  return '';
}

/** DMA memory on hugepages: each 2 MiB page is physically contiguous, the region as a whole is not. */
export class HugepageRegion implements DmaRegion {
  readonly contiguousChunk = HUGEPAGE_SIZE;
  readonly size: number;
  private freed = false;

  constructor(
    readonly buffer: ArrayBuffer,
    /** Physical address of each 2 MiB page. */
    readonly pagePhys: Float64Array,
  ) {
    this.size = buffer.byteLength;
  }

  physAddr(offset: number): number {
    const page = Math.floor(offset / HUGEPAGE_SIZE);
    return this.pagePhys[page] + (offset - page * HUGEPAGE_SIZE);
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    native().unmap(this.buffer);
  }
}

/** Translates the addon's errors into errors a user can act on. */
function explain(err: unknown, pages: number): never {
  if (!isNativeError(err)) throw err;
  const e = err;
  const counts = hugepageCounts();
  if (e.syscall === 'mmap' && e.code === 'ENOMEM') {
    throw new HugepagesError(
      `not enough free 2 MiB hugepages: ${pages} needed, ${counts.free} free of ${counts.total}`,
      counts.total === 0
        ? 'no hugepages are reserved; as root: echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'
        : 'reserve more, as root: echo <n> > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages',
    );
  }
  if (e.syscall === 'mlock') {
    throw new PermissionError(
      `cannot lock DMA memory (${e.message})`,
      'run as root, or raise the locked-memory limit (ulimit -l)',
    );
  }
  if (e.code === 'EPERM' && e.path === '/proc/self/pagemap') {
    throw new PermissionError(
      'physical addresses in /proc/self/pagemap are hidden from this process',
      'run as root (CAP_SYS_ADMIN) to use DMA memory without an IOMMU, or use VFIO',
    );
  }
  if (e.syscall === 'memfd_create' || e.syscall === 'open') {
    throw new HugepagesError(
      `cannot create a hugepage file: ${e.message}`,
      'mount hugetlbfs (mount -t hugetlbfs hugetlbfs /mnt/huge) and reserve hugepages',
    );
  }
  throw new IxyError(systemErrorCode(e) ?? 'EDMA', `cannot allocate DMA memory: ${e.message}`, undefined, {
    cause: err,
  });
}

/**
 * Locked, populated memory on 2 MiB hugepages (size rounded up), without translation: for
 * allocators that give the device other addresses than physical ones (VFIO's IOMMU).
 * Throws HugepagesError or PermissionError with what to do.
 */
export function allocHugepageBuffer(size: number): ArrayBuffer {
  const pages = Math.ceil(size / HUGEPAGE_SIZE);
  try {
    return native().allocHugepages(pages * HUGEPAGE_SIZE, hugetlbfsMount());
  } catch (err) {
    explain(err, pages);
  }
}

/**
 * Allocates DMA memory on 2 MiB hugepages: memfd_create(MFD_HUGETLB), or a file in a hugetlbfs
 * mount (unlinked at once, so nothing stays behind), locked and populated, with the physical
 * address of each page from /proc/self/pagemap (which needs root).
 */
export class HugepageAllocator implements DmaAllocator {
  readonly name = 'hugepages';
  /** Physical addresses: every device without an IOMMU in the way reaches them. */
  readonly domain = 'physical';

  allocate(size: number, options: { contiguous?: boolean } = {}): DmaRegion {
    if (!Number.isSafeInteger(size) || size <= 0)
      throw new RangeError(`DMA size must be a positive integer, got ${size}`);
    const pages = Math.ceil(size / HUGEPAGE_SIZE);
    if (options.contiguous && pages > 1) {
      throw new IxyError(
        'ENOTCONTIG',
        `cannot allocate ${size} physically contiguous bytes: hugepages guarantee ${HUGEPAGE_SIZE} at most`,
      );
    }
    const buffer = allocHugepageBuffer(pages * HUGEPAGE_SIZE);
    try {
      return new HugepageRegion(buffer, native().physAddrs(buffer, HUGEPAGE_SIZE));
    } catch (err) {
      native().unmap(buffer);
      explain(err, pages);
    }
  }
}
