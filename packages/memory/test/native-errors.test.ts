// The addon's errors carry Node's fs error fields (code, errno, syscall, path) from the errno
// mapping it shares with @ixy/pci's (native/ixy-native.h), and no failure leaves a file
// descriptor or a mapping behind: each is forced on files of a temporary directory and counted
// through /proc/self/fd and /proc/self/maps.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { HugepagesError, IxyError } from '@ixy/core';
import { allocHugepageBuffer, hugepageCounts } from '../src/hugepages.js';
import { isNativeError, native, type NativeError } from '../src/native.js';
import { mapSharedFile } from '../src/shared-file.js';

const dir = mkdtempSync(join(tmpdir(), 'ixy-native-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openFds = (): number => readdirSync('/proc/self/fd').length;
const mappingsOf = (path: string): number =>
  readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.endsWith(path)).length;

/** What `fn` threw (it must throw). */
function thrown(fn: () => unknown): NativeError {
  try {
    fn();
  } catch (err) {
    return err as NativeError;
  }
  throw new Error('expected a throw');
}

describe('errors of the memory addon', () => {
  it('name the errno, the call and the path as Node fs errors do', () => {
    const path = join(dir, 'missing', 'file');
    const e = thrown(() => native().mapFile(path, 4096, false));
    expect(isNativeError(e)).toBe(true);
    expect(e).toMatchObject({ code: 'ENOENT', errno: -osConstants.errno.ENOENT, syscall: 'open', path });
    expect(getSystemErrorName(e.errno)).toBe(e.code);
    expect(e.message).toBe(`open failed: No such file or directory (${path})`);
  });

  it('name every errno, not a short list (ENOTDIR was EUNKNOWN here and EIO in @ixy/pci)', () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    const e = thrown(() => native().mapFile(join(file, 'below'), 4096, false));
    expect(e).toMatchObject({ code: 'ENOTDIR', errno: -osConstants.errno.ENOTDIR, syscall: 'open' });
  });

  it('give calls on a descriptor no path', () => {
    const e = thrown(() => native().mapFd(-1, 0, 4096));
    expect(e).toMatchObject({ code: 'EBADF', syscall: 'mmap' });
    expect(e.path).toBeUndefined();
    expect(thrown(() => native().lockRange(-1, 0, 1, 'write', false))).toMatchObject({
      code: 'EBADF',
      syscall: 'fcntl',
    });
  });

  it('become IxyErrors with the same code, and the native error as the cause', () => {
    const path = join(dir, 'nope');
    const e = thrown(() => mapSharedFile(path, 0)) as unknown as IxyError;
    expect(e).toBeInstanceOf(IxyError);
    expect(e.code).toBe('ENOENT');
    expect(e.message).toMatch(/^cannot map .*nope: open failed: No such file or directory/);
    expect(e.cause).toMatchObject({ code: 'ENOENT', syscall: 'open', path });
  });
});

describe('the memory addon on error paths', () => {
  it('leaks no fd and no mapping when mapFile fails after opening the file', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const cases: [() => unknown, Partial<NativeError>][] = [
      [() => native().mapFile(empty, 0, false), { code: 'EINVAL', syscall: 'mmap' }], // empty file
      [() => native().mapFile('/dev/null', 4096, false), { code: 'ENODEV', syscall: 'mmap' }],
      [() => native().mapFile('/dev/null', 4096, true), { code: 'EINVAL', syscall: 'ftruncate' }],
      [() => native().mapFile(dir, 4096, false), { code: 'EISDIR', syscall: 'open' }],
    ];
    const before = openFds();
    for (let i = 0; i < 10; i++) {
      for (const [fn, fields] of cases) expect(thrown(fn)).toMatchObject(fields);
    }
    expect(openFds()).toBe(before);
  });

  it('maps no more than the runtime can hand out, and leaves nothing behind when it refuses', () => {
    // Node before 22 caps an ArrayBuffer at 4 GiB: a larger mapping used to free its record twice
    // (Node calls the finalizer of a buffer it refuses to make) and abort the process; with
    // Node 22's cap (2^53 - 1) the addon's own limit (1 TiB) refuses first
    const big = join(dir, 'sparse');
    const limit = bufferConstants.MAX_LENGTH;
    const size = limit < 2 ** 40 ? limit + 4096 : 2 ** 40 + 4096;
    const before = openFds();
    for (let i = 0; i < 3; i++) {
      expect(() => native().mapFile(big, size, true)).toThrow(
        limit < 2 ** 40 ? expect.objectContaining({ code: 'ERR_BUFFER_TOO_LARGE' }) : RangeError,
      );
    }
    expect(openFds()).toBe(before);
    expect(mappingsOf(big)).toBe(0);
  });

  it('leaks no pagemap fd when a page has no physical address yet', () => {
    const file = join(dir, 'untouched');
    const buffer = native().mapFile(file, 8192, true); // not touched: no page present
    try {
      const before = openFds();
      for (let i = 0; i < 10; i++) {
        expect(thrown(() => native().physAddrs(buffer, 4096))).toMatchObject({
          code: 'EFAULT',
          syscall: 'pread',
          path: '/proc/self/pagemap',
        });
      }
      expect(() => native().physAddrs(buffer, 0)).toThrow(RangeError);
      expect(openFds()).toBe(before);
    } finally {
      native().unmap(buffer);
    }
  });

  it('leaks no hugepage fd when the pages are not there', () => {
    // more pages than the kernel has reserved, so this cannot succeed whatever else runs
    const pages = hugepageCounts().total + 1;
    const before = openFds();
    for (let i = 0; i < 5; i++) {
      expect(thrown(() => native().allocHugepages(pages * 2 * 1024 * 1024, ''))).toMatchObject({
        code: 'ENOMEM',
        syscall: 'mmap',
        path: 'memfd',
      });
    }
    expect(openFds()).toBe(before);
    expect(() => allocHugepageBuffer(pages * 2 * 1024 * 1024)).toThrow(HugepagesError);
  });
});
