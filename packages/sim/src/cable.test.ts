import { existsSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Cable, CABLE_SLOT_SIZE, cablePath } from './cable.js';

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

  it('accepts a zero-filled file as an empty cable', () => {
    const n = name();
    writeFileSync(cablePath(n), new Uint8Array(4096 + 2 * 32 * CABLE_SLOT_SIZE));
    const cable = Cable.open(n, { slots: 256 });
    try {
      expect(cable.slots).toBe(32); // an existing file keeps its geometry
      const a = cable.attach(0);
      expect(a.rx.count).toBe(0);
      expect(a.peerPresent()).toBe(false);
      expect(a.tx.hasRoom()).toBe(true);
    } finally {
      cable.close();
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
      const header = new Int32Array(((cable as unknown as { buffer: ArrayBuffer }).buffer), 0, 32);
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
