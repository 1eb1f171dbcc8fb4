import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';
import type { PacketBatch } from '@ixy/core';
import { INDEX_MASK, Mempool } from '@ixy/memory';
import { MonotonicClock, nsBetween } from './clock.js';
import { ETH_HEADER, MIN_FRAME, hasSendTime, readSendTimeHi, readSendTimeLo } from './frame.js';

type HdrLibrary = typeof import('hdr-histogram-js');
let hdrLibrary: HdrLibrary | undefined;
/**
 * hdr-histogram-js, loaded on first use: only reports and files need it, and loading it (with
 * pako and its WebAssembly build) took 90 ms of CPU and 1.3 MB of heap at the start of every app
 * that imports this package, ixy-capture without --latency and ixy-pktgen included.
 */
function hdr(): HdrLibrary {
  hdrLibrary ??= createRequire(import.meta.url)('hdr-histogram-js') as HdrLibrary;
  return hdrLibrary;
}

// a module-local copy: the packet loop calls it without loading the imported class (see the
// ixgbe TX queue)
const poolOf = Mempool.of;

/**
 * Buckets as HdrHistogram lays them out for 3 significant digits and a 1 ns unit: values below
 * 2048 have a bucket each; above, each power of two [2^k, 2^(k+1)) is cut into 1024 equal
 * buckets, so a value is known to within 1/1024 (0.1 %). 32 such ranges reach 2^42 ns (73 min).
 */
const SUB_BUCKET_BITS = 11; // 2048 > 2 × 10^3: HdrHistogram's sub-bucket count for 3 digits
const HALF = 1 << (SUB_BUCKET_BITS - 1);
const TWO_32 = 0x1_0000_0000;
/** The longest latency a LatencyHistogram tells apart; longer ones are counted in its last bucket. */
export const LATENCY_MAX_NS = 2 ** 42 - 1;
const COUNTS = (42 - SUB_BUCKET_BITS + 2) * HALF; // 33792, as HdrHistogram's countsArrayLength

/** Bucket of a value in [0, LATENCY_MAX_NS] (an integer). */
function bucketIndex(v: number): number {
  if (v < 2 * HALF) return v;
  const msb = v < TWO_32 ? 31 - Math.clz32(v) : 63 - Math.clz32(Math.floor(v / TWO_32));
  const shift = msb - (SUB_BUCKET_BITS - 1);
  const sub = v < TWO_32 ? v >>> shift : Math.floor(v / 2 ** shift);
  return ((shift + 1) << (SUB_BUCKET_BITS - 1)) + sub - HALF;
}

/** The lowest value of bucket `i`. */
function bucketValue(i: number): number {
  if (i < 2 * HALF) return i;
  const shift = (i >> (SUB_BUCKET_BITS - 1)) - 1;
  return ((i & (HALF - 1)) + HALF) * 2 ** shift;
}

/** The percentiles a latency report gives. */
export interface LatencySummary {
  count: number;
  /**
   * In ns: the highest value of the bucket the percentile falls in (as HdrHistogram reports it),
   * or the max if that is lower.
   */
  p50: number;
  p99: number;
  p999: number;
  p9999: number;
  /** The exact largest latency recorded (ns). */
  max: number;
}

/**
 * A latency histogram in HdrHistogram's bucket layout (ns, 3 significant digits), recorded
 * without allocation in a few ns: hdr-histogram-js's own recordValue took 300–400 ns per value
 * on the 2-core EPYC (it finds the bucket with Math.log2 and Math.pow), too slow for a receive
 * loop. Reports go through hdr-histogram-js (`toHdr()`): percentiles, and the file formats
 * every HdrHistogram implementation reads.
 */
export class LatencyHistogram {
  readonly counts = new Float64Array(COUNTS);
  count = 0;
  /** Exact largest value recorded (before clamping to LATENCY_MAX_NS). */
  max = 0;
  /** Values above LATENCY_MAX_NS, counted in the last bucket. */
  clamped = 0;

  /** Records a latency in ns (an integer; a negative one, clock error between two processes, counts as 0). */
  record(ns: number): void {
    let v = ns > 0 ? ns : 0;
    if (v > this.max) this.max = v;
    if (v > LATENCY_MAX_NS) {
      v = LATENCY_MAX_NS;
      this.clamped++;
    }
    this.counts[bucketIndex(v)]++;
    this.count++;
  }

  /** Adds another histogram's counts to this one. */
  add(other: LatencyHistogram): void {
    if (other.count === 0) return;
    const a = this.counts;
    const b = other.counts;
    for (let i = 0; i < a.length; i++) a[i] += b[i];
    this.count += other.count;
    this.clamped += other.clamped;
    if (other.max > this.max) this.max = other.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
    this.clamped = 0;
  }

