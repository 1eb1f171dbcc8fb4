/**
 * Device statistics, counted in software past the hardware's 32/36-bit clear-on-read
 * registers. Plain numbers count exactly up to 2^53: 83 days of bytes at 10 Gbit/s line rate,
 * and far longer for packets. No BigInt, so reading stats allocates nothing.
 */
export interface DeviceStats {
  rxPackets: number;
  /**
   * Frames the port sent: the device has finished with them, as a card's counters count what
   * left the port. A frame still in the TX ring is not counted, and closing the port discards it.
   */
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  /** Frames the device dropped on receive because no descriptor was free (0 where unknown). */
  rxDropped: number;
  /**
   * Packets handed to this port for sending that it did not take and were dropped (a full TX
   * ring in ixy-fwd): counted by the application that dropped them, since the device never
   * saw them.
   */
  txDropped: number;
}

export function createStats(): DeviceStats {
  return { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, rxDropped: 0, txDropped: 0 };
}

export function copyStats(to: DeviceStats, from: DeviceStats): void {
  to.rxPackets = from.rxPackets;
  to.txPackets = from.txPackets;
  to.rxBytes = from.rxBytes;
  to.txBytes = from.txBytes;
  to.rxDropped = from.rxDropped;
  to.txDropped = from.txDropped;
}

/** Per-interval rates between two snapshots, as ixy prints them. */
export interface StatsRates {
  rxMbit: number;
  rxMpps: number;
  txMbit: number;
  txMpps: number;
}

/** Preamble, start-of-frame delimiter and inter-frame gap: 20 bytes on the wire per frame. */
export const WIRE_OVERHEAD_BYTES = 20;

/**
 * Rates over `nanos` nanoseconds. Mbit/s counts the wire: each frame's bytes (as the counters
 * count them) plus 20 bytes of preamble and gap, as ixy's print_stats_diff does.
 */
export function statsRates(now: DeviceStats, before: DeviceStats, nanos: number): StatsRates {
  const rxPkts = now.rxPackets - before.rxPackets;
  const txPkts = now.txPackets - before.txPackets;
  const rxBits = (now.rxBytes - before.rxBytes + rxPkts * WIRE_OVERHEAD_BYTES) * 8;
  const txBits = (now.txBytes - before.txBytes + txPkts * WIRE_OVERHEAD_BYTES) * 8;
  const us = nanos / 1000;
  return {
    rxMbit: us > 0 ? rxBits / us : 0,
    rxMpps: us > 0 ? rxPkts / us : 0,
    txMbit: us > 0 ? txBits / us : 0,
    txMpps: us > 0 ? txPkts / us : 0,
  };
}

/** `[<port>] RX: <n> Mbit/s <n> Mpps | TX: <n> Mbit/s <n> Mpps`, the line ixy-fwd prints. */
export function formatStatsLine(port: string, now: DeviceStats, before: DeviceStats, nanos: number): string {
  const r = statsRates(now, before, nanos);
  return (
    `[${port}] RX: ${r.rxMbit.toFixed(2)} Mbit/s ${r.rxMpps.toFixed(2)} Mpps | ` +
    `TX: ${r.txMbit.toFixed(2)} Mbit/s ${r.txMpps.toFixed(2)} Mpps` +
    dropsText(now.rxDropped - before.rxDropped, now.txDropped - before.txDropped)
  );
}

/** ` | dropped RX: <n> TX: <n>` when anything was dropped in the interval, else nothing. */
function dropsText(rx: number, tx: number): string {
  return rx > 0 || tx > 0 ? ` | dropped RX: ${rx} TX: ${tx}` : '';
}

/** Totals line for the end of a run. */
export function formatStatsTotals(port: string, s: DeviceStats): string {
  return (
    `[${port}] total RX: ${s.rxPackets} packets ${s.rxBytes} bytes` +
    (s.rxDropped ? ` (${s.rxDropped} dropped)` : '') +
    ` | TX: ${s.txPackets} packets ${s.txBytes} bytes` +
    (s.txDropped ? ` (${s.txDropped} dropped)` : '')
  );
}
