/**
 * Paces a sender to a rate: by time t it may have sent rate × t frames, and it never owes more
 * than `maxOwed`: after a stall (the process was descheduled, the link paused it) the schedule
 * moves on instead of letting the sender catch up in a burst. No allocation; the clock is
 * passed in (milliseconds, e.g. performance.now()), so the arithmetic is testable.
 */
export class Pacer {
  private start: number;
  private sent = 0;

  /**
   * @param perMs frames per millisecond (Mpps × 1000)
   * @param maxOwed the most frames it may be behind the schedule (a batch or two)
   */
  constructor(
    readonly perMs: number,
    readonly maxOwed: number,
    now: number,
  ) {
    if (!(perMs > 0)) throw new RangeError(`rate must be positive, got ${perMs} frames/ms`);
    this.start = now;
  }

  /** Frames that may go now (0 when ahead of the schedule), at most `maxOwed`. */
  allowed(now: number): number {
    let owed = Math.floor((now - this.start) * this.perMs) - this.sent;
    if (owed > this.maxOwed) {
      // forgive what a stall left owing beyond maxOwed
      this.start = now - (this.sent + this.maxOwed) / this.perMs;
      owed = this.maxOwed;
    }
    return owed > 0 ? owed : 0;
  }

  /** Records `n` frames sent. */
  took(n: number): void {
    this.sent += n;
  }

  /** Milliseconds until `want` more frames may go (0 or less: now). */
  dueInMs(now: number, want: number): number {
    return (this.sent + want) / this.perMs - (now - this.start);
  }
}
