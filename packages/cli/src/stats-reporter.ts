import {
  copyStats,
  createStats,
  formatStatsLine,
  formatStatsTotals,
  type DeviceStats,
  type IxyDevice,
} from '@ixy/core';

/**
 * Prints ixy's per-port stats line every interval and the totals at the end; drops (counted by
 * the device, or by the app through `countTxDropped`) appear in both. A link that goes down or
 * comes up between two intervals gets a line of its own.
 */
export class StatsReporter {
  private readonly now: DeviceStats[];
  private readonly before: DeviceStats[];
  private readonly link: number[];

  constructor(
    private readonly devices: readonly IxyDevice[],
    private readonly write: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  ) {
    this.now = devices.map(() => createStats());
    this.before = devices.map(() => createStats());
    this.link = devices.map((d) => d.linkSpeed());
  }

  /** Device `i`. */
  device(i: number): IxyDevice {
    return this.devices[i];
  }

  /** Counts `n` packets the app dropped because device `i` did not take them. */
  countTxDropped(i: number, n: number): void {
    this.now[i].txDropped += n;
  }

  /** The stats object of device `i` (apps may add their own drop counts to it). */
  stats(i: number): DeviceStats {
    return this.now[i];
  }

  /** Reads every device's counters and prints one line per port for the last `nanos`. */
  interval(nanos: number): void {
    this.devices.forEach((dev, i) => {
      this.checkLink(i);
      dev.readStats(this.now[i]);
      this.write(formatStatsLine(dev.address, this.now[i], this.before[i], nanos));
      copyStats(this.before[i], this.now[i]);
    });
  }

  /** Prints a line when device `i`'s link went down or came up since the last check. */
  checkLink(i: number): void {
    const speed = this.devices[i].linkSpeed();
    if ((speed === 0) === (this.link[i] === 0)) return;
    this.link[i] = speed;
    this.write(
      speed === 0
        ? `[${this.devices[i].address}] link down`
        : `[${this.devices[i].address}] link up at ${speed} Mbit/s`,
    );
  }

  /** Reads device `i`'s counters and returns its totals so far (printing nothing). */
  current(i: number): DeviceStats {
    this.devices[i].readStats(this.now[i]);
    return this.now[i];
  }

  /** Reads the counters once more and returns the totals (also printed). */
  totals(): DeviceStats[] {
    this.devices.forEach((dev, i) => {
      dev.readStats(this.now[i]);
      this.write(formatStatsTotals(dev.address, this.now[i]));
    });
    return this.now.map((s) => ({ ...s }));
  }
}
