/**
 * Runs inside the QEMU guest (see ../guest-vfio.test.ts), from the built dist: the receive
 * interrupt of modern virtio-net through VFIO (MSI-X vector 0 into an eventfd).
 *
 *   node interrupt-checks.js bind <addr>...         root: bind the NICs to vfio-pci
 *   node interrupt-checks.js wake <rxAddr> <txAddr>  the checks; writes wake.json to the share
 *   node interrupt-checks.js send <txAddr>           (the sender child the checks start)
 *   node interrupt-checks.js cpu <name> <seconds> <pid>...  CPU use of processes; <name>.json
 *
 * `wake` opens the receiving port itself and lets a child process (its own VFIO container)
 * send on the other end of the wire, on command: the receiver arms the wake-up, tells the
 * child to send, and sleeps in waitForWakeups for up to 2 s. The result records whether each
 * sleep ended by a wake-up (not how long it took: the machine may be slow or busy), the frames
 * received afterwards, and the guest kernel's count of the vector's interrupts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { PacketBatch, deviceDma, openDevice, type Wakeup } from '@ixy/core';
import { INDEX_MASK, Mempool, waitForWakeups } from '@ixy/memory';
import { PciBus } from '@ixy/pci';
import { writeGuestResult } from '@ixy/qemu-guest/guest';
import type { VirtioNetDevice } from '@ixy/virtio';
import '@ixy/pci'; // registers the PCI resolver
import '@ixy/virtio';

const ETHERTYPE = 0x88b5;
const FRAME = 64;
/** Frames per wake-up round: one alone, then small bursts. */
const ROUNDS = [1, 1, 8, 1, 32, 1];
/** Frames moved while the receiver polls (notifications suppressed). */
const POLLED = 200;
const SLEEP_MS = 2000;
const trace = (what: string): void => {
  if (process.env.IXY_TRACE) console.error(`[${process.pid} ${(performance.now() / 1000).toFixed(2)}] ${what}`);
};

/** Interrupts of the device's VFIO MSI-X vectors so far (/proc/interrupts: "vfio-msix[0](addr)"). */
function msixInterrupts(address: string): number {
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

function bind(addrs: string[]): void {
  const bus = new PciBus();
  for (const a of addrs) console.log(`${a} bound to vfio-pci, IOMMU group ${bus.bindVfio(a)}`);
}

/** The child: opens the sending port, then sends `send <n>` frames per command line. */
async function sender(address: string): Promise<void> {
  trace('sender: opening');
  const dev = openDevice(address) as VirtioNetDevice;
  trace('sender: opened');
  const pool = new Mempool({ allocator: deviceDma(dev), entries: 256 });
  const batch = new PacketBatch(32);
  let seq = 0;
  console.log(`ready ${dev.address}`);
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.split(' ');
    if (cmd === 'quit') break;
    let left = Number(arg);
    while (left > 0) {
      const n = Math.min(left, batch.capacity);
      pool.allocBatch(batch, n);
      for (let i = 0; i < n; i++) {
        const h = batch.handles[i];
        const at = pool.dataOffset(h);
        pool.bytes.fill(0xff, at, at + 6); // broadcast
        pool.bytes.set(dev.macAddress(), at + 6);
        pool.bytes[at + 12] = ETHERTYPE >> 8;
        pool.bytes[at + 13] = ETHERTYPE & 0xff;
        new DataView(pool.bytes.buffer, pool.bytes.byteOffset + at + 14, 4).setUint32(0, seq++, true);
        pool.length[h & INDEX_MASK] = FRAME;
      }
      while (batch.length > 0) {
        const sent = dev.txBatch(0, batch);
        batch.shift(sent);
        if (batch.length > 0) await sleep(1);
      }
      left -= n;
    }
    console.log(`sent ${arg}`);
  }
  for (let i = 0; i < 100 && dev.txInFlight > 0; i++) {
    dev.reclaimTx();
    await sleep(5);
  }
  dev.close();
  pool.close();
  process.stdin.destroy();
}

interface Round {
  frames: number;
  armed: boolean;
  woken: boolean;
  received: number;
}