  /** The same counts in an hdr-histogram-js histogram (64-bit counts, ns). */
  toHdr(): Histogram {
    const h = hdr().build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: LATENCY_MAX_NS,
      numberOfSignificantValueDigits: 3,
      bitBucketSize: 64,
      useWebAssembly: false,
    });
    const c = this.counts;
    for (let i = 0; i < c.length; i++) if (c[i] > 0) h.recordValueWithCount(bucketValue(i), c[i]);
    return h;
  }

  summary(): LatencySummary {
    const h = this.toHdr();
    // a bucket's highest value may lie above the largest value recorded in it
    const at = (p: number): number => (this.count > 0 ? Math.min(h.getValueAtPercentile(p), this.max) : 0);
    return { count: this.count, p50: at(50), p99: at(99), p999: at(99.9), p9999: at(99.99), max: this.max };
  }

  /**
   * The complementary CDF: for each non-empty bucket, its highest value (ns) and the share of
   * values above it. Decreasing from below 1 to 0; for plots of the tail.
   */
  ccdf(): [ns: number, above: number][] {
    const out: [number, number][] = [];
    const c = this.counts;
    let seen = 0;
    for (let i = 0; i < c.length; i++) {
      if (c[i] === 0) continue;
      seen += c[i];
      out.push([Math.min(bucketValue(i + 1) - 1, this.max), (this.count - seen) / this.count]);
    }
    return out;
  }

  /**
   * HdrHistogram's percentile distribution text (the `.hgrm` of outputPercentileDistribution,
   * values in µs): `Value Percentile TotalCount 1/(1-Percentile)` lines, then the mean, max and
   * `Total count`. HdrHistogram's plotter and most of its tools read it.
   */
  percentileDistribution(): string {
    return this.toHdr().outputPercentileDistribution(5, 1000);
  }

  /**
   * HdrHistogram's interval log (format 1.3): the whole histogram, every bucket, compressed and
   * base64-encoded on one line; any HdrHistogram implementation decodes it (HistogramLogReader).
   * Values in ns; `startSeconds` and `seconds` place the run in time (Unix seconds).
   */
  intervalLog(startSeconds: number, seconds: number): string {
    let text = '';
    const w = new (hdr().HistogramLogWriter)((s) => (text += s));
    w.outputComment('ixy-capture --latency: latency in ns from the send time stamped in each frame');
    w.outputLogFormatVersion();
    w.outputStartTime(startSeconds * 1000);
    w.outputLegend();
    w.outputIntervalHistogram(this.toHdr(), 0, seconds, 1);
    return text;
  }
}

/**
 * Reads the send time back from received test frames (see writeSendTime) and records each
 * frame's latency: the receiving process's clock at the batch, minus the stamp. One clock read
 * per batch, taken when the batch is in the app's hands, so a frame's latency includes its wait
 * in the RX ring. No allocation, no BigInt.
 */
export class LatencyRecorder {
  readonly clock = new MonotonicClock();
  /** What `record` fills; a reporter moves it into `total` with `endInterval`. */
  readonly interval = new LatencyHistogram();
  readonly total = new LatencyHistogram();
  /** Frames that carried no send time (not a test frame, or sent without --timestamp). */
  unstamped = 0;

  /** Records the latency of each stamped frame among `batch.handles[0, n)`; frees nothing. */
  record(batch: PacketBatch, n = batch.length): void {
    const clock = this.clock;
    clock.read();
    const hi = clock.hi;
    const lo = clock.lo;
    const h = batch.handles;
    for (let i = 0; i < n; i++) {
      const pool = poolOf(h[i]);
      const b = pool.bytes;
      const off = pool.dataOffset(h[i]);
      // an IPv4/UDP test frame (its checksum and payload are --verify's business) with the flag
      if (
        pool.length[h[i] & INDEX_MASK] >= MIN_FRAME &&
        b[off + 12] === 0x08 &&
        b[off + 13] === 0x00 &&
        b[off + ETH_HEADER] === 0x45 &&
        b[off + ETH_HEADER + 9] === 17 &&
        hasSendTime(b, off)
      ) {
        this.interval.record(nsBetween(readSendTimeHi(b, off), readSendTimeLo(b, off), hi, lo));
      } else this.unstamped++;
    }
  }

  /** Adds the interval's counts to the total and returns its summary (then empties it). */
  endInterval(): LatencySummary {
    const s = this.interval.summary();
    this.total.add(this.interval);
    this.interval.reset();
    return s;
  }
}

/** A latency in ns for reports, in µs (ms from 1 ms up), 3 significant digits or more. */
export function formatNs(ns: number): string {
  const us = ns / 1000;
  if (us >= 1000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : us < 100_000 ? 1 : 0)} ms`;
  return `${us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : us.toFixed(0)} µs`;
}

/** One line: `p50 3.21 µs, p99 …, p99.9 …, p99.99 …, max …`. */
export function formatLatency(s: LatencySummary): string {
  return (
    `p50 ${formatNs(s.p50)}, p99 ${formatNs(s.p99)}, p99.9 ${formatNs(s.p999)}, ` +
    `p99.99 ${formatNs(s.p9999)}, max ${formatNs(s.max)}`
  );
}
