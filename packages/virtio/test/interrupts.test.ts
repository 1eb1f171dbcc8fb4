// The receive queue's interrupt (MSI-X vector 0 into an eventfd) against a model of a modern
// virtio-net device (test/fake-modern-virtio-net.ts) whose VFIO-like access signals real
// eventfds: vector mapping at set-up (§4.1.5.1.2), notification suppression while polling and
// the arm/disarm protocol (§2.7.7), the fallbacks (legacy, no VFIO, a refused vector, a failing
// VFIO call) and the clean-up. The real device is tested in the guest (guest-vfio.test.ts).
import { readdirSync } from 'node:fs';
import { PacketBatch, type IxyError } from '@ixy/core';
import { INDEX_MASK, Mempool, SimulatedMemory, waitForWakeups } from '@ixy/memory';
import { afterEach, describe, expect, it } from 'vitest';
import { hasMsix, openVirtio, type VirtioNetDevice, type VirtioOptions } from '../src/index.js';
import { FakeAccess, FakeLegacyVirtioNet } from './fake-legacy-virtio-net.js';
import { FakeModernAccess, FakeModernVirtioNet, FakeVfioModernAccess } from './fake-modern-virtio-net.js';

const NO_VECTOR = 0xffff;
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});
const openFds = (): number => readdirSync('/proc/self/fd').length;

function open(access: FakeModernAccess | FakeAccess, options: VirtioOptions = {}): VirtioNetDevice {
  const dev = openVirtio(access, options);
  cleanup.push(() => dev.close());
  return dev;
}

/** A modern model opened as through VFIO, and a frame source cabled to it. */
function vfioPort(configure?: (model: FakeModernVirtioNet, access: FakeVfioModernAccess) => void) {
  const mem = new SimulatedMemory();
  const model = new FakeModernVirtioNet(mem);
  const access = new FakeVfioModernAccess(model, mem, '0000:00:10.0');
  configure?.(model, access);
  const dev = open(access);
  const frame = (n = 1): void => {
    for (let i = 0; i < n; i++) model.deliver(Uint8Array.of(...model.mac, 2, 0, 0, 0, 0, 1, 0x88, 0xb5, i, 0, 0, 0));
  };
  const batch = new PacketBatch(32);
  const receive = (): number => {
    const n = dev.rxBatch(0, batch);
    Mempool.freeBatch(batch);
    return n;
  };
  return { mem, model, access, dev, frame, receive };
}

describe('the modern model without interrupts (as through sysfs)', () => {
  it('opens and moves frames both ways with 12-byte headers; rxWakeup is null, and says why', () => {
    const mem = new SimulatedMemory();
    const [ma, mb] = [new FakeModernVirtioNet(mem), new FakeModernVirtioNet(mem)];
    mb.mac = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x57);
    ma.peer = mb;
    mb.peer = ma;
    const a = open(new FakeModernAccess(ma, mem, 'fake:a'));
    const b = open(new FakeModernAccess(mb, mem, 'fake:b'), { ringSize: 64 });
    expect([a.interfaceKind, a.hdrLen, b.queueSizes.rx]).toEqual(['modern', 12, 64]);
    expect(ma.statusHistory).toEqual([0, 1, 3, 11, 15]); // reset, ACK, DRIVER, FEATURES_OK, DRIVER_OK
    expect(ma.driverFeaturesHi).toBe(1); // VERSION_1
    expect(ma.driverFeatures & (1 << 29)).toBe(0); // no EVENT_IDX: the avail flags suppress interrupts
    expect(a.rxWakeup(0)).toBeNull();
    expect(a.rxInterrupt).toBe('none');
    expect(a.interruptNote).toMatch(/no interrupts without VFIO: bind the device to vfio-pci/);
    expect(ma.vectorWrites).toEqual([]); // nothing mapped: every vector stays NO_VECTOR
    expect(ma.modern.map((q) => q.vector)).toEqual([NO_VECTOR, NO_VECTOR, NO_VECTOR]);

    const pool = new Mempool({ allocator: mem, entries: 64 });
    cleanup.push(() => pool.close());
    const out = new PacketBatch(8);
    pool.allocBatch(out, 8);
    for (let i = 0; i < 8; i++) {
      const at = pool.dataOffset(out.handles[i]);
      pool.bytes.set(b.macAddress(), at);
      pool.bytes[at + 20] = i;
      pool.length[out.handles[i] & INDEX_MASK] = 60 + i;
    }
    expect(a.txBatch(0, out)).toBe(8);
    const got = new PacketBatch(32);
    expect(b.rxBatch(0, got)).toBe(8);
    expect(Array.from(got.handles.subarray(0, 8), (h) => b.rxPool(0).length[h & INDEX_MASK])).toEqual([
      60, 61, 62, 63, 64, 65, 66, 67,
    ]);
    Mempool.freeBatch(got);
  });

  it('a legacy device has no wake-up either', () => {
    const mem = new SimulatedMemory();
    const dev = open(new FakeAccess(new FakeLegacyVirtioNet(mem), mem));
    expect(dev.rxWakeup(0)).toBeNull();
    expect(dev.interruptNote).toMatch(/legacy virtio: no interrupts/);
  });
});

