#!/usr/bin/env node
// ixy-capture: receives packets on a port; checks test frames; writes a pcap file.
import { Command, Option } from 'commander';
import { IxyError, PacketBatch, openDevice, type IxyDevice } from '@ixy/core';
import {
  StatsReporter,
  addCableGroupOption,
  addPollModeOptions,
  cableGroupOptions,
  hybridOptions,
  intOption,
  loadDrivers,
  pollLoop,
  runMain,
  rxWakeups,
  secondsOption,
  durationOption,
  type PollModeOptions,
} from '@ixy/cli';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { MAX_EXPECTED, Sink } from '@ixy/traffic';
import { PcapWriter } from './pcap-writer.js';

const program = addCableGroupOption(addPollModeOptions(new Command('ixy-capture')))
  .description(
    'Receives packets on one port. With --verify, checks every frame as an @ixy/traffic test frame ' +
      '(as ixy-pktgen sends them): every payload byte, the IP checksum, the sequence numbers (none ' +
      'lost, none duplicated; with --count they are counted exactly, and the order is reported). ' +
      "With --write, stores the frames in a pcap file for Wireshark/tcpdump. --verify takes C ixy-pktgen's " +
      'frames too (ixy-pktgen --format ixy sends them).',
  )
  .argument('<dev>', 'the port: a PCI address (0000:03:00.0) or a simulated port (sim:<cable>:<0|1>)')
  .option('-w, --write <file.pcap>', 'write the received frames to this pcap file')
  .option('--verify', 'check every frame as a test frame; exit 1 if any is bad, lost or duplicated')
  .option('--in-order', 'with --verify: also exit 1 if frames arrived out of order')
  .addOption(
    new Option('-n, --count <n>', 'stop after receiving this many frames')
      .argParser(intOption(0, Number.MAX_SAFE_INTEGER))
      .default(0, 'no limit'),
  )
  .addOption(durationOption())
  .addOption(
    new Option('--idle <seconds>', 'stop after this long without a frame, once one has arrived')
      .argParser(secondsOption)
      .default(0, 'never'),
  )
  .option('-b, --batch <n>', 'packets per RX batch', intOption(1, 4096), 32)
  .option(
    '--lossless',
    'flow control on the port: when the RX ring is full, frames wait on the link (the sender pauses) instead of being dropped',
  )
  .option('--safe', 'safe mode: bounds-checked registers and packet ownership checks (slower)')
  .option('--unbind', 'take PCI devices from the kernel driver bound to them (never the card this machine needs)')
  .option('--driver <package...>', 'extra driver packages to load (they register themselves)')
  .addHelpText(
    'after',
    `
Example, a test bed on one machine (three shells):
  ixy-capture sim:out:1 --verify --idle 2     # the sink
  ixy-fwd sim:in:1 sim:out:0                  # the device under test
  ixy-pktgen sim:in:0 -n 1000000              # the source`,
  );

interface CaptureOptions extends PollModeOptions {
  cableGroup?: number;
  lossless?: boolean;
  unbind?: boolean;
  write?: string;
  verify?: boolean;
  inOrder?: boolean;
  count: number;
  duration: number;
  idle: number;
  batch: number;
  safe?: boolean;
  driver?: string[];
}

async function main(): Promise<number> {
  program.exitOverride();
  program.parse();
  const opts = program.opts<CaptureOptions>();
  if (opts.verify && opts.count > MAX_EXPECTED) {
    throw new IxyError(
      'EUSAGE',
      `--verify counts at most ${MAX_EXPECTED} frames exactly (--count ${opts.count})`,
      'give a smaller --count, or leave it out: then gaps in the sequence are counted',
    );
  }
  await loadDrivers(opts.driver);
  const dev: IxyDevice = openDevice(program.args[0], {
    safe: opts.safe,
    unbind: opts.unbind,
    ...(opts.lossless ? { flowControl: true } : {}),
    ...cableGroupOptions(opts),
  });
  let pcap: PcapWriter | undefined;
  try {
    if (opts.write) pcap = new PcapWriter(opts.write);
    const sink = new Sink(opts.count > 0 ? opts.count : undefined);
    const batch = new PacketBatch(opts.batch);
    const reporter = new StatsReporter([dev]);
    const limit = opts.count || Infinity;
    let received = 0;
    let lastFrame = 0;
    const epochOffsetMicros = Date.now() * 1000 - performance.now() * 1000;
    console.log(`ixy-capture: receiving on ${dev.address}${pcap ? `, writing ${pcap.path}` : ''} (Ctrl-C stops)`);
    await pollLoop(
      () => {
        if (received >= limit) return 0;
        const n = dev.rxBatch(0, batch, Math.min(batch.capacity, limit - received));
        if (n === 0) return 0;
        received += n;
        lastFrame = performance.now();
        if (pcap) {
          const t = epochOffsetMicros + lastFrame * 1000;
          const h = batch.handles;
          for (let i = 0; i < n; i++) {
            const pool = Mempool.of(h[i]);
            pcap.write(pool.bytes, pool.dataOffset(h[i]), pool.length[h[i] & INDEX_MASK], t);
          }
        }
        if (opts.verify) sink.consume(batch);
        else Mempool.freeBatch(batch);
        return n;
      },
      {
        wakeups: rxWakeups([dev]),
        ...hybridOptions(opts),
        durationSeconds: opts.duration,
        onInterval: (ns) => reporter.interval(ns),
        stopWhen: () =>
          received >= limit || (opts.idle > 0 && lastFrame > 0 && performance.now() - lastFrame > opts.idle * 1000),
      },
    );
    reporter.totals();
    console.log(`ixy-capture: received ${received} frames${pcap ? `, wrote ${pcap.frames} to ${pcap.path}` : ''}`);
    if (opts.verify) {
      console.log(`ixy-capture: verified ${sink.summary()}`);
      if (sink.cIxyFrames > 0)
        console.log(`ixy-capture: ${sink.cIxyFrames} of them in C ixy-pktgen's format (32-bit sequence numbers)`);
      if (sink.bad > 0 || sink.lost > 0 || sink.duplicates > 0 || (opts.inOrder && sink.outOfOrder > 0)) return 1;
    }
    return 0;
  } finally {
    try {
      pcap?.close(); // may fail (a full disk): the port is closed all the same
    } finally {
      dev.close();
    }
  }
}

runMain('ixy-capture', main);
