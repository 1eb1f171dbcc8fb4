// The one place the addon is loaded (node-gyp-build: a local build wins over prebuilds/).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's functions; see native/memory.cc. Errors carry `code`, `syscall` and `path`. */
export interface NativeMemory {
  /** Locked, populated memory on 2 MiB hugepages (size rounded up to 2 MiB). */
  allocHugepages(size: number, hugetlbfsDir: string): ArrayBuffer;
  /** A file mapped MAP_SHARED read/write; size 0 maps the whole file. */
  mapFile(path: string, size: number, create: boolean): ArrayBuffer;
  /** `size` bytes of an open file descriptor at `offset`, MAP_SHARED read/write (VFIO regions). */
  mapFd(fd: number, offset: number, size: number): ArrayBuffer;
  /** Unmaps a buffer this addon mapped and detaches it; false if it was not (or no longer) mapped. */
  unmap(buffer: ArrayBuffer): boolean;
  /** Physical address of every `stride`-th byte, from /proc/self/pagemap. */
  physAddrs(buffer: ArrayBuffer, stride: number): Float64Array;
  /** Virtual address of the buffer's first byte. */
  address(buffer: ArrayBuffer): number;
  /** Wakes up to `count` sleepers on a process-shared futex word; returns how many woke. */
  futexWake(buffer: ArrayBuffer, byteOffset: number, count: number): number;
  /**
   * Sleeps until an fd is readable (then reads it: eventfds reset), a futex word differs from
   * its value or is woken, a signal arrives, or the timeout passes; true when woken.
   */
  waitAny(
    fds: Int32Array,
    futexBuffers: ArrayBuffer[],
    futexOffsets: number[],
    futexValues: number[],
    timeoutMs: number,
  ): boolean;
  /**
   * An open-file-description byte-range lock (F_OFD_SETLK / SETLKW): held until unlocked or the
   * description closes (the kernel drops it when a process dies); false if another holds one.
   */
  lockRange(fd: number, start: number, length: number, type: 'read' | 'write' | 'unlock', wait: boolean): boolean;
  /** Would a lock of `type` conflict with another open file description's (F_OFD_GETLK)? */
  rangeLocked(fd: number, start: number, length: number, type: 'read' | 'write'): boolean;
}

let loaded: NativeMemory | undefined;

/** Loads the addon on first use, so pure-JS users (simulated devices) never need it built. */
export function native(): NativeMemory {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => unknown;
    loaded = load(fileURLToPath(new URL('..', import.meta.url))) as NativeMemory;
  }
  return loaded;
}

/**
 * An error of a failed system call in a native addon (@ixy/memory's and @ixy/pci's share one
 * errno mapping), shaped like Node's own fs errors. Decide on these fields, never on `message`
 * (which is for people and may change).
 */
export interface NativeError extends Error {
  /** The errno's name: 'ENOENT', 'EACCES', 'ENOTTY', ... ('EUNKNOWN' for a number Linux does not name). */
  code: string;
  /** The errno, negative as in Node's errors: `util.getSystemErrorName(err.errno)` is `code`. */
  errno: number;
  /** The system call or ioctl that failed: 'open', 'mmap', 'VFIO_GROUP_GET_STATUS', ... */
  syscall: string;
  /** The file it was called on, when there is one. */
  path?: string;
}

/** Is `err` a NativeError (or a Node fs error, which has the same fields)? */
export function isNativeError(err: unknown): err is NativeError {
  const e = err as Partial<NativeError> | null;
  return (
    err instanceof Error && typeof e?.code === 'string' && typeof e.errno === 'number' && typeof e.syscall === 'string'
  );
}
