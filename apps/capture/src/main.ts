#!/usr/bin/env node
// ixy-capture: receives packets on a port; checks test frames; writes a pcap file.
import { Command, InvalidArgumentError, Option } from 'commander';
import { IxyError, PacketBatch, openDevice, type IxyDevice } from '@ixy/core';
import {
  StatsReporter,
  addCableGroupOption,
  addPollModeOptions,
  cableGroupOptions,
  hybridOptions,
  intOption,
  pollLoop,
  runMain,
  rxWakeups,
  secondsOption,
  durationOption,
  type PollModeOptions,
  tunePacketLoopV8,
} from '@ixy/cli';
import { loadDrivers } from '@ixy/drivers';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { LatencyRecorder, MAX_EXPECTED, Sink, formatLatency } from '@ixy/traffic';
import { HistogramFile } from './histogram-file.js';
import { PcapWriter } from './pcap-writer.js';

// a module-local copy: the packet loop calls it without loading the imported class (see the
// ixgbe TX queue)
const poolOf = Mempool.of;

function pathOption(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected the path of a file, got an empty string');
  return value;
}

const program = addCableGroupOption(addPollModeOptions(new Command('ixy-capture')))
  .description(
    'Receives packets on one port. With --verify, checks every frame as an @ixy/traffic test frame ' +
      '(as ixy-pktgen sends them): every payload byte, the IP checksum, the sequence numbers (none ' +
      'lost, none duplicated; with --count they are counted exactly, and the order is reported). ' +
      "With --write, stores the frames in a pcap file for Wireshark/tcpdump. --verify takes C ixy-pktgen's " +
      'frames too (ixy-pktgen --format ixy sends them). With --latency, reads the send time ' +
      'ixy-pktgen --timestamp stamps into each frame and reports the latency percentiles.',
  )
  .argument('<dev>', 'the port: a PCI address (0000:03:00.0) or a simulated port (sim:<cable>:<0|1>)')
  .option('-w, --write <file.pcap>', 'write the received frames to this pcap file')
  .option('--verify', 'check every frame as a test frame; exit 1 if any is bad, lost or duplicated')
  .option('--in-order', 'with --verify: also exit 1 if frames arrived out of order')
  .option(
    '--latency',
    "each frame's latency from the send time ixy-pktgen --timestamp stamped in it: p50, p99, p99.9, p99.99 and max, per second and over the run",
  )
  .option(
    '--latency-histogram <file>',
    "write the run's latency histogram to this file (implies --latency): HdrHistogram's interval log if the name ends in .hlog (every bucket, lossless), else its percentile distribution text (.hgrm, µs)",
    pathOption,
  )
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
  ixy-pktgen sim:in:0 -n 1000000              # the source

Latency (add --timestamp to the source; both ends read CLOCK_MONOTONIC):
  ixy-capture sim:out:1 --latency --latency-histogram run.hgrm --idle 2
  ixy-pktgen sim:in:0 -n 1000000 --rate 1 --timestamp
