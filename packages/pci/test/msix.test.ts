// MSI-X through VFIO without a VFIO device: the addon's eventfds are real (a write makes one
// readable and wakes waitForWakeups, as an interrupt does), the ioctls are refused on a fd that
// is no VFIO device, and VfioMsix's logic runs against injected native calls (fd leaks on
// every error path checked through /proc/self/fd). The real device is tested in the QEMU guest
// (packages/virtio/test/guest-vfio.test.ts).
import { closeSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { IxyError } from '@ixy/core';
import { waitForWakeups } from '@ixy/memory';
import { describe, expect, it } from 'vitest';
import { VFIO_PCI_MSIX_IRQ_INDEX, VfioMsix, nativeVfio, type NativeIrqs } from '../src/index.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

const errnos = { EINVAL: constants.errno.EINVAL, EMFILE: constants.errno.EMFILE, ENODEV: constants.errno.ENODEV };

/** An error as the addon throws it (fields from native/ixy-native.h of @ixy/memory). */
function nativeFailure(syscall: string, code: keyof typeof errnos): Error {
  const messages = { EINVAL: 'Invalid argument', EMFILE: 'Too many open files', ENODEV: 'No such device' };
  return Object.assign(new Error(`${syscall} failed: ${messages[code]}`), { code, errno: -errnos[code], syscall });
}

function signal(fd: number): void {
  const one = Buffer.alloc(8);
  one.writeBigUInt64LE(1n);
  writeSync(fd, one);
}

describe('eventfds of the addon', () => {
  it('are non-blocking: empty reads fail with EAGAIN instead of sleeping', () => {
    const fd = nativeVfio().eventfd();
    try {
      expect(() => readSync(fd, Buffer.alloc(8))).toThrow(/EAGAIN/);
      signal(fd);
      signal(fd);
      const got = Buffer.alloc(8);
      expect(readSync(fd, got)).toBe(8);
      expect(got.readBigUInt64LE()).toBe(2n); // the count of signals, reset by the read
      expect(() => readSync(fd, Buffer.alloc(8))).toThrow(/EAGAIN/);
    } finally {
      closeSync(fd);
    }
  });

  it('wake waitForWakeups when signalled (and it resets them), time out otherwise', () => {
    const fd = nativeVfio().eventfd();
    try {
      const wakeup = { arm: () => true, disarm: () => {}, fds: [fd], futexes: [] };
      expect(waitForWakeups([wakeup], 20)).toBe(false);
      signal(fd);
      expect(waitForWakeups([wakeup], 2000)).toBe(true);
      expect(() => readSync(fd, Buffer.alloc(8))).toThrow(/EAGAIN/); // read (reset) by the wait
    } finally {
      closeSync(fd);
    }
  });

  it('are refused as VFIO devices: the IRQ ioctls fail with the errno, not a crash', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      expect(() => nativeVfio().irqInfo(fd, VFIO_PCI_MSIX_IRQ_INDEX)).toThrow(
        expect.objectContaining({ code: 'ENOTTY', syscall: 'VFIO_DEVICE_GET_IRQ_INFO' }),
      );
      expect(() => nativeVfio().setIrqEventfds(fd, VFIO_PCI_MSIX_IRQ_INDEX, 0, Int32Array.of(-1))).toThrow(
        expect.objectContaining({ code: 'ENOTTY', syscall: 'VFIO_DEVICE_SET_IRQS' }),
      );
      expect(() => nativeVfio().disableIrqs(fd, VFIO_PCI_MSIX_IRQ_INDEX)).toThrow(
        expect.objectContaining({ code: 'ENOTTY' }),
      );
      expect(() => nativeVfio().setIrqEventfds(fd, 2, 0, new Int32Array(0))).toThrow(RangeError);
      expect(() => nativeVfio().setIrqEventfds(fd, 2, 0, [1] as unknown as Int32Array)).toThrow(TypeError);
    } finally {
      closeSync(fd);
    }
  });
});

