// The VFIO addon's errors carry Node's fs error fields from the errno mapping it shares with
// @ixy/memory's addon, vfio.ts decides on those fields (never on message text), and no failure
// leaves a descriptor open. Only fake paths and descriptors of this test (temporary files,
// /dev/null) are used: the host's VFIO groups and devices are never opened. The real devices
// are tested in the QEMU guest (packages/virtio/test/guest-vfio.test.ts).
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { IxyError, PermissionError } from '@ixy/core';
import { isNativeError, type NativeError } from '@ixy/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeVfio } from '../src/native.js';
import { openVfioDevice, vfioError, type NativeDeviceOpen } from '../src/vfio.js';

const dir = mkdtempSync(join(tmpdir(), 'ixy-vfio-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openFds = (): number => readdirSync('/proc/self/fd').length;

function thrown(fn: () => unknown): NativeError & IxyError {
  try {
    fn();
  } catch (err) {
    return err as NativeError & IxyError;
  }
  throw new Error('expected a throw');
}

/** A plain file standing in for a container or a group: every VFIO ioctl on it fails with ENOTTY. */
function fakeFd(): number {
  const path = join(dir, 'not-vfio');
  writeFileSync(path, '');
  return openSync(path, 'r+');
}

describe('errors of the VFIO addon', () => {
  it('name the errno, the call and the path as Node fs errors do', () => {
    const container = fakeFd();
    try {
      const path = join(dir, 'no-such-group');
      const e = thrown(() => nativeVfio().addGroup(container, path, true));
      expect(isNativeError(e)).toBe(true);
      expect(e).toMatchObject({ code: 'ENOENT', errno: -constants.errno.ENOENT, syscall: 'open', path });
      expect(getSystemErrorName(e.errno)).toBe('ENOENT');
      expect(e.message).toBe(`open failed: No such file or directory (${path})`);
    } finally {
      closeSync(container);
    }
  });

  it('name every errno with @ixy/memory’s table (ENOTDIR was EIO here)', () => {
    const container = fakeFd();
    try {
      const file = join(dir, 'plain');
      writeFileSync(file, '');
      expect(thrown(() => nativeVfio().addGroup(container, join(file, '7'), true))).toMatchObject({
        code: 'ENOTDIR',
        errno: -constants.errno.ENOTDIR,
        syscall: 'open',
      });
    } finally {
      closeSync(container);
    }
  });

  it('name the ioctl that a descriptor refused', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      expect(thrown(() => nativeVfio().regionInfo(fd, 7))).toMatchObject({
        code: 'ENOTTY',
        syscall: 'VFIO_DEVICE_GET_REGION_INFO',
      });
      expect(thrown(() => nativeVfio().deviceFd(fd, '0000:00:03.0'))).toMatchObject({
        code: 'ENOTTY',
        syscall: 'VFIO_GROUP_GET_DEVICE_FD',
      });
      expect(thrown(() => nativeVfio().unmapDma(fd, 0, 4096))).toMatchObject({
        code: 'ENOTTY',
        syscall: 'VFIO_IOMMU_UNMAP_DMA',
      });
    } finally {
      closeSync(fd);
    }
  });
});

