#!/usr/bin/env node
// ixy-pktgen: sends numbered test frames out of a port as fast as it can (the classic ixy app).
import { Command, Option } from 'commander';
import { IxyError, PacketBatch, deviceDma, openDevice, type IxyDevice } from '@ixy/core';
import {
  StatsReporter,
  addCableGroupOption,
  addPollModeOptions,
  cableGroupOptions,
  decimalOption,
  drainTx,
  hybridOptions,
  intOption,
  pollLoop,
  runMain,
  rxWakeups,
  durationOption,
  type PollModeOptions,
  tunePacketLoopV8,
} from '@ixy/cli';
import { loadDrivers } from '@ixy/drivers';
import { Mempool } from '@ixy/memory';
import { Generator, Pacer } from '@ixy/traffic';

const program = addCableGroupOption(addPollModeOptions(new Command('ixy-pktgen')))
  .description(
    "Sends UDP test frames out of one port as fast as the port takes them, and prints the port's " +
      'rates once a second. Each frame carries a 64-bit sequence number and a checkable payload ' +
      '(see @ixy/traffic), so a receiver can verify every byte, the order and the losses.',
  )
  .argument('<dev>', 'the port: a PCI address (0000:03:00.0) or a simulated port (sim:<cable>:<0|1>)')
  .option('-s, --size <bytes>', 'frame size without CRC', intOption(60, 1514), 60)
  .addOption(
    new Option(
      '--format <format>',
      "frames to send: ixy-ts (numbered test frames, any size) or ixy (exactly C ixy-pktgen's 60-byte frames)",
    )
      .choices(['ixy-ts', 'ixy'])
      .default('ixy-ts'),
  )
  .option(
    '--timestamp',
    'stamp each frame with its send time (CLOCK_MONOTONIC, ns) for ixy-capture --latency (ixy-ts format only)',
  )
  .option('-b, --batch <n>', 'packets per TX batch', intOption(1, 4096), 32)
  .addOption(
    new Option('-n, --count <n>', 'stop after sending this many frames')
      .argParser(intOption(0, Number.MAX_SAFE_INTEGER))
      .default(0, 'no limit'),
  )
  .addOption(durationOption())
  .addOption(
    new Option('-r, --rate <Mpps>', 'send at most this many million frames per second')
      .argParser(decimalOption('a positive number of Mpps', true))
      .default(0, 'as fast as possible'),
  )
  .option('--safe', 'safe mode: bounds-checked registers and packet ownership checks (slower)')
  .option('--unbind', 'take PCI devices from the kernel driver bound to them (never the card this machine needs)')
  .option('--driver <package...>', 'extra driver packages to load (they register themselves)')
  .addHelpText(
    'after',
    `
"Sent" counts the frames the port took into its TX ring; a frame that is never put on the wire
(the link went down) is reported at the end. With --rate, the generator never runs ahead of
the rate by more than two batches: after a stall it does not catch up in a burst.

With --timestamp, every frame carries the time its batch was handed to the port (CLOCK_MONOTONIC,
the clock all processes share), and ixy-capture --latency on the receiving port reports each
frame's latency from it.

Examples:
  ixy-pktgen 0000:03:00.0                 60-byte frames at line rate out of an 82599 port
  ixy-pktgen sim:wire:0 -n 1000000        a million frames into a simulated cable
  ixy-pktgen sim:in:0 -r 1 --timestamp    1 Mpps, stamped for ixy-capture --latency`,
  );

interface PktgenOptions extends PollModeOptions {
  cableGroup?: number;
  format: 'ixy-ts' | 'ixy';
  timestamp?: boolean;
  unbind?: boolean;
  rate: number;
  size: number;
  batch: number;
  count: number;
  duration: number;
  safe?: boolean;
  driver?: string[];
}

