import { chmodSync, existsSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Cable, CABLE_SLOT_SIZE, cablePath } from '../src/cable.js';

const names: string[] = [];
function name(): string {
  const n = `cable-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  names.push(n);
  return n;
}
afterEach(() => {
  for (const n of names.splice(0)) Cable.remove(n);
});

describe('Cable', () => {
  it('lives in a shared-memory file and carries frames both ways', () => {
    const n = name();
    const cable = Cable.open(n, { slots: 16 });
    try {
      expect(existsSync(cablePath(n))).toBe(true);
      const a = cable.attach(0);
      const b = cable.attach(1);
      expect(a.tx.send(Uint8Array.of(1, 2, 3))).toBe(true);
      expect(b.tx.send(Uint8Array.of(9))).toBe(true);
      expect(b.rx.receive()).toEqual(Uint8Array.of(1, 2, 3));
      expect(b.rx.receive()).toBeNull();
      expect(a.rx.receive()).toEqual(Uint8Array.of(9));
    } finally {
      cable.close();
    }
  });

  it('creates its file exclusively, mode 0600, whole and marked; an existing cable keeps its geometry', () => {
    const n = name();
    const first = Cable.open(n, { slots: 32 });
    const st = statSync(cablePath(n));
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.size).toBe(4096 + 2 * 32 * CABLE_SLOT_SIZE);
    expect(st.blocks * 512).toBeGreaterThanOrEqual(st.size); // reserved, not sparse
    first.close();
    const a = Cable.open(n, { slots: 32 });
    const b = Cable.open(n, { slots: 256 }); // the same mapping in this process
    expect(b.slots).toBe(32);
    a.close();
    b.close();
  });

  it('refuses files it did not make: planted, a symbolic link, open to others, the wrong size', () => {
    const planted = name();
    writeFileSync(cablePath(planted), new Uint8Array(4096 + 2 * 32 * CABLE_SLOT_SIZE), { mode: 0o600 });
    expect(() => Cable.open(planted)).toThrow(/does not carry the cable mark/);
    const open = name();
    writeFileSync(cablePath(open), new Uint8Array(16), { mode: 0o666 });
    chmodSync(cablePath(open), 0o666);
    expect(() => Cable.open(open)).toThrow(/can be opened by other users \(mode 666\)/);
    const small = name();
    writeFileSync(cablePath(small), new Uint8Array(100), { mode: 0o600 });
    expect(() => Cable.open(small)).toThrow(/has 100 bytes, not the size of a cable/);
    const link = name();
    const target = join(tmpdir(), `ixy-cable-target-${process.pid}`);
    writeFileSync(target, 'precious');
    symlinkSync(target, cablePath(link));
    try {
      expect(() => Cable.open(link)).toThrow(/is a symbolic link/);
      expect(readFileSync(target, 'utf8')).toBe('precious'); // untouched
      const dangling = name();
      symlinkSync(join(tmpdir(), `ixy-cable-missing-${process.pid}`), cablePath(dangling));
      expect(() => Cable.open(dangling)).toThrow(/is a symbolic link/);
      expect(existsSync(join(tmpdir(), `ixy-cable-missing-${process.pid}`))).toBe(false); // nothing created there
    } finally {
      unlinkSync(target);
    }
    // the message says what to do
    try {
      Cable.open(planted);
    } catch (err) {
      expect((err as { hint?: string }).hint).toMatch(/remove it \(rm .*\) or use another cable name/);
    }
  });

  it('shows whether the peer is attached', () => {
    const n = name();
    const cable = Cable.open(n, { slots: 16 });
    try {
      const a = cable.attach(0);
      expect(a.peerPresent(true)).toBe(false);
      const b = cable.attach(1);
      expect(a.peerPresent(true)).toBe(true);
      expect(() => cable.attach(1)).toThrow(/already open/);
      b.detach();
      expect(a.peerPresent()).toBe(false);
      expect(b.peerPresent()).toBe(false);
    } finally {
      cable.close();
    }
  });

  it('discards stale frames in the receive direction when an end opens', () => {
    const n = name();
    const cable = Cable.open(n, { slots: 16 });
    try {
      const a = cable.attach(0);
      a.tx.send(Uint8Array.of(1));
      a.tx.send(Uint8Array.of(2));
      const b = cable.attach(1);
      expect(b.rx.receive()).toBeNull();
      a.tx.send(Uint8Array.of(3));
      expect(b.rx.receive()).toEqual(Uint8Array.of(3));
    } finally {
      cable.close();
    }
  });

  it('takes over an end left by a process that is gone', () => {
    const n = name();
    const cable = Cable.open(n, { slots: 16 });
    try {
      // a pid that cannot be alive: above the kernel's pid_max
      const header = new Int32Array((cable as unknown as { buffer: ArrayBuffer }).buffer, 0, 32);
      header[16] = 0x3fffffff;
      const a = cable.attach(0);
      expect(a.peerPresent()).toBe(true); // the cheap check sees a holder
      expect(a.peerPresent(true)).toBe(false); // the OS says it is gone
      const b = cable.attach(1);
      expect(b.end).toBe(1);
    } finally {
      cable.close();
    }
  });

  it('fills up: a full direction refuses frames until the receiver takes some', () => {
    const n = name();
    const cable = Cable.open(n, { slots: 16 });
    try {
      const a = cable.attach(0);
      const b = cable.attach(1);
      for (let i = 0; i < 16; i++) expect(a.tx.send(Uint8Array.of(i))).toBe(true);
      expect(a.tx.send(Uint8Array.of(99))).toBe(false);
      expect(a.tx.hasRoom()).toBe(false);
      expect(b.rx.receive()).toEqual(Uint8Array.of(0));
      expect(a.tx.send(Uint8Array.of(16))).toBe(true);
      for (let i = 1; i <= 16; i++) expect(b.rx.receive()).toEqual(Uint8Array.of(i));
      // indices wrap freely: many rounds through the ring
      for (let i = 0; i < 1000; i++) {
        a.tx.send(Uint8Array.of(i & 0xff, i >> 8));
        expect(b.rx.receive()).toEqual(Uint8Array.of(i & 0xff, i >> 8));
      }
      expect(() => a.tx.send(new Uint8Array(CABLE_SLOT_SIZE))).toThrow(RangeError);
    } finally {
      cable.close();
    }
  });

  it('rejects bad names and sizes', () => {
    expect(() => cablePath('../etc')).toThrow(/not a cable name/);
    expect(() => Cable.open(`bad-${process.pid}`, { slots: 100 })).toThrow(/power of two/);
  });

  it('maps one file once per process and unmaps it with the last user', () => {
    const n = name();
    const c1 = Cable.open(n, { slots: 16 });
    const c2 = Cable.open(n);
    expect(c2).toBe(c1);
    c1.close();
    const a = c2.attach(0);
    a.tx.send(Uint8Array.of(5));
    expect(statSync(cablePath(n)).size).toBe(4096 + 2 * 16 * CABLE_SLOT_SIZE);
    c2.close();
    // unplugged at both ends: nothing stays behind
    expect(existsSync(cablePath(n))).toBe(false);
  });
});

describe("a peer's memory is input", () => {
  /** The ring's index words, as a hostile peer sees them: head at word 0, tail at word 16. */
  function indexWords(cable: Cable, dir: 0 | 1): Int32Array {
    const buffer = (cable as unknown as { buffer: ArrayBuffer }).buffer;
    return new Int32Array(buffer, dir === 0 ? 256 : 384, 32);
  }

  it('a tail moved past the ring delivers no phantom frame: the ring is broken and the link goes down', () => {
    const n = name();
    const cable = Cable.open(n);
    const tx = cable.attach(0);
    const rx = cable.attach(1);
    expect(tx.tx.send(Uint8Array.of(1, 2, 3))).toBe(true);
    expect(rx.rx.receive()).toEqual(Uint8Array.of(1, 2, 3));
    Atomics.add(indexWords(cable, 0), 16, 1000); // the "producer" claims 1000 frames in 256 slots
    expect(rx.rx.receive()).toBeNull();
    expect(rx.broken).toMatch(/tail .* ahead of the head/);
    expect(rx.peerPresent()).toBe(false);
    // and it stays broken: no frame is taken from it again
    Atomics.sub(indexWords(cable, 0), 16, 1000);
    expect(tx.tx.send(Uint8Array.of(4))).toBe(true);
    expect(rx.rx.receive()).toBeNull();
    tx.detach();
    rx.detach();
    cable.close();
  });

  it('a head moved backwards does not let the producer overwrite unread slots', () => {
    const n = name();
    const cable = Cable.open(n, { slots: 16 });
    const tx = cable.attach(0);
    cable.attach(1);
    for (let i = 0; i < 16; i++) expect(tx.tx.send(Uint8Array.of(i))).toBe(true);
    Atomics.sub(indexWords(cable, 0), 0, 100); // the "consumer" rewinds its head
    expect(tx.tx.send(Uint8Array.of(99))).toBe(false);
    expect(tx.broken).toMatch(/head .* behind the tail/);
    expect(tx.peerPresent()).toBe(false);
    cable.close();
  });

  it('fuzz: corruption of the shared indices and lengths: every frame read lies in the ring, no length beyond a slot, and each forged tail yields at most a ring of stale frames', () => {
    // a fixed pseudo-random sequence (a linear congruential generator): the same cases every run
    let state = 0x12345678;
    const next = (): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state >>> 24;
    };
    for (let round = 0; round < 200; round++) {
      const n = name();
      const cable = Cable.open(n, { slots: 16 });
      const tx = cable.attach(0);
      const rx = cable.attach(1);
      const words = indexWords(cable, 0);
      const ring = rx.rx;
      let sent = 0;
      let got = 0;
      let forgedTails = 0;
      for (let step = 0; step < 60; step++) {
        const r = next();
        if (r < 100 && tx.tx.send(new Uint8Array(1 + (r % 60)))) sent++;
        else if (r < 110) {
          // a garbage index: the tail (word 16) or the head (word 0)
          if (r & 1) forgedTails++;
          Atomics.store(words, r & 1 ? 16 : 0, (next() << 24) | next());
        } else if (r < 120) ring.words[((r % 16) * CABLE_SLOT_SIZE) >>> 2] = 0xffffffff; // a garbage length
        const at = ring.peek();
        if (at >= 0) {
          expect(at).toBeLessThan(ring.data.length);
          expect(ring.peekLength()).toBeLessThanOrEqual(ring.maxFrame);
          ring.release();
          ring.commit();
          got++;
        }
      }
      // a forged tail within the ring's reach passes for up to 16 stale frames; beyond it the
      // ring is broken and yields nothing more
      expect(got).toBeLessThanOrEqual(sent + 16 * forgedTails);
      cable.close();
    }
  });
});