describe('the receive interrupt through VFIO (MSI-X into an eventfd)', () => {
  it('maps vector 0 to the receive queue before enabling it, and nothing else', () => {
    const { model, access, dev } = vfioPort();
    expect(hasMsix(access)).toBe(true);
    expect(access.msixCalls).toEqual(['enable 1']);
    expect(model.vectorWrites).toEqual([[0, 0]]);
    expect(model.modern.map((q) => q.vector)).toEqual([0, NO_VECTOR, NO_VECTOR]);
    expect(model.configVector).toBe(NO_VECTOR);
    expect(dev.rxInterrupt).toBe('msix');
    const w = dev.rxWakeup(0)!;
    expect(w).not.toBeNull();
    expect(dev.rxWakeup(0)).toBe(w); // the same object every time
    expect(w.fds).toEqual(access.eventfds);
    expect(w.futexes).toEqual([]);
    expect(() => dev.rxWakeup(1)).toThrow(/no rx queue 1/);
  });

  it('raises no interrupt while the driver polls (notifications suppressed)', () => {
    const { model, dev, frame, receive } = vfioPort();
    expect(model.availFlags(0)).toBe(1); // VIRTQ_AVAIL_F_NO_INTERRUPT from the start
    frame(40);
    expect(receive() + receive()).toBe(40);
    expect(model.interrupts).toEqual([0, 0, 0, 0]);
    expect(waitForWakeups([dev.rxWakeup(0)!], 0)).toBe(false); // the eventfd was never signalled
  });

  it('armed: the next frame raises the vector and wakes the sleeper; disarmed: polling again, no interrupts', () => {
    const { model, dev, frame, receive } = vfioPort();
    const w = dev.rxWakeup(0)!;
    expect(w.arm()).toBe(true);
    expect(model.availFlags(0)).toBe(0);
    expect(waitForWakeups([w], 20)).toBe(false); // nothing arrived: the sleep times out
    frame();
    expect(model.interrupts[0]).toBe(1);
    expect(waitForWakeups([w], 2000)).toBe(true);
    w.disarm();
    expect(model.availFlags(0)).toBe(1);
    expect(receive()).toBe(1);
    frame(3); // while polling
    expect(model.interrupts[0]).toBe(1);
    expect(receive()).toBe(3);
    expect(waitForWakeups([w], 0)).toBe(false); // the wait read (reset) the eventfd
  });

  it('does not sleep when a frame arrived before arming: arm returns false and suppresses again', () => {
    const { model, dev, frame, receive } = vfioPort();
    const w = dev.rxWakeup(0)!;
    frame(); // added while notifications were off: no interrupt will come for it
    expect(model.interrupts[0]).toBe(0);
    expect(w.arm()).toBe(false);
    expect(model.availFlags(0)).toBe(1);
    expect(receive()).toBe(1);
    expect(w.arm()).toBe(true); // now empty
    w.disarm();
  });

  it('sees a frame left behind by a full batch when arming', () => {
    const { dev, frame } = vfioPort();
    frame(40);
    const small = new PacketBatch(32);
    expect(dev.rxBatch(0, small)).toBe(32);
    Mempool.freeBatch(small);
    expect(dev.rxWakeup(0)!.arm()).toBe(false);
  });

  it('falls back to polling when the device refuses the vector (read back NO_VECTOR), and frees the eventfd', () => {
    const { model, access, dev } = vfioPort((m) => {
      m.msixTableSize = 0;
    });
    expect(model.vectorWrites).toEqual([[0, 0]]);
    expect(model.modern[0].vector).toBe(NO_VECTOR);
    expect(dev.rxWakeup(0)).toBeNull();
    expect(dev.interruptNote).toMatch(/refused MSI-X vector 0 for the receive queue \(read back 0xffff\)/);
    expect(access.msixCalls).toEqual(['enable 1', 'disable']);
    expect(access.eventfds).toEqual([]);
  });

  it('falls back to polling when VFIO cannot bind the vector, and says why', () => {
    const { model, dev } = vfioPort((_m, a) => {
      a.failMsix = true;
    });
    expect(dev.rxWakeup(0)).toBeNull();
    expect(dev.interruptNote).toMatch(/MSI-X through VFIO failed \(.*VFIO_DEVICE_SET_IRQS failed\)/);
    expect(model.vectorWrites).toEqual([]);
  });

  it('close releases the vector and its eventfd; a stale wake-up only says "poll"', () => {
    const before = openFds();
    const mem = new SimulatedMemory();
    const model = new FakeModernVirtioNet(mem);
    const access = new FakeVfioModernAccess(model, mem);
    const dev = openVirtio(access);
    expect(openFds()).toBe(before + 1);
    const w = dev.rxWakeup(0)!;
    dev.close();
    expect(access.msixCalls).toEqual(['enable 1', 'disable']);
    expect(access.released).toBe(true);
    expect(openFds()).toBe(before);
    expect(w.arm()).toBe(false);
    w.disarm();
  });

  it('a set-up failing after the vector was bound releases it too', () => {
    const before = openFds();
    const mem = new SimulatedMemory();
    const model = new FakeModernVirtioNet(mem);
    model.failDriverOk = true;
    const access = new FakeVfioModernAccess(model, mem);
    let err: IxyError | undefined;
    try {
      openVirtio(access);
    } catch (e) {
      err = e as IxyError;
    }
    expect(err?.code).toBe('EDEVICE');
    expect(access.msixCalls).toEqual(['enable 1', 'disable']);
    expect(openFds()).toBe(before);
  });
});