describe('vfioError', () => {
  const failure = (syscall: string, code: 'EBUSY' | 'ENODEV' | 'EACCES' | 'ENOENT' | 'EINVAL', message: string) =>
    Object.assign(new Error(message), { code, errno: -constants.errno[code], syscall });

  it('decides on the fields: a missing type-1 IOMMU by the ioctl that found it', () => {
    const e = thrown(() =>
      vfioError(failure('VFIO_CHECK_EXTENSION', 'ENODEV', 'VFIO_CHECK_EXTENSION failed: No such device'), 'x'),
    );
    expect(e).toMatchObject({ code: 'ENOVFIO', message: 'x: the kernel offers no type-1 IOMMU backend' });
    expect(e.hint).toMatch(/vfio_iommu_type1/);
    // the words in a message decide nothing
    const other = thrown(() => vfioError(failure('open', 'ENODEV', 'open failed: TYPE1 TYPE1'), 'x'));
    expect(other).toMatchObject({ code: 'ENODEV', message: 'x: open failed: TYPE1 TYPE1' });
  });

  it('explains a group that is not viable, or open elsewhere, with what to do', () => {
    const notViable = thrown(() => vfioError(failure('VFIO_GROUP_GET_STATUS', 'EBUSY', 'm'), 'cannot use group 7'));
    expect(notViable).toMatchObject({ code: 'EVFIOGROUP' });
    expect(notViable.hint).toMatch(/bind every device of the group to vfio-pci/);
    const busy = thrown(() => vfioError(failure('open', 'EBUSY', 'm'), 'cannot use group 7'));
    expect(busy).toMatchObject({ code: 'EVFIOGROUP' });
    expect(busy.message).toMatch(/open already/);
  });

  it('keeps permission and missing-module hints, and the errno code otherwise', () => {
    expect(thrown(() => vfioError(failure('open', 'EACCES', 'm'), 'x'))).toBeInstanceOf(PermissionError);
    expect(thrown(() => vfioError(failure('open', 'ENOENT', 'm'), 'x')).hint).toMatch(/modprobe vfio-pci/);
    const plain = thrown(() => vfioError(failure('VFIO_IOMMU_MAP_DMA', 'EINVAL', 'VFIO_IOMMU_MAP_DMA failed'), 'x'));
    expect(plain).toBeInstanceOf(IxyError);
    expect(plain).toMatchObject({ code: 'EINVAL', message: 'x: VFIO_IOMMU_MAP_DMA failed' });
    expect(plain.cause).toMatchObject({ syscall: 'VFIO_IOMMU_MAP_DMA' });
  });

  it('passes errors that are not the addon’s on untouched', () => {
    const bug = new TypeError('expected a file descriptor');
    expect(thrown(() => vfioError(bug, 'x'))).toBe(bug);
  });
});

describe('the VFIO addon on error paths', () => {
  it('leaks no group fd when the group is refused after opening it', () => {
    const container = fakeFd();
    try {
      const group = join(dir, 'fake-group');
      writeFileSync(group, '');
      const before = openFds();
      for (let i = 0; i < 20; i++) {
        expect(thrown(() => nativeVfio().addGroup(container, group, true))).toMatchObject({
          code: 'ENOTTY',
          syscall: 'VFIO_GROUP_GET_STATUS',
          path: group,
        });
      }
      expect(openFds()).toBe(before);
    } finally {
      closeSync(container);
    }
  });

  it('closes the device fd again when its config region cannot be read (it leaked before)', () => {
    // the device fd: /dev/null, on which the real regionInfo ioctl fails with ENOTTY
    const opened: number[] = [];
    const native: NativeDeviceOpen = {
      deviceFd: () => {
        const fd = openSync('/dev/null', 'r');
        opened.push(fd);
        return fd;
      },
      regionInfo: (fd, index) => nativeVfio().regionInfo(fd, index),
    };
    const before = openFds();
    for (let i = 0; i < 20; i++) {
      const e = thrown(() => openVfioDevice(3, '0000:00:03.0', native));
      expect(e).toBeInstanceOf(IxyError);
      expect(e).toMatchObject({ code: 'ENOTTY' });
      expect(e.message).toMatch(/^cannot open 0000:00:03.0 through VFIO: VFIO_DEVICE_GET_REGION_INFO failed/);
      expect(e.cause).toMatchObject({ syscall: 'VFIO_DEVICE_GET_REGION_INFO' });
    }
    expect(opened).toHaveLength(20);
    expect(openFds()).toBe(before);
  });

  it('hands the device fd and its config region over when both succeed', () => {
    const native: NativeDeviceOpen = {
      deviceFd: () => openSync('/dev/null', 'r'),
      regionInfo: () => ({ offset: 0x70000000000, size: 4096, flags: 3 }),
    };
    const before = openFds();
    const { fd, config } = openVfioDevice(3, '0000:00:03.0', native);
    expect(config.size).toBe(4096);
    expect(openFds()).toBe(before + 1);
    closeSync(fd);
  });
});
