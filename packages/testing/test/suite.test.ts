// The suite's own shape (the drivers' test files run it for real: @ixy/ixgbe on the 82599
// model, @ixy/virtio on its fakes and in the QEMU guest).
import { describe, expect, it } from 'vitest';
import { conformanceCases, describeIxyDevice, type ConformanceTarget } from '../src/index.js';

const target: ConformanceTarget = { addresses: () => ['a', 'b'] };

describe('the conformance suite', () => {
  it('has one case per part of the contract, each with its own id and name', () => {
    const cases = conformanceCases(target);
    expect(cases.map((c) => c.id)).toEqual([
      'identity',
      'link',
      'rxtx',
      'partial',
      'bad-frame',
      'no-pool',
      'not-owned',
      'stats',
      'promisc',
      'mac',
      'rx-pool',
      'queues',
      'options',
      'close',
      'allocation',
    ]);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it('leaves out only the cases a target omits, with a reason', () => {
    const ids = conformanceCases(target, { omit: { allocation: 'the model allocates' } }).map((c) => c.id);
    expect(ids).not.toContain('allocation');
    expect(ids).toHaveLength(14);
  });

  it('registers a describe with one test per case, with the timeout asked for', () => {
    const seen: string[] = [];
    describeIxyDevice(
      'x',
      target,
      {
        describe: (name, body) => {
          seen.push(`describe ${name}`);
          body();
        },
        it: (name, _body, timeout) => seen.push(`it ${name} ${timeout}`),
      },
      { testTimeoutMs: 1234 },
    );
    expect(seen[0]).toBe('describe x: the IxyDevice contract');
    expect(seen).toHaveLength(16);
    expect(seen[1]).toMatch(/^it says what it is.* 1234$/);
  });
});
