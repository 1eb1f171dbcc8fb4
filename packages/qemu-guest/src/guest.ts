// Helpers for code that runs inside the guest (import '@ixy/qemu-guest/guest'); no QEMU here.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestNic } from './nics.js';

export type { GuestNic, NicModel } from './nics.js';

/** Is this process running inside a @ixy/qemu-guest guest? */
export function inGuest(): boolean {
  return process.env.IXY_GUEST === '1';
}

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: this must run inside the guest (runInGuest)`);
  return value;
}

/** The writable share (the host reads it after the run). */
export function guestShare(): string {
  return need('IXY_GUEST_SHARE');
}

/** The guest's test NICs, in the order of the `nics` option. */
export function guestNics(): GuestNic[] {
  return JSON.parse(readFileSync(need('IXY_GUEST_NICS_FILE'), 'utf8')) as GuestNic[];
}

/** Writes `<share>/<name>.json` (atomically); the host reads it with readGuestResult(). */
export function writeGuestResult(name: string, value: unknown): string {
  const path = join(guestShare(), `${name}.json`);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return path;
}
