import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Cable } from '@ixy/sim';
import { freshCable } from './helpers.js';

const PEER = fileURLToPath(new URL('./cable-peer.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

// a failed or timed-out test must not leave a peer spinning behind it
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(args: string[]): { child: ChildProcess; done: Promise<Outcome>; ready: Promise<void> } {
  const child = fork(PEER, args, {
    cwd: PACKAGE_DIR,
    execArgv: ['--conditions=@ixy/source', '--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const ready = new Promise<void>((resolve) => child.once('message', () => resolve()));
  const done = new Promise<Outcome>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, output })),
  );
  return { child, done, ready };
}

describe('a cable between two processes', () => {
  it('carries 20000 frames from one process to the other, complete and byte-exact', async () => {
    const cable = freshCable();
    const count = 20_000;
    try {
      const receiver = start(['receive', cable, String(count)]);
      // the receiver discards stale frames when it opens: start sending once it is there
      const first = await Promise.race([receiver.ready.then(() => null), receiver.done]);
      expect(first, `receiver died before it was ready:\n${first?.output}`).toBeNull();
      const sender = start(['send', cable, String(count)]);
      const [r, s] = await Promise.all([receiver.done, sender.done]);
      expect(s.code, `sender: ${s.output}`).toBe(0);
      expect(r.code, `receiver: ${r.output}`).toBe(0);
      expect(s.output).toContain(`send ok ${count}`);
      expect(r.output).toContain(`receive ok ${count}`);
    } finally {
      Cable.remove(cable);
    }
  }, 120_000);
});