async function wake(rxAddr: string, txAddr: string): Promise<void> {
  const result: Record<string, unknown> = { rxAddr, txAddr };
  let child: ChildProcess | undefined;
  trace('receiver: opening');
  const dev = openDevice(rxAddr) as VirtioNetDevice;
  trace(`receiver: opened, ${dev.interruptNote}`);
  try {
    result.interfaceKind = dev.interfaceKind;
    result.rxInterrupt = dev.rxInterrupt;
    result.interruptNote = dev.interruptNote;
    const w: Wakeup | null = dev.rxWakeup(0);
    if (!w) throw new Error(`no wake-up: ${dev.interruptNote}`);
    result.fds = w.fds.length;

    child = spawn(process.execPath, [process.argv[1], 'send', txAddr], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const expectLine = async (prefix: string): Promise<string> => {
      const next = await Promise.race([
        lines.next(),
        sleep(120_000, undefined, { ref: false }).then(() => ({ done: true, value: 'timeout' })),
      ]);
      if (next.done || !String(next.value).startsWith(prefix))
        throw new Error(`the sender said ${String(next.value)}, expected ${prefix}`);
      return String(next.value);
    };
    const command = (line: string): Promise<void> =>
      new Promise((resolve, reject) => child!.stdin!.write(`${line}\n`, (err) => (err ? reject(err) : resolve())));
    await expectLine('ready');
    trace('sender ready');

    const batch = new PacketBatch(32);
    const seen = new Set<number>();
    let duplicates = 0;
    let foreign = 0;
    const pool = dev.rxPool(0);
    /** Polls (yielding to the event loop) until `n` frames arrived or 30 s passed. */
    const receive = async (n: number): Promise<number> => {
      let got = 0;
      const until = Date.now() + 30_000;
      while (got < n && Date.now() < until) {
        const k = dev.rxBatch(0, batch);
        for (let i = 0; i < k; i++) {
          const h = batch.handles[i];
          const at = pool.dataOffset(h);
          if (
            pool.length[h & INDEX_MASK] !== FRAME ||
            pool.bytes[at + 12] !== ETHERTYPE >> 8 ||
            pool.bytes[at + 13] !== (ETHERTYPE & 0xff)
          ) {
            foreign++;
            continue;
          }
          const seq = new DataView(pool.bytes.buffer, pool.bytes.byteOffset + at + 14, 4).getUint32(0, true);
          if (seen.has(seq)) duplicates++;
          seen.add(seq);
          got++;
        }
        Mempool.freeBatch(batch);
        if (k === 0) await sleep(1);
      }
      return got;
    };

    // 1. Polling: notifications are suppressed, so the frames raise no interrupt.
    const irq0 = msixInterrupts(rxAddr);
    await command(`send ${POLLED}`);
    const polled = await receive(POLLED);
    await expectLine('sent');
    const irq1 = msixInterrupts(rxAddr);
    trace('polled');
    result.polled = {
      frames: POLLED,
      received: polled,
      interrupts: irq1 - irq0,
      eventfdSignalled: waitForWakeups([w], 0),
    };

    // 2. Armed with nothing arriving: the sleep times out (no spurious wake-up).
    const armedIdle = w.arm();
    const idleWoken = waitForWakeups([w], 300);
    w.disarm();
    result.idle = { armed: armedIdle, woken: idleWoken };

    // 3. Rounds: arm, have the sender send, sleep; the interrupt ends the sleep.
    const rounds: Round[] = [];
    const irq2 = msixInterrupts(rxAddr);
    for (const frames of ROUNDS) {
      const armed = w.arm();
      await command(`send ${frames}`);
      const woken = armed && waitForWakeups([w], SLEEP_MS);
      w.disarm();
      const received = await receive(frames);
      await expectLine('sent');
      rounds.push({ frames, armed, woken, received });
      trace(`round ${JSON.stringify(rounds.at(-1))}`);
    }
    result.rounds = rounds;
    result.roundInterrupts = msixInterrupts(rxAddr) - irq2;
    result.sent = POLLED + ROUNDS.reduce((a, b) => a + b, 0);
    result.received = seen.size;
    result.duplicates = duplicates;
    result.foreign = foreign;
    const exited = new Promise((resolve) => child!.once('exit', (code) => resolve(code)));
    await command('quit');
    child.stdin!.end();
    result.senderExit = await exited;
    child = undefined;
  } catch (err) {
    result.error = { message: (err as Error).message, stack: (err as Error).stack };
  } finally {
    child?.kill();
    dev.close();
    writeGuestResult('wake', result);
  }
}

/** utime + stime of each pid over `seconds` (USER_HZ = 100 on x86 Linux), as % of one core. */
async function cpu(name: string, seconds: number, pids: number[]): Promise<void> {
  const ticks = (pid: number): number => {
    // fields after the command (which may hold spaces): state is field 3, utime 14, stime 15
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  const t0 = performance.now();
  const before = pids.map(ticks);
  await sleep(seconds * 1000);
  const after = pids.map(ticks);
  const wall = (performance.now() - t0) / 1000;
  const percent = pids.map((_, i) => ((after[i] - before[i]) / 100 / wall) * 100);
  writeGuestResult(name, { pids, seconds: wall, ticks: after.map((t, i) => t - before[i]), percent });
  console.log(`${name}: ${percent.map((p) => `${p.toFixed(1)} %`).join(', ')} of a core over ${wall.toFixed(1)} s`);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'bind') bind(args);
else if (mode === 'send') await sender(args[0]);
else if (mode === 'wake') await wake(args[0], args[1]);
else if (mode === 'cpu') await cpu(args[0], Number(args[1]), args.slice(2).map(Number));
else throw new Error(`unknown mode ${mode}: bind, send, wake or cpu`);
