#!/usr/bin/env node
// ixy-fwd: forwards packets between two ports in both directions (the classic ixy app).
import { Worker } from 'node:worker_threads';
import { Command } from 'commander';
import { IxyError, PacketBatch, openDevice, type IxyDevice, type OpenOptions } from '@ixy/core';
import { Mempool } from '@ixy/memory';
import {
  StatsReporter,
  addCableGroupOption,
  drainTx,
  forwardBatch,
  forwardHeld,
  addPollModeOptions,
  cableGroupOptions,
  hybridOptions,
  intOption,
  pollLoop,
  runMain,
  rxWakeups,
  durationOption,
  type PollModeOptions,
  tunePacketLoopV8,
  type TxHandover,
} from '@ixy/cli';
import { loadDrivers } from '@ixy/drivers';

import type { TrafficSummary, TrafficWorkerData } from './traffic-worker.js';

const program = addCableGroupOption(addPollModeOptions(new Command('ixy-fwd')))
  .description(
    'Forwards packets between two ports in both directions, batch by batch, touching one byte of ' +
      "each packet (as ixy-fwd does), and prints each port's rates once a second.\n\n" +
      'Without ports it runs a self-contained demo on simulated 82599 ports: a traffic source in a ' +
      'worker thread sends numbered frames into both ports and checks every frame forwarded back ' +
      '(lossless: flow control holds the source back to the rate fwd forwards at).',
  )
  .argument('[dev1]', 'first port: a PCI address (0000:03:00.0, 03:00.0) or a simulated port (sim:<cable>:<0|1>)')
  .argument('[dev2]', 'second port, same forms')
  .option('-b, --batch <n>', 'packets per RX/TX batch', intOption(1, 4096), 32)
  .addOption(durationOption())
  .option('--ring-size <n>', 'descriptors per RX/TX ring (driver default when left out)', intOption(32, 65536))
  .option('--safe', 'safe mode: bounds-checked registers and packet ownership checks (slower)')
  .option('--unbind', 'take PCI devices from the kernel driver bound to them (never the card this machine needs)')
  .option('--driver <package...>', 'extra driver packages to load (they register themselves)')
  .option('--frame-size <bytes>', 'demo only: size of the generated frames', intOption(60, 1514), 60)
  .option(
    '--lossless',
    'pause instead of dropping: flow control on both ports (a full RX ring holds frames on the link and pauses the sender) and packets a full TX ring did not take wait for it (receiving on the other port pauses meanwhile)',
  )
  .addHelpText(
    'after',
    `
Output, per port and second:  [<port>] RX: <n> Mbit/s <n> Mpps | TX: <n> Mbit/s <n> Mpps
(Mbit/s counts the wire: 20 bytes of preamble and gap per frame), followed by
"| dropped RX: <n> TX: <n>" when frames were dropped: RX by the port (no free descriptor),
TX by ixy-fwd (the port's TX ring was full). Totals at the end.

Idle, ixy-fwd sleeps until a packet arrives (simulated ports and VFIO interrupts wake it; a
card without interrupts is polled after sleeps of up to 1 ms); --busy-poll never sleeps.

Examples:
  ixy-fwd                                   simulated demo, no root needed
  ixy-fwd 0000:03:00.0 0000:03:00.1         two ports of an 82599 (as root, hugepages reserved)
  ixy-fwd sim:left:0 sim:right:0            simulated ports; other processes use the :1 ends

Real hardware, as root: reserve hugepages (ixy-setup hugepages 512), then either let ixy-fwd
take the ports from their kernel driver with --unbind (never a port this machine needs), or
bind them to vfio-pci first (ixy-setup vfio <addr> --user <you>) and run without root.`,
  );

interface FwdOptions extends PollModeOptions {
  cableGroup?: number;
  lossless?: boolean;
  unbind?: boolean;
  batch: number;
  duration: number;
  ringSize?: number;
  safe?: boolean;
  driver?: string[];
  frameSize: number;
}

