import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HistogramLogReader, build } from 'hdr-histogram-js';
import { PacketBatch } from '@ixy/core';
import { Mempool, SimulatedMemory } from '@ixy/memory';
import { MonotonicClock, nsBetween } from '../src/clock.js';
import {
  FrameFault,
  PATTERN_OFFSET,
  STAMPED_PATTERN_OFFSET,
  hasSendTime,
  readSendTimeHi,
  readSendTimeLo,
  readSeq,
  verifyFrame,
  writeFrame,
  writeSendTime,
  writeSeq,
} from '../src/frame.js';
import { Generator } from '../src/generator.js';
import { LATENCY_MAX_NS, LatencyHistogram, LatencyRecorder, formatLatency, formatNs } from '../src/latency.js';
import { Sink } from '../src/sink.js';

const memory = new SimulatedMemory();
const stampOf = (b: Uint8Array, o = 0): bigint => (BigInt(readSendTimeHi(b, o)) << 32n) | BigInt(readSendTimeLo(b, o));

describe('send time stamps', () => {
  it('round-trip exactly: what is read back is the clock reading, past 2^32 and 2^53 too', () => {
    const clock = new MonotonicClock();
    const b = new Uint8Array(128);
    writeFrame(b, 0, 100);
    writeSeq(b, 0, 123_456_789_012);
    clock.read();
    writeSendTime(b, 0, clock.hi, clock.lo);
    expect(stampOf(b)).toBe(clock.ns);
    expect(hasSendTime(b, 0)).toBe(true);
    expect(readSeq(b, 0)).toBe(123_456_789_012); // the flag is not part of the number
    for (const [hi, lo] of [
      [0, 0],
      [0, 0xffff_ffff],
      [1, 0],
      [0x0020_0000, 5], // 2^53 + 5: a reading past 104 days of uptime
      [0xffff_ffff, 0xffff_ffff],
    ]) {
      writeSendTime(b, 0, hi, lo);
      expect([readSendTimeHi(b, 0), readSendTimeLo(b, 0)]).toEqual([hi, lo]);
    }
  });

  it('leave the frame valid, and its payload still checked after the stamp', () => {
    const b = new Uint8Array(128);
    writeFrame(b, 0, 100);
    writeSeq(b, 0, 7);
    expect(hasSendTime(b, 0)).toBe(false);
    writeSendTime(b, 0, 0x1234_5678, 0x9abc_def0);
    expect(verifyFrame(b, 0, 100)).toBe(FrameFault.None);
    b[STAMPED_PATTERN_OFFSET + 1] ^= 1;
    expect(verifyFrame(b, 0, 100)).toBe(FrameFault.BadPayload);
    // an unstamped frame's pattern starts where the stamp would be: still checked there
    writeFrame(b, 0, 100);
    b[PATTERN_OFFSET] ^= 1;
    expect(verifyFrame(b, 0, 100)).toBe(FrameFault.BadPayload);
    // writeSeq clears the flag (a buffer reused without a stamp is an ordinary frame again)
    writeFrame(b, 0, 100);
    writeSendTime(b, 0, 1, 2);
    writeSeq(b, 0, 8);
    expect(hasSendTime(b, 0)).toBe(false);
  });

  it('read CLOCK_MONOTONIC: a reading lies between two process.hrtime.bigint() reads (within the calibration)', () => {
    const clock = new MonotonicClock();
    const slack = BigInt(Math.ceil(clock.uncertaintyNs) + 2);
    for (let i = 0; i < 100; i++) {
      const a = process.hrtime.bigint();
      clock.read();
      const b = process.hrtime.bigint();
      expect(clock.ns >= a - slack && clock.ns <= b + slack, `${a} <= ${clock.ns} <= ${b} ± ${slack}`).toBe(true);
    }
    expect(nsBetween(1, 5, 3, 2)).toBe(2 * 2 ** 32 - 3);
  });

  it('the generator stamps every frame of a batch with one reading, and the sink takes the frames', () => {
    const pool = new Mempool({ allocator: memory, entries: 64 });
    const gen = new Generator(pool, { size: 60, timestamp: true });
    const batch = new PacketBatch(32);
    expect(gen.fill(batch)).toBe(32);
    gen.stamp(batch);
    const t = gen.clock!.ns;
    for (let i = 0; i < 32; i++) {
      const off = pool.dataOffset(batch.handles[i]);
      expect(stampOf(pool.bytes, off)).toBe(t);
      expect(readSeq(pool.bytes, off)).toBe(i);
    }
    const sink = new Sink(32);
    sink.consume(batch);
    expect(sink.summary()).toBe('32 frames, 1920 bytes, 0 bad, 0 lost, 0 duplicated, 0 out of order');
    expect(() => new Generator(pool, { format: 'ixy', timestamp: true })).toThrow(/no room for a send time/);
    expect(() => new Generator(pool).stamp(batch)).toThrow(/carry no send time/);
    pool.close();
  });
});

