// Cost of the driver's packet path without a device: a stand-in "device" completes every
// transmitted buffer and fills receive buffers with 60-byte frames directly in the rings
// (typed arrays, no copies), so the time measured is the driver's rxBatch/txBatch and the
// mempool transfers. Run: pnpm --filter @ixy/virtio bench (after pnpm build).
import { PacketBatch } from '@ixy/core';
import { Mempool, SimulatedMemory } from '@ixy/memory';
import { openVirtio, type Virtqueue, type VirtioNetDevice } from '@ixy/virtio';
import { FakeAccess, FakeLegacyVirtioNet } from '../test/fake-legacy-virtio-net.js';

interface Rings {
  rx: Virtqueue;
  tx: Virtqueue;
}

/** The device's side, as fast as typed arrays go: complete all TX, fill up to `n` RX. */
function deviceStep(
  vq: Rings,
  state: { txAvail: number; rxAvail: number; txUsed: number; rxUsed: number },
  n: number,
  hdr: number,
): void {
  const { tx, rx } = vq;
  const txIdx = tx.avail[1];
  while (state.txAvail !== txIdx) {
    const id = tx.avail[2 + (state.txAvail & tx.mask)];
    const slot = state.txUsed & tx.mask;
    tx.used32[1 + 2 * slot] = id;
    tx.used32[2 + 2 * slot] = 0;
    state.txAvail = (state.txAvail + 1) & 0xffff;
    state.txUsed = (state.txUsed + 1) & 0xffff;
  }
  Atomics.store(tx.usedIdx16, 1, state.txUsed);
  const rxIdx = rx.avail[1];
  for (let k = 0; k < n && state.rxAvail !== rxIdx; k++) {
    const id = rx.avail[2 + (state.rxAvail & rx.mask)];
    const slot = state.rxUsed & rx.mask;
    rx.used32[1 + 2 * slot] = id;
    rx.used32[2 + 2 * slot] = hdr + 60;
    state.rxAvail = (state.rxAvail + 1) & 0xffff;
    state.rxUsed = (state.rxUsed + 1) & 0xffff;
  }
  Atomics.store(rx.usedIdx16, 1, state.rxUsed);
}

function run(batchSize: number, safe: boolean, seconds: number): number {
  const mem = new SimulatedMemory();
  const model = new FakeLegacyVirtioNet(mem);
  model.processOnNotify[0] = model.processOnNotify[1] = false;
  const dev: VirtioNetDevice = openVirtio(new FakeAccess(model, mem), { safe });
  const rings = dev as unknown as Rings; // the bench reaches into the rings, as a device would
  // a busy device: no notifications wanted
  rings.tx.usedIdx16[0] = 1;
  rings.rx.usedIdx16[0] = 1;
  const pool = new Mempool({ allocator: mem, entries: 4096, safe });
  const out = new PacketBatch(batchSize);
  const inb = new PacketBatch(batchSize);
  const all = new PacketBatch(4096);
  pool.allocBatch(all);
  for (let i = 0; i < all.length; i++) pool.length[all.handles[i] & 0xfffff] = 60;
  Mempool.freeBatch(all);
  const state = { txAvail: 0, rxAvail: 0, txUsed: 0, rxUsed: 0 };
  let packets = 0;
  const end = performance.now() + seconds * 1000;
  // CPU time, not wall time: other processes on the machine do not count.
  const cpu = process.cpuUsage();
  for (let loop = 0; ; loop++) {
    if ((loop & 1023) === 0 && performance.now() > end) break;
    pool.allocBatch(out);
    const sent = dev.txBatch(0, out);
    Mempool.freeBatch(out, sent);
    deviceStep(rings, state, batchSize, dev.hdrLen);
    const got = dev.rxBatch(0, inb);
    Mempool.freeBatch(inb);
    packets += sent + got;
  }
  const used = process.cpuUsage(cpu);
  const ns = (used.user + used.system) * 1000;
  dev.close();
  pool.close();
  return ns / packets;
}

for (const safe of [false, true]) {
  for (const batch of [32, 1]) {
    run(batch, safe, 0.5); // warm-up
    const ns = run(batch, safe, 2);
    console.log(`${safe ? 'safe' : 'fast'} mode, batch ${batch}: ${ns.toFixed(1)} ns per packet (rx or tx)`);
  }
}
