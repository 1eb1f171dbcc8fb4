// By hand in the guest (not a test): a side-by-side of drivers on QEMU's models, one process,
// a wired pair, TX unpaced with RX interleaved, 128-byte frames; prints frames/s. Under TCG
// the numbers measure QEMU more than the driver: compare side by side only.
// `node loopback-rate.mjs <txAddr> <rxAddr> <frames>` from packages/e1000e; loads e1000e and
// (by path) virtio.
import { PacketBatch, deviceDma, openDevice } from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import '@ixy/pci'; // the PCI address resolver
import '@ixy/e1000e';
await import(new URL('../../../virtio/dist/index.js', import.meta.url).href);

const [txAddr, rxAddr, frames] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const tx = openDevice(txAddr);
const rx = openDevice(rxAddr);
const pool = new Mempool({ allocator: deviceDma(tx), entries: 4096 });
const out = new PacketBatch(32);
const got = new PacketBatch(64);
let sent = 0;
let received = 0;
let idle = 0;
const start = performance.now();
while (received < frames && idle < 2_000_000) {
  if (sent < frames) {
    out.clear();
    for (let i = 0; i < 32 && sent + out.length < frames; i++) {
      const h = pool.alloc();
      if (h < 0) break;
      const off = pool.dataOffset(h);
      pool.bytes.fill(0x55, off, off + 128);
      pool.length[h & INDEX_MASK] = 128;
      out.push(h);
    }
    const n = tx.txBatch(0, out);
    sent += n;
    Mempool.freeBatch(out, n);
  }
  const k = rx.rxBatch(0, got);
  received += k;
  Mempool.freeBatch(got);
  idle = k === 0 ? idle + 1 : 0;
}
const seconds = (performance.now() - start) / 1000;
console.log(
  `${tx.driverName}: sent ${sent}, received ${received} in ${seconds.toFixed(2)} s: ${(received / seconds / 1000).toFixed(1)} kpps`,
);
tx.close();
rx.close();