/** Native IRQ calls of a device with `count` MSI-X vectors; `fail` makes one call throw. */
function fakeIrqs(count: number, fail?: 'irqInfo' | 'eventfd' | 'setIrqEventfds' | 'disableIrqs', flags = 1) {
  const calls: string[] = [];
  let eventfds = 0;
  const native: NativeIrqs = {
    irqInfo(_device, index) {
      calls.push(`irqInfo ${index}`);
      if (fail === 'irqInfo') throw nativeFailure('VFIO_DEVICE_GET_IRQ_INFO', 'EINVAL');
      return { count, flags };
    },
    eventfd() {
      if (fail === 'eventfd' && ++eventfds % 2 === 0) throw nativeFailure('eventfd', 'EMFILE');
      return nativeVfio().eventfd();
    },
    setIrqEventfds(_device, index, start, fds) {
      calls.push(`setIrqEventfds ${index} ${start} ${fds.length}`);
      if (fail === 'setIrqEventfds') throw nativeFailure('VFIO_DEVICE_SET_IRQS', 'EINVAL');
    },
    disableIrqs(_device, index) {
      calls.push(`disableIrqs ${index}`);
      if (fail === 'disableIrqs') throw nativeFailure('VFIO_DEVICE_SET_IRQS', 'ENODEV');
    },
  };
  return { native, calls };
}

describe('VfioMsix', () => {
  it('binds one eventfd per vector, then unbinds them and closes the fds', () => {
    const before = openFds();
    const { native, calls } = fakeIrqs(4);
    const msix = new VfioMsix(99, '0000:00:10.0', native);
    const fds = msix.enable(2);
    expect(fds).toHaveLength(2);
    expect(new Set(fds).size).toBe(2);
    expect(msix.eventfds).toEqual(fds);
    expect(openFds()).toBe(before + 2);
    expect(calls).toEqual(['irqInfo 2', 'setIrqEventfds 2 0 2']);
    expect(() => msix.enable(1)).toThrow(expect.objectContaining({ code: 'EMSIX' }));
    msix.disable();
    msix.disable(); // once only
    expect(calls).toEqual(['irqInfo 2', 'setIrqEventfds 2 0 2', 'disableIrqs 2']);
    expect(msix.eventfds).toEqual([]);
    expect(openFds()).toBe(before);
  });

  it('refuses more vectors than the device has, and devices without MSI-X, with ENOMSIX', () => {
    expect(() => new VfioMsix(99, 'dev', fakeIrqs(2).native).enable(3)).toThrow(
      /dev has 2 MSI-X vectors, 3 were asked for/,
    );
    expect(() => new VfioMsix(99, 'dev', fakeIrqs(0).native).enable(1)).toThrow(/dev has no MSI-X interrupts/);
    expect(() => new VfioMsix(99, 'dev', fakeIrqs(4, undefined, 0).native).enable(1)).toThrow(
      /cannot signal its MSI-X vectors through eventfds/,
    );
    try {
      new VfioMsix(99, 'dev', fakeIrqs(0).native).enable(1);
    } catch (err) {
      expect(err).toBeInstanceOf(IxyError);
      expect((err as IxyError).code).toBe('ENOMSIX');
      expect((err as IxyError).hint).toMatch(/poll/);
    }
    expect(() => new VfioMsix(99, 'dev', fakeIrqs(4).native).enable(0)).toThrow(RangeError);
  });

  it.each(['irqInfo', 'eventfd', 'setIrqEventfds'] as const)(
    'leaks no fd when %s fails, and says what failed',
    (fail) => {
      const before = openFds();
      const msix = new VfioMsix(99, '0000:00:10.0', fakeIrqs(4, fail).native);
      expect(() => msix.enable(3)).toThrow(IxyError);
      expect(() => msix.enable(3)).toThrow(
        /0000:00:10.0: cannot (query its MSI-X interrupts|route MSI-X vectors to eventfds)/,
      );
      expect(msix.eventfds).toEqual([]);
      expect(openFds()).toBe(before);
    },
  );

  it('closes the eventfds even when unbinding fails', () => {
    const before = openFds();
    const msix = new VfioMsix(99, 'dev', fakeIrqs(4, 'disableIrqs').native);
    msix.enable(2);
    expect(() => msix.disable()).toThrow(/No such device/);
    expect(openFds()).toBe(before);
  });
});
