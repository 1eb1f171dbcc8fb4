// The IxyDevice contract (@ixy/testing) for the virtio driver on the fake devices of
// fake-legacy-virtio-net.ts and fake-modern-virtio-net.ts: pairs wired back to back, opened
// through openDevice with a resolver for `fake-legacy:<pair>:<0|1>` and `fake-modern:...`.
// The QEMU guest runs the same suite against QEMU's devices (guest/conformance-checks.ts).
import { describe, it } from 'vitest';
import { registerResolver, type DeviceAccess } from '@ixy/core';
import { SimulatedMemory } from '@ixy/memory';
import { describeIxyDevice } from '@ixy/testing';
import { FakeAccess, FakeLegacyVirtioNet } from './fake-legacy-virtio-net.js';
import { FakeModernAccess, FakeModernVirtioNet } from './fake-modern-virtio-net.js';
import '../src/index.js';

const FAKE_ADDRESS = /^fake-(legacy|modern):(\w+):([01])$/;
const pairs = new Map<string, { mem: SimulatedMemory; ends: FakeLegacyVirtioNet[] }>();

/** Wires the two fakes of a pair to each other (each with its own MAC), made on first use. */
function fakeEnd(kind: string, name: string, end: number): { mem: SimulatedMemory; model: FakeLegacyVirtioNet } {
  const key = `${kind}:${name}`;
  let pair = pairs.get(key);
  if (!pair) {
    const mem = new SimulatedMemory();
    const make = kind === 'modern' ? () => new FakeModernVirtioNet(mem) : () => new FakeLegacyVirtioNet(mem);
    const ends = [make(), make()];
    ends[1].mac = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x57);
    ends[0].peer = ends[1];
    ends[1].peer = ends[0];
    pair = { mem, ends };
    pairs.set(key, pair);
  }
  return { mem: pair.mem, model: pair.ends[end] };
}

registerResolver({
  name: 'fake-virtio',
  optionNames: [],
  accepts: (address) => FAKE_ADDRESS.test(address),
  resolve(address): DeviceAccess {
    const [, kind, name, end] = FAKE_ADDRESS.exec(address)!;
    const { mem, model } = fakeEnd(kind, name, Number(end));
    return kind === 'modern'
      ? new FakeModernAccess(model as FakeModernVirtioNet, mem, address)
      : new FakeAccess(model, mem, address);
  },
});

let counter = 0;
const omit = {
  allocation:
    'the fakes copy and record every frame (their own allocation would drown the driver’s); the driver’s steady state is measured in the QEMU guest and by bench/ring-loop.ts',
};

for (const kind of ['legacy', 'modern'] as const) {
  describeIxyDevice(
    `virtio on the ${kind} fake`,
    {
      addresses() {
        const name = `p${counter++}`;
        return [`fake-${kind}:${name}:0`, `fake-${kind}:${name}:1`];
      },
      cleanup: () => pairs.clear(),
    },
    { describe, it },
    { omit },
  );
}
