/**
 * Runs inside the QEMU guest (see ../guest-vfio-errors.test.ts), from the built dist: the
 * VFIO addon's error paths on real groups and devices. Every failure is forced repeatedly and
 * /proc/self/fd counted around it; each error's fields (code, errno, syscall, path) go to
 * vfio-errors.json for the host to check.
 *
 *   node vfio-error-checks.js <addr0> <addr1>   root: binds both to vfio-pci, then the checks
 */
import { closeSync, readdirSync } from 'node:fs';
import { IxyError } from '@ixy/core';
import { isNativeError, native as nativeMemory } from '@ixy/memory';
import { PciBus, VfioContainer, VfioDeviceAccess, nativeVfio } from '@ixy/pci';
import { writeGuestResult } from '@ixy/qemu-guest/guest';

const REPEAT = 10;
const openFds = (): number => readdirSync('/proc/self/fd').length;

interface Failure {
  /** The error's fields, or its message when it has none. */
  fields: Record<string, unknown>;
  /** Descriptors opened and not closed over REPEAT failures. */
  leaked: number;
}

/** Fails `fn` REPEAT times and keeps the fields of the last error and the fd count change. */
function fail(fn: () => unknown): Failure {
  const before = openFds();
  let fields: Record<string, unknown> = { message: 'did not throw' };
  for (let i = 0; i < REPEAT; i++) {
    try {
      fn();
      fields = { message: 'did not throw' };
    } catch (err) {
      const e = err as Error & Record<string, unknown>;
      fields = isNativeError(err)
        ? { code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: e.message }
        : { name: e.name, code: e.code, message: e.message, hint: e.hint };
    }
  }
  return { fields, leaked: openFds() - before };
}

const [addr0, addr1] = process.argv.slice(2);
const result: Record<string, unknown> = {};
try {
  const bus = new PciBus();
  const group0 = bus.bindVfio(addr0);
  bus.bindVfio(addr1);
  const vfio = nativeVfio();
  const start = openFds();

  // a container of our own, holding addr0's group
  const container = vfio.openContainer();
  const group = vfio.addGroup(container, `/dev/vfio/${group0}`, true);
  // VFIO lets one open file hold a group: a second open is refused with EBUSY
  result.groupTwice = fail(() => vfio.addGroup(container, `/dev/vfio/${group0}`, false));
  result.noGroup = fail(() => vfio.addGroup(container, '/dev/vfio/4242', false));
  // an address that is not in the group
  result.foreignDevice = fail(() => vfio.deviceFd(group, '0000:00:1f.7'));
  const device = vfio.deviceFd(group, addr0);
  result.badRegion = fail(() => vfio.regionInfo(device, 99));
  // the first memory BAR (modern virtio-net: BAR 4), mapped at an offset past every region:
  // mmap refuses it (the memory addon on a VFIO fd)
  const bar = [0, 1, 2, 3, 4, 5].find(
    (i) => vfio.regionInfo(device, i).size > 0 && vfio.regionInfo(device, i).flags & 4,
  );
  if (bar === undefined) throw new Error(`${addr0} has no mappable BAR`);
  result.bar = bar;
  result.badMap = fail(() => nativeMemory().mapFd(device, 0x7fff_0000_0000, 4096));
  result.badIrq = fail(() => vfio.setIrqEventfds(device, 9, 0, Int32Array.of(-1)));
  // the public path: the device's group is held by our container, so the process-wide one
  // cannot have it; nothing is left open
  VfioContainer.get(); // opened once for the life of the process: not a leak of the failures
  result.groupHeld = fail(() => new VfioDeviceAccess(bus, addr0));
  closeSync(device);
  closeSync(group);
  closeSync(container);
  result.afterOwnClosed = openFds() - start;

  // opening and releasing a device through the process's container again and again: the
  // container and the group stay open for the life of the process (2 fds), nothing else
  const cycles: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const access = new VfioDeviceAccess(bus, addr1);
    access.registers(bar);
    access.release();
    cycles.push(openFds() - start);
  }
  result.cycles = cycles;
} catch (err) {
  const e = err as Error;
  result.error = { message: e.message, stack: e.stack, code: (err as IxyError).code };
}
writeGuestResult('vfio-errors', result);
console.log('guest checks written: vfio-errors.json');