Once a second it prints "[latency] <n> frames: p50 … p99 … p99.9 … p99.99 … max …" for the frames
of that second, and the same over the whole run at the end. The latency is from the moment the
sender handed the frame's batch to its port to the moment this app had the frame's batch.`,
  );

interface CaptureOptions extends PollModeOptions {
  cableGroup?: number;
  lossless?: boolean;
  unbind?: boolean;
  write?: string;
  verify?: boolean;
  inOrder?: boolean;
  latency?: boolean;
  latencyHistogram?: string;
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
  tunePacketLoopV8(); // V8's inlining budget for the packet loop (see @ixy/cli)
  if (opts.verify && opts.count > MAX_EXPECTED) {
    throw new IxyError(
      'EUSAGE',
      `--verify counts at most ${MAX_EXPECTED} frames exactly (--count ${opts.count})`,
      'give a smaller --count, or leave it out: then gaps in the sequence are counted',
    );
  }
  if (opts.latencyHistogram !== undefined) opts.latency = true;
  await loadDrivers(opts.driver);
  const dev: IxyDevice = openDevice(program.args[0], {
    safe: opts.safe,
    unbind: opts.unbind,
    ...(opts.lossless ? { flowControl: true } : {}),
    ...cableGroupOptions(opts),
  });
  let pcap: PcapWriter | undefined;
  let histogramFile: HistogramFile | undefined;
  try {
    if (opts.write) pcap = new PcapWriter(opts.write);
    if (opts.latencyHistogram !== undefined) histogramFile = new HistogramFile(opts.latencyHistogram);
    const latency = opts.latency ? new LatencyRecorder() : null;
    const sink = new Sink(opts.count > 0 ? opts.count : undefined);
    const batch = new PacketBatch(opts.batch);
    const reporter = new StatsReporter([dev]);
    const limit = opts.count || Infinity;
    // fields, not variables the loop's closures capture: a captured variable holding a number
    // that is not a small integer (a time; a count past 2^31) is a new heap number at every
    // store, 16 bytes per batch; a field's is updated in place (Node 24, --trace-gc)
    const seen = { frames: 0 };
    // --idle: the frame count and when it last changed, looked at by stopWhen (every ms or so)
    // and not per batch: a clock read allocates (performance.now(), about 30 bytes in Node 24),
    // and per batch it was most of what ixy-capture allocated at 8 Mpps (a scavenge every 0.6 s)
    const idle = { frames: 0, sinceMs: 0 };
    const startMs = Date.now();
    const epochOffsetMicros = startMs * 1000 - performance.now() * 1000;
    console.log(`ixy-capture: receiving on ${dev.address}${pcap ? `, writing ${pcap.path}` : ''} (Ctrl-C stops)`);
    await pollLoop(
      () => {
        if (seen.frames >= limit) return 0;
        const n = dev.rxBatch(0, batch, Math.min(batch.capacity, limit - seen.frames));
        if (n === 0) return 0;
        latency?.record(batch, n); // first: the receive time is now
        seen.frames += n;
        if (pcap) {
          const t = epochOffsetMicros + performance.now() * 1000;
          const h = batch.handles;
          for (let i = 0; i < n; i++) {
            const pool = poolOf(h[i]);
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
        onInterval: (ns) => {
          reporter.interval(ns);
          if (latency !== null && latency.interval.count > 0) {
            const s = latency.endInterval();
            console.log(`[latency] ${s.count} frames: ${formatLatency(s)}`);
          }
        },
        stopWhen: () => {
          if (seen.frames >= limit) return true;
          if (opts.idle <= 0 || seen.frames === 0) return false;
          const now = performance.now();
          if (seen.frames !== idle.frames) {
            idle.frames = seen.frames;
            idle.sinceMs = now;
            return false;
          }
          return now - idle.sinceMs > opts.idle * 1000;
        },
      },
    );
    reporter.totals();
    console.log(`ixy-capture: received ${seen.frames} frames${pcap ? `, wrote ${pcap.frames} to ${pcap.path}` : ''}`);
    if (latency !== null) {
      latency.endInterval();
      const total = latency.total;
      if (total.count > 0)
        console.log(`ixy-capture: latency of ${total.count} frames: ${formatLatency(total.summary())}`);
      if (latency.unstamped > 0)
        console.log(
          `ixy-capture: ${latency.unstamped} frames carried no send time${total.count === 0 ? ' (send with ixy-pktgen --timestamp)' : ''}`,
        );
      if (histogramFile) {
        histogramFile.write(total, startMs, (Date.now() - startMs) / 1000);
        console.log(`ixy-capture: wrote the latency histogram of ${total.count} frames to ${histogramFile.path}`);
      }
    }
    if (opts.verify) {
      console.log(`ixy-capture: verified ${sink.summary()}`);
      if (sink.cIxyFrames > 0)
        console.log(`ixy-capture: ${sink.cIxyFrames} of them in C ixy-pktgen's format (32-bit sequence numbers)`);
      if (sink.bad > 0 || sink.lost > 0 || sink.duplicates > 0 || (opts.inOrder && sink.outOfOrder > 0)) return 1;
    }
    return 0;
  } finally {
    try {
      histogramFile?.close();
      pcap?.close(); // may fail (a full disk): the port is closed all the same
    } finally {
      dev.close();
    }
  }
}

runMain('ixy-capture', main);