async function main(): Promise<number> {
  program.exitOverride();
  program.parse();
  const opts = program.opts<FwdOptions>();
  tunePacketLoopV8(); // V8's inlining budget for the packet loop (see @ixy/cli)
  const ports = program.args;
  if (ports.length === 1) {
    throw new IxyError('EUSAGE', 'ixy-fwd needs two ports (or none, for the simulated demo)', "see 'ixy-fwd --help'");
  }
  await loadDrivers(opts.driver);
  const demo = ports.length === 0;
  // the demo's source sends as fast as it can, faster than fwd forwards: without flow control
  // it would mostly show drops, so the demo runs lossless (every frame comes back, checked)
  if (demo) opts.lossless = true;
  const cables = [`fwd-${process.pid}-a`, `fwd-${process.pid}-b`];
  const names = demo ? cables.map((c) => `sim:${c}:0`) : ports;
  const open: OpenOptions = {
    safe: opts.safe,
    unbind: opts.unbind,
    ...(opts.ringSize ? { ringSize: opts.ringSize } : {}),
    ...(opts.lossless ? { flowControl: true } : {}),
    ...cableGroupOptions(opts),
  };

  const devs: IxyDevice[] = [];
  try {
    // the ports share one pool, as DPDK applications' do, so that each sends packets of the
    // pool it receives into, which the driver's TX takes faster (ixgbe: the step at batch 1
    // ×0.89, at 32 ×0.92). The first port's pool is made for both (twice the drivers' default
    // for the ring size); the second receives into it where its driver can (OpenOptions.rxPool)
    const ring = opts.ringSize ?? 512;
    devs.push(openDevice(names[0], { poolSize: 2 * Math.max(4096, 2 * ring), ...open }));
    const shared = devs[0].rxPool?.(0);
    devs.push(openDevice(names[1], shared === undefined ? open : { ...open, rxPool: shared }));
    if (devs[0].address === devs[1].address)
      throw new IxyError('EUSAGE', `both ports are ${devs[0].address}: give two different ports`);

    let worker: Worker | undefined;
    let workerError: Error | undefined;
    let summary: Promise<TrafficSummary> | undefined;
    const stop = new SharedArrayBuffer(4);
    if (demo) {
      const data: TrafficWorkerData = {
        ports: [`sim:${cables[0]}:1`, `sim:${cables[1]}:1`],
        stop,
        size: opts.frameSize,
        batch: opts.batch,
      };
      worker = new Worker(new URL('./traffic-worker.js', import.meta.url), { workerData: data });
      // a failing traffic source stops the demo and is reported (no unhandled rejection)
      summary = new Promise<TrafficSummary>((resolve, reject) => {
        worker!.once('message', resolve);
        worker!.once('error', reject);
        worker!.once('exit', (code) => reject(new Error(`it exited with code ${code} before reporting`)));
      }).catch((err: unknown) => {
        workerError = err instanceof Error ? err : new Error(String(err));
        throw workerError;
      });
      summary.catch(() => {}); // observed here; reported after the loop
      console.log(
        `ixy-fwd: simulated demo: forwarding between ${names[0]} and ${names[1]}; traffic from a worker thread (Ctrl-C stops)`,
      );
    } else {
      console.log(`ixy-fwd: forwarding between ${devs[0].address} and ${devs[1].address} (Ctrl-C stops)`);
    }

    const reporter = new StatsReporter(devs);
    const [a, b] = devs;
    const [statsA, statsB] = [reporter.stats(0), reporter.stats(1)];
    const batch = new PacketBatch(opts.batch);
    const held = [new PacketBatch(opts.batch), new PacketBatch(opts.batch)];
    // what each port's TX queue took (for the drain at the stop), and what waits for it
    const toA: TxHandover = { handed: 0, held: held[1] };
    const toB: TxHandover = { handed: 0, held: held[0] };
    const step = opts.lossless
      ? (): number => forwardHeld(a, b, held[0], toB) + forwardHeld(b, a, held[1], toA)
      : (): number => forwardBatch(a, b, batch, statsB, toB) + forwardBatch(b, a, batch, statsA, toA);
    await pollLoop(step, {
      durationSeconds: opts.duration,
      onInterval: (ns) => reporter.interval(ns),
      stopWhen: () => workerError !== undefined,
      wakeups: rxWakeups(devs),
      ...hybridOptions(opts),
    });
    // Closing a port discards what its TX ring still holds: first let the rings drain (what
    // waits for a full ring goes out first); what never left is dropped, and counted
    const handovers = [toA, toB];
    const stuck = await drainTx('ixy-fwd', reporter, handovers);
    stuck.forEach((n, i) => {
      if (n === 0) return;
      reporter.countTxDropped(i, n);
      console.log(
        `ixy-fwd: ${n} frames for ${devs[i].address} never left (link ${devs[i].linkSpeed() === 0 ? 'down' : 'up'}): they were in its TX ring${handovers[i].held!.length > 0 ? ' or waiting for it' : ''} at the stop; counted as dropped`,
      );
    });
    for (const h of held) Mempool.freeBatch(h);
    const totals = reporter.totals();
    if (worker && summary) {
      Atomics.store(new Int32Array(stop), 0, 1);
      let s: TrafficSummary;
      try {
        s = await summary;
      } catch {
        throw new IxyError(
          'EDEMO',
          `the demo's traffic source failed: ${workerError?.message ?? 'unknown error'}`,
          'this is a bug in the demo: please report it with the message',
        );
      }
      const fwdDrops = totals.reduce((a, t) => a + t.rxDropped + t.txDropped, 0);
      console.log(
        `traffic source: sent ${s.sent} frames, ${s.received} came back forwarded, ${s.bad} corrupt` +
          (s.firstFault ? ` (first: ${s.firstFault})` : '') +
          `; dropped: ${fwdDrops} at fwd's ports, ${s.dropped} at the source's; ${s.sent - s.received - fwdDrops - s.dropped} in flight at the stop`,
      );
      await worker.terminate();
      if (s.bad > 0) return 1;
    }
    return 0;
  } finally {
    for (const d of devs) d.close();
  }
}

runMain('ixy-fwd', main);
