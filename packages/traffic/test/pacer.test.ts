import { describe, expect, it } from 'vitest';
import { Pacer } from '../src/pacer.js';

describe('Pacer', () => {
  it('allows rate × time, never more', () => {
    const p = new Pacer(1, 64, 0); // 1 frame per ms
    expect(p.allowed(0)).toBe(0);
    expect(p.allowed(10.5)).toBe(10);
    p.took(10);
    expect(p.allowed(10.5)).toBe(0);
    expect(p.dueInMs(10.5, 1)).toBeCloseTo(0.5);
    expect(p.allowed(20)).toBe(10);
  });

  it('after a stall, owes at most maxOwed: no catch-up burst, and the rate holds from there', () => {
    const p = new Pacer(2, 64, 0); // 2 frames per ms, at most 2 batches of 32 owed
    p.took(p.allowed(10)); // 20
    // a 1-second stall: 2000 frames "owed", but only 64 may go at once
    expect(p.allowed(1010)).toBe(64);
    p.took(64);
    expect(p.allowed(1010)).toBe(0);
    // from there on the rate is the rate again: 10 ms later, 20 more
    expect(p.allowed(1020)).toBe(20);
    // over any window, sent ≤ rate × window + maxOwed
    let sent = 0;
    const q = new Pacer(1, 32, 0);
    for (let t = 0; t <= 1000; t += 7) {
      const n = q.allowed(t);
      q.took(n);
      sent += n;
    }
    expect(sent).toBeLessThanOrEqual(1000 + 32);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new Pacer(0, 1, 0)).toThrow(RangeError);
  });
});
