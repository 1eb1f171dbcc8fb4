// Who holds a cable end, and who has a cable open, is what the kernel's locks on the cable
// file say, not a pid in shared memory: a forged or stale mark changes nothing, a crashed
// holder frees its end, and the file is deleted only when no process has it open.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Cable, cablePath } from '../src/index.js';

const HOLDER = fileURLToPath(new URL('./fixtures/cable-holder.ts', import.meta.url));
const PKG = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];
const names: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const n of names.splice(0)) Cable.remove(n);
});

function fresh(): string {
  const n = `locks-${process.pid}-${randomBytes(4).toString('hex')}`;
  names.push(n);
  return n;
}

async function holder(name: string, end: '0' | '1' | '-'): Promise<ChildProcess> {
  const child = fork(HOLDER, [name, end], {
    cwd: PKG,
    execArgv: ['--conditions=@ixy/source', '--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`holder exited (${code}): ${err}`)));
  });
  return child;
}

const exited = (c: ChildProcess): Promise<void> =>
  new Promise((resolve) =>
    c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve()),
  );

describe('cable locks', () => {
  it('an end another process holds stays taken even when its mark in shared memory is forged', async () => {
    const n = fresh();
    const other = await holder(n, '1');
    const cable = Cable.open(n);
    try {
      const header = new Int32Array((cable as unknown as { buffer: ArrayBuffer }).buffer, 0, 32);
      expect(header[16]).toBe(other.pid);
      header[16] = 0; // a hostile peer (or another PID namespace) erases the mark
      expect(() => cable.attach(1)).toThrow(/end 1 of cable .* is open in another process or thread/);
      expect(cable.isAttached(1, true)).toBe(true);
      // the holder dies without closing: the kernel drops its lock, the end is free
      other.kill('SIGKILL');
      await exited(other);
      expect(cable.isAttached(1, true)).toBe(false);
      const end = cable.attach(1);
      expect(end.isOpen).toBe(true);
    } finally {
      cable.close();
    }
  }, 30_000);

  it('a mark naming a live process (pid 1) does not block an end nobody locked', () => {
    const n = fresh();
    const cable = Cable.open(n);
    const header = new Int32Array((cable as unknown as { buffer: ArrayBuffer }).buffer, 0, 32);
    header[0] = 1; // "end 0 is held by init"
    expect(cable.attach(0).isOpen).toBe(true);
    cable.close();
  });

  it('the file is deleted by the last process to close it, not while another has it open', async () => {
    const n = fresh();
    const other = await holder(n, '-');
    const cable = Cable.open(n);
    cable.attach(0);
    cable.close();
    expect(existsSync(cablePath(n)), 'deleted while another process had it open').toBe(true);
    other.send('close');
    await exited(other);
    expect(existsSync(cablePath(n))).toBe(false);
  }, 30_000);
});
