import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { IxyError } from '@ixy/core';
import type { LatencyHistogram } from '@ixy/traffic';
import { fileError } from './pcap-writer.js';

const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = constants;

/**
 * The file `--latency-histogram` names, opened when the capture starts (a path that cannot be
 * written fails then, not after the run) and written at its end: HdrHistogram's interval log
 * (every bucket, lossless) for a name ending in `.hlog`, its percentile distribution text
 * (`.hgrm`, values in µs) for any other. Opened as the pcap file is: no symbolic link followed,
 * only a regular file.
 */
export class HistogramFile {
  private fd: number;
  readonly format: 'hlog' | 'hgrm';

  constructor(readonly path: string) {
    this.format = path.endsWith('.hlog') ? 'hlog' : 'hgrm';
    try {
      this.fd = openSync(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644);
    } catch (err) {
      throw fileError(path, err, 'write the latency histogram to');
    }
    if (!fstatSync(this.fd).isFile()) {
      closeSync(this.fd);
      this.fd = -1;
      throw new IxyError(
        'EHISTOGRAM',
        `cannot write the latency histogram to ${path}: not a regular file`,
        'give the path of a file (it is created or overwritten)',
      );
    }
  }

  /** Writes the histogram of a run that started at `startMs` (Unix ms) and lasted `seconds`. */
  write(histogram: LatencyHistogram, startMs: number, seconds: number): void {
    const text =
      this.format === 'hlog' ? histogram.intervalLog(startMs / 1000, seconds) : histogram.percentileDistribution();
    const buf = Buffer.from(text);
    try {
      let done = 0;
      while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done);
    } catch (err) {
      throw fileError(this.path, err, 'write the latency histogram to');
    }
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}