describe('LatencyHistogram', () => {
  it('puts every value in the bucket HdrHistogram would, so percentiles agree with hdr-histogram-js', () => {
    const ours = new LatencyHistogram();
    const theirs = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: LATENCY_MAX_NS,
      numberOfSignificantValueDigits: 3,
      bitBucketSize: 64,
      useWebAssembly: false,
    });
    let seed = 1;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values = [0, 1, 2047, 2048, 2049, 4095, 4096, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1];
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(random() ** 4 * 2 ** (10 + Math.floor(random() * 32))));
    for (const v of values) {
      ours.record(v);
      theirs.recordValue(v);
    }
    const h = ours.toHdr();
    expect(h.totalCount).toBe(values.length);
    for (const p of [0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100])
      expect(h.getValueAtPercentile(p), `p${p}`).toBe(theirs.getValueAtPercentile(p));
    expect(ours.max).toBe(Math.max(...values));
    const s = ours.summary();
    expect(s.count).toBe(values.length);
    expect(s.p50).toBe(theirs.getValueAtPercentile(50));
    expect(s.p9999).toBe(Math.min(theirs.getValueAtPercentile(99.99), ours.max));
  });

  it('clamps what is beyond its range and counts it; negative values count as 0', () => {
    const h = new LatencyHistogram();
    h.record(2 ** 50);
    h.record(-5);
    expect(h.count).toBe(2);
    expect(h.clamped).toBe(1);
    expect(h.max).toBe(2 ** 50);
    expect(h.toHdr().getValueAtPercentile(0)).toBe(0);
  });

  it('adds, resets, and gives a CCDF that falls to 0 at the max', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) a.record(i * 1000);
    b.record(5_000_000);
    a.add(b);
    expect(a.count).toBe(1001);
    expect(a.max).toBe(5_000_000);
    const ccdf = a.ccdf();
    expect(ccdf[ccdf.length - 1]).toEqual([5_000_000, 0]);
    for (let i = 1; i < ccdf.length; i++) {
      expect(ccdf[i][0]).toBeGreaterThan(ccdf[i - 1][0]);
      expect(ccdf[i][1]).toBeLessThan(ccdf[i - 1][1]);
    }
    b.reset();
    expect(b.count).toBe(0);
    expect(b.counts.every((c) => c === 0)).toBe(true);
  });

  it('writes files HdrHistogram reads: the percentile distribution and the lossless interval log', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 12345; i++) h.record(1000 + (i % 997) * 37);
    const hgrm = h.percentileDistribution();
    expect(hgrm).toMatch(/^\s+Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/);
    expect(/Total count\s*=\s*(\d+)/.exec(hgrm)?.[1]).toBe('12345');
    const log = h.intervalLog(1_700_000_000, 10);
    const decoded = new HistogramLogReader(log).nextIntervalHistogram();
    expect(decoded?.totalCount).toBe(12345);
    expect(decoded?.getValueAtPercentile(99)).toBe(h.toHdr().getValueAtPercentile(99));
  });
});

describe('LatencyRecorder', () => {
  it('records one latency per stamped frame, counts the rest, and frees nothing', () => {
    const pool = new Mempool({ allocator: memory, entries: 128, safe: true });
    const stamped = new Generator(pool, { size: 64, timestamp: true });
    const batch = new PacketBatch(64);
    stamped.fill(batch, 40);
    stamped.stamp(batch);
    const other = new Mempool({ allocator: memory, entries: 32, safe: true });
    const plain = new PacketBatch(24);
    new Generator(other, { size: 64 }).fill(plain);
    for (let i = 0; i < plain.length; i++) batch.handles[batch.length++] = plain.handles[i];
    const rec = new LatencyRecorder();
    rec.record(batch);
    expect(rec.interval.count).toBe(40);
    expect(rec.unstamped).toBe(24);
    const s = rec.endInterval();
    expect(s.count).toBe(40);
    expect(s.p50).toBeGreaterThanOrEqual(0);
    expect(rec.total.count).toBe(40);
    expect(rec.interval.count).toBe(0);
    Mempool.freeBatch(batch); // safe mode: a double free here would throw, so record freed nothing
    pool.close();
    other.close();
  });
});

describe('latency reports', () => {
  it('give µs below a millisecond and ms above, with 3 digits or more', () => {
    expect([999, 3210, 45_600, 999_000, 1_234_000, 56_700_000, 789_000_000].map(formatNs)).toEqual([
      '1.00 µs',
      '3.21 µs',
      '45.6 µs',
      '999 µs',
      '1.23 ms',
      '56.7 ms',
      '789 ms',
    ]);
    expect(formatLatency({ count: 3, p50: 3210, p99: 45_600, p999: 999_000, p9999: 1_234_000, max: 56_700_000 })).toBe(
      'p50 3.21 µs, p99 45.6 µs, p99.9 999 µs, p99.99 1.23 ms, max 56.7 ms',
    );
  });
});

describe('hdr-histogram-js', () => {
  it('is loaded only when a histogram is reported, not when an app imports the package', () => {
    // a fresh process on the built package (as apps import it): importing it, then a report,
    // each followed by whether the library is among the loaded modules
    const latency = new URL('../dist/index.js', import.meta.url).href;
    const script = `
      import { createRequire } from 'node:module';
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('hdr-histogram-js'));
      const { LatencyHistogram } = await import(${JSON.stringify(latency)});
      const before = loaded();
      new LatencyHistogram().toHdr();
      console.log(JSON.stringify([before, loaded()]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual([false, true]);
  });
});