async function main(): Promise<number> {
  program.exitOverride();
  program.parse();
  const opts = program.opts<PktgenOptions>();
  tunePacketLoopV8(); // V8's inlining budget for the packet loop (see @ixy/cli)
  if (opts.format === 'ixy' && opts.size !== 60) {
    throw new IxyError(
      'EUSAGE',
      `--format ixy sends C ixy-pktgen's frames, which are 60 bytes (got --size ${opts.size})`,
      'leave out --size, or use --format ixy-ts',
    );
  }
  if (opts.format === 'ixy' && opts.timestamp) {
    throw new IxyError(
      'EUSAGE',
      "--timestamp needs room in the frame that C ixy-pktgen's frames (--format ixy) do not have",
      'use --format ixy-ts (the default) to measure latency',
    );
  }
  await loadDrivers(opts.driver);
  const dev: IxyDevice = openDevice(program.args[0], {
    safe: opts.safe,
    unbind: opts.unbind,
    ...cableGroupOptions(opts),
  });
  let pool: Mempool | undefined;
  try {
    pool = new Mempool({ allocator: deviceDma(dev), entries: 4096, safe: opts.safe });
    const gen = new Generator(pool, { size: opts.size, format: opts.format, timestamp: opts.timestamp === true });
    const stamp = opts.timestamp === true;
    const batch = new PacketBatch(opts.batch);
    const reporter = new StatsReporter([dev]);
    // a field, not a variable the loop's closures capture: past 2^31 frames a captured
    // variable's count is a new heap number at every store, 16 bytes per batch; a field's is
    // updated in place (Node 24, --trace-gc)
    const tally = { sent: 0 };
    const limit = opts.count || Infinity;
    let done = false;
    console.log(
      `ixy-pktgen: sending ${opts.size}-byte frames${stamp ? ' stamped with their send time' : ''} on ${dev.address} (Ctrl-C stops)`,
    );
    // pacing: at most two batches owed after a stall, so no burst to catch up
    const pacer = opts.rate > 0 ? new Pacer(opts.rate * 1000, 2 * batch.capacity, performance.now()) : null;
    const dueInMs = (): number =>
      pacer !== null && !done ? pacer.dueInMs(performance.now(), Math.min(batch.capacity, limit - tally.sent)) : 0;
    const result = await pollLoop(
      () => {
        if (done) return 0;
        if (batch.length === 0) {
          // frames the queue did not take stay in the batch and go first next time, so the
          // sequence numbers on the wire have no gaps
          let want = Math.min(batch.capacity, limit - tally.sent);
          if (pacer !== null) want = Math.min(want, pacer.allowed(performance.now()));
          if (want <= 0 || gen.fill(batch, want) === 0) return 0;
        }
        // the send time is when the port gets the frame: frames left over from a full TX ring
        // are stamped again when they are offered again
        if (stamp) gen.stamp(batch);
        const n = dev.txBatch(0, batch);
        tally.sent += n;
        pacer?.took(n);
        batch.shift(n);
        if (tally.sent >= limit) done = true;
        return n;
      },
      {
        durationSeconds: opts.duration,
        onInterval: (ns) => reporter.interval(ns),
        stopWhen: () => done,
        wakeups: rxWakeups([dev]),
        dueInMs,
        ...hybridOptions(opts),
      },
    );
    if (result.reason === 'signal') console.log('ixy-pktgen: stopped by a signal');
    Mempool.freeBatch(batch);
    // the device still sends what its ring holds, and closing the port discards the rest
    await drainTx('ixy-pktgen', reporter, [{ handed: tally.sent }]);
    reporter.checkLink(0);
    const totals = reporter.totals();
    console.log(`ixy-pktgen: sent ${tally.sent} frames`);
    const stuck = tally.sent - totals[0].txPackets;
    if (stuck > 0)
      console.log(
        `ixy-pktgen: ${stuck} of them never left the port (link ${dev.linkSpeed() === 0 ? 'down' : 'up'}): they were in its TX ring at the stop`,
      );
    return 0;
  } finally {
    dev.close(); // stops the queues first; only then may the pool's memory go
    pool?.close();
  }
}

runMain('ixy-pktgen', main);
