const TWO_32 = 0x1_0000_0000;

/**
 * CLOCK_MONOTONIC in nanoseconds, the clock every process on the machine shares (it is what
 * `process.hrtime.bigint()` reads on Linux), read without a BigInt: a reading lands in `hi`
 * and `lo`, its high and low 32 bits, ready to be stamped into a frame.
 *
 * How: `performance.now()` is the same clock (libuv's uv_hrtime, CLOCK_MONOTONIC) minus this
 * process's time origin, in ms as a double. The constructor finds that origin in ns by reading
 * `performance.now()` between two `process.hrtime.bigint()` reads, 2000 times (1–5 ms), and
 * intersecting the intervals each pair allows; a reading is then origin + now × 10^6, added in
 * two 32-bit halves so it stays exact past 2^53 ns (104 days of uptime). The origin is known
 * to within `uncertaintyNs`, about the time one clock call takes (±40–160 ns seen on the
 * 2-core EPYC, more when it is loaded); that error is the same for every reading of this
 * process, so two processes' clocks disagree by at most the sum of their two uncertainties: a
 * constant offset, small against the microseconds a frame takes through a software forwarder,
 * and none at all when the sender and the receiver share a clock (the benchmark's case).
 *
 * Why not hrtime.bigint() per read, which is exact: it took 1.3–1.6× as long (120–150 ns
 * against 75–100 ns unloaded, Node 20) and allocates more (a BigInt). Both allocate
 * (performance.now() ≈ 60 bytes a call in Node 20 and 22, where it builds an hrtime array
 * inside, ≈ 30 in Node 24; counted with --trace-gc): one read per batch, never one per packet.
 */
export class MonotonicClock {
  /** High 32 bits of the last reading (ns). */
  hi = 0;
  /** Low 32 bits of the last reading (ns). */
  lo = 0;
  /** How far the origin may be off (ns): half the width of the interval calibration left. */
  readonly uncertaintyNs: number;
  private readonly originHi: number;
  private readonly originLo: number;

  constructor(samples = 2000) {
    const ref = process.hrtime.bigint();
    let lower = -Infinity;
    let upper = Infinity;
    for (let i = 0; i < samples; i++) {
      const a = process.hrtime.bigint();
      const ms = performance.now();
      const b = process.hrtime.bigint();
      // origin + ms × 10^6 lies in [a, b]: so the origin lies in [a - ms × 10^6, b - ms × 10^6]
      lower = Math.max(lower, Number(a - ref) - ms * 1e6);
      upper = Math.min(upper, Number(b - ref) - ms * 1e6);
    }
    // an empty intersection would mean performance.now() is not uv_hrtime-based after all:
    // then the midpoint is still the best estimate, and the uncertainty says how bad it is
    this.uncertaintyNs = Math.abs(upper - lower) / 2;
    const origin = ref + BigInt(Math.round((lower + upper) / 2));
    this.originHi = Number(origin >> 32n);
    this.originLo = Number(origin & 0xffff_ffffn);
    this.read();
  }

  /** Reads the clock into `hi` and `lo`. No allocation. */
  read(): void {
    // exact: lo < 2^32, the ns since this process started < 2^53 - 2^32
    const lo = this.originLo + Math.round(performance.now() * 1e6);
    const carry = Math.floor(lo / TWO_32);
    this.hi = this.originHi + carry;
    this.lo = lo - carry * TWO_32;
  }

  /** The last reading as a BigInt (for tests and reports, not for the hot path). */
  get ns(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
}

/** ns from the time (fromHi, fromLo) to (hi, lo), both as 32-bit halves; exact below 2^53. */
export function nsBetween(fromHi: number, fromLo: number, hi: number, lo: number): number {
  return (hi - fromHi) * TWO_32 + (lo - fromLo);
}
