import { copyStats, createStats, formatStatsLine, formatStatsTotals, type DeviceStats, type IxyDevice } from '@ixy/core';

/** Prints ixy's per-port stats line every interval and the totals at the end. */
export class StatsReporter {
  private readonly now: DeviceStats[];
  private readonly before: DeviceStats[];

  constructor(
    private readonly devices: readonly IxyDevice[],
    private readonly write: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  ) {
    this.now = devices.map(() => createStats());
    this.before = devices.map(() => createStats());
  }

  /** Reads every device's counters and prints one line per port for the last `nanos`. */
  interval(nanos: number): void {
    this.devices.forEach((dev, i) => {
      dev.readStats(this.now[i]);
      this.write(formatStatsLine(dev.address, this.now[i], this.before[i], nanos));
      copyStats(this.before[i], this.now[i]);
    });
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
