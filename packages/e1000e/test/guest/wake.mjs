// In the guest, from packages/e1000e (so '@ixy/e1000e' resolves to this package): the receive
// interrupt of the 82574 through VFIO (MSI-X vector 0 into an eventfd). Opens a wired pair of
// VFIO e1000e ports in this process; for each round it arms the receiver's wake-up, sends
// frames from the other port, sleeps in waitForWakeups (up to 2 s) and records whether the
// sleep ended by the interrupt, then disarms and receives. An idle round with nothing sent
// checks that an armed, quiet port does not wake. Nothing here measures time.
// `node wake.mjs <rxAddr> <txAddr>`; writes wake.json to the share.
import { readFileSync } from 'node:fs';
import { PacketBatch, deviceDma, openDevice } from '@ixy/core';
import { INDEX_MASK, Mempool, waitForWakeups } from '@ixy/memory';
import { writeGuestResult } from '@ixy/qemu-guest/guest';
import '@ixy/pci'; // the PCI address resolver
import '@ixy/e1000e';

const ROUNDS = [1, 1, 8, 1, 32, 1];
const [rxAddr, txAddr] = process.argv.slice(2);

/** Interrupts of the device's VFIO MSI-X vector 0 so far (/proc/interrupts: "vfio-msix[0](addr)"). */
function msixInterrupts(address) {
  let total = 0;
  for (const line of readFileSync('/proc/interrupts', 'utf8').split('\n')) {
    if (!line.includes(`vfio-msix[0](${address})`)) continue;
    for (const field of line.trim().split(/\s+/).slice(1)) {
      if (!/^\d+$/.test(field)) break;
      total += Number(field);
    }
  }
  return total;
}

const result = { driver: '', wakeup: false, idle: null, rounds: [], interrupts: 0, sent: 0, received: 0, bad: 0 };
try {
  const rx = openDevice(rxAddr);
  const tx = openDevice(txAddr);
  result.driver = `${rx.driverName}/${tx.driverName}`;
  const w = rx.rxWakeup(0);
  result.wakeup = w !== null;
  if (w === null) throw new Error('rxWakeup returned null through VFIO');
  const pool = new Mempool({ allocator: deviceDma(tx), entries: 256 });
  const out = new PacketBatch(32);
  const got = new PacketBatch(64);
  let seq = 0;
  const receive = (want) => {
    let n = 0;
    for (let tries = 0; n < want && tries < 2000; tries++) {
      const k = rx.rxBatch(0, got);
      for (let i = 0; i < k; i++) {
        const h = got.handles[i];
        const p = Mempool.of(h);
        const off = p.dataOffset(h);
        if (p.length[h & INDEX_MASK] !== 64 || p.bytes[off + 12] !== 0x88 || p.bytes[off + 13] !== 0xb5) result.bad++;
      }
      n += k;
      Mempool.freeBatch(got);
      if (k === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
    return n;
  };
  // a quiet port: armed, nothing sent, the sleep times out
  const armedIdle = w.arm();
  const wokeIdle = armedIdle ? waitForWakeups([w], 300) : true;
  w.disarm();
  result.idle = { armed: armedIdle, woken: wokeIdle };
  const before = msixInterrupts(rxAddr);
  for (const frames of ROUNDS) {
    const armed = w.arm();
    out.clear();
    for (let i = 0; i < frames; i++) {
      const h = pool.allocOrThrow();
      const off = pool.dataOffset(h);
      pool.bytes.fill(0, off, off + 64);
      pool.bytes.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5], off);
      pool.bytes[off + 14] = seq++ & 0xff;
      pool.length[h & INDEX_MASK] = 64;
      out.push(h);
    }
    while (out.length > 0) out.shift(tx.txBatch(0, out));
    result.sent += frames;
    const woken = armed ? waitForWakeups([w], 2000) : false;
    w.disarm();
    const received = receive(frames);
    result.received += received;
    result.rounds.push({ frames, armed, woken, received });
  }
  result.interrupts = msixInterrupts(rxAddr) - before;
  rx.close();
  tx.close();
  pool.close();
} catch (err) {
  result.error = { message: String(err?.message ?? err), stack: err?.stack };
}
writeGuestResult('wake', result);
console.log(JSON.stringify(result));
