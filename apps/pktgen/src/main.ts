#!/usr/bin/env node
// ixy-pktgen: sends numbered test frames out of a port as fast as it can (the classic ixy app).
import { Command } from 'commander';
import { PacketBatch, deviceDma, openDevice, type IxyDevice } from '@ixy/core';
import { StatsReporter, intOption, loadDrivers, pollLoop, runMain, secondsOption } from '@ixy/cli';
import { Mempool } from '@ixy/memory';
import { Generator } from '@ixy/traffic';

const program = new Command('ixy-pktgen')
  .description(
    'Sends UDP test frames out of one port as fast as the port takes them, and prints the port\'s\n' +
      'rates once a second. Each frame carries a 64-bit sequence number and a checkable payload\n' +
      '(see @ixy/traffic), so a receiver can verify every byte, the order and the losses.',
  )
  .argument('<dev>', 'the port: a PCI address (0000:03:00.0) or a simulated port (sim:<cable>:<0|1>)')
  .option('-s, --size <bytes>', 'frame size without CRC', intOption(60, 1514), 60)
  .option('-b, --batch <n>', 'packets per TX batch', intOption(1, 4096), 32)
  .option('-n, --count <n>', 'stop after sending this many frames (0: no limit)', intOption(0, Number.MAX_SAFE_INTEGER), 0)
  .option('-d, --duration <seconds>', 'stop after this many seconds (default: run until Ctrl-C)', secondsOption, 0)
  .option('--safe', 'safe mode: bounds-checked registers and packet ownership checks (slower)', false)
  .option('--driver <package...>', 'extra driver packages to load (they register themselves)', [])
  .addHelpText(
    'after',
    `
Examples:
  ixy-pktgen 0000:03:00.0                 60-byte frames at line rate out of an 82599 port
  ixy-pktgen sim:wire:0 -n 1000000        a million frames into a simulated cable`,
  );

interface PktgenOptions {
  size: number;
  batch: number;
  count: number;
  duration: number;
  safe: boolean;
  driver: string[];
}

async function main(): Promise<number> {
  program.exitOverride();
  program.parse();
  const opts = program.opts<PktgenOptions>();
  await loadDrivers(opts.driver);
  const dev: IxyDevice = openDevice(program.args[0], { safe: opts.safe });
  try {
    const pool = new Mempool({ allocator: deviceDma(dev), entries: 4096, safe: opts.safe });
    const gen = new Generator(pool, { size: opts.size });
    const batch = new PacketBatch(opts.batch);
    const reporter = new StatsReporter([dev]);
    let sent = 0;
    const limit = opts.count || Infinity;
    let done = false;
    console.log(`ixy-pktgen: sending ${opts.size}-byte frames on ${dev.address} (Ctrl-C stops)`);
    const stopped = pollLoop(
      () => {
        if (done) return;
        const want = Math.min(batch.capacity, limit - sent);
        if (gen.fill(batch, want) === 0) return;
        const n = dev.txBatch(0, batch);
        sent += n;
        Mempool.freeBatch(batch, n);
        if (sent >= limit) done = true;
      },
      { durationSeconds: opts.duration, onInterval: (ns) => reporter.interval(ns), stopWhen: () => done },
    );
    await stopped;
    reporter.totals();
    console.log(`ixy-pktgen: sent ${sent} frames`);
    pool.close();
    return 0;
  } finally {
    dev.close();
  }
}

runMain('ixy-pktgen', main);
