import { describe, expect, it } from 'vitest';
import { runAll } from '../src/run-all.js';

describe('runAll', () => {
  it('runs every task past the ones that throw, then throws the first error', () => {
    const ran: number[] = [];
    const first = new Error('first');
    expect(() =>
      runAll([
        () => ran.push(1),
        () => {
          ran.push(2);
          throw first;
        },
        () => {
          ran.push(3);
          throw new Error('second');
        },
        () => ran.push(4),
      ]),
    ).toThrow(first);
    expect(ran).toEqual([1, 2, 3, 4]);
  });

  it('returns when no task throws', () => {
    let n = 0;
    runAll([() => n++, () => n++]);
    expect(n).toBe(2);
  });
});
