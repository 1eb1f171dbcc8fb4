/** A measured rate: packets (or operations) per time, as Mpps and as cycles each. */
export interface Rate {
  name: string;
  packets: number;
  seconds: number;
  mpps: number;
  nsPerPacket: number;
  cyclesPerPacket: number;
}

/**
 * Runs `step` (which returns how many packets it handled) for a warm-up, then for about
 * `seconds`, checking the clock every 64 steps; returns the rate. Best of `rounds` runs, since
 * a 2-core machine shares its cores with everything else.
 */
export function measure(name: string, step: () => number, ghz: number, seconds = 1, rounds = 3): Rate {
  const run = (limit: number): { packets: number; seconds: number } => {
    let packets = 0;
    const start = performance.now();
    let now = start;
    while (now - start < limit * 1000) {
      for (let i = 0; i < 64; i++) packets += step();
      now = performance.now();
    }
    return { packets, seconds: (now - start) / 1000 };
  };
  run(Math.min(0.5, seconds / 2)); // warm-up: let the JIT optimise the loop
  let best = { packets: 0, seconds: 1 };
  for (let r = 0; r < rounds; r++) {
    const got = run(seconds);
    if (got.packets / got.seconds > best.packets / best.seconds) best = got;
  }
  const nsPerPacket = best.packets > 0 ? (best.seconds * 1e9) / best.packets : Infinity;
  return {
    name,
    packets: best.packets,
    seconds: best.seconds,
    mpps: best.packets / best.seconds / 1e6,
    nsPerPacket,
    cyclesPerPacket: nsPerPacket * ghz,
  };
}

/** A table of rates, each with its ratio to the first row. */
export function formatRates(title: string, rates: Rate[]): string {
  const base = rates[0];
  const rows = rates.map(
    (r) =>
      `  ${r.name.padEnd(44)} ${r.mpps.toFixed(2).padStart(8)} Mpps ${r.nsPerPacket.toFixed(1).padStart(8)} ns ${r.cyclesPerPacket
        .toFixed(0)
        .padStart(7)} cycles  ${(r.nsPerPacket / base.nsPerPacket).toFixed(2).padStart(6)}x`,
  );
  return `${title}\n  ${'case'.padEnd(44)} ${'rate'.padStart(13)} ${'per packet'.padStart(11)} ${''.padStart(14)} vs first\n${rows.join('\n')}`;
}
