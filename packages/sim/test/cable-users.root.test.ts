// Tier 2 (root): a cable between two local users is refused in both directions, with a hint
// that does not say "run as root". A second user is played by uid 65534 (setpriv).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cable, cablePath } from '../src/index.js';

const NOBODY = '65534';
const pkg = fileURLToPath(new URL('..', import.meta.url));
const names: string[] = [];
afterEach(() => {
  for (const n of names.splice(0)) Cable.remove(n);
});

beforeAll(() => {
  if (process.getuid?.() !== 0)
    throw new Error('the two-user cable tests need root (to act as a second user with setpriv): run them as root');
  const probe = spawnSync('setpriv', ['--reuid', NOBODY, '--regid', NOBODY, '--clear-groups', 'true']);
  if (probe.status !== 0)
    throw new Error(`setpriv cannot switch to uid ${NOBODY}: ${probe.stderr?.toString() ?? probe.error}`);
  const read = spawnSync('setpriv', [
    '--reuid',
    NOBODY,
    '--regid',
    NOBODY,
    '--clear-groups',
    'test',
    '-r',
    `${pkg}dist/index.js`,
  ]);
  if (read.status !== 0)
    throw new Error(
      `uid ${NOBODY} cannot read ${pkg}dist: the repository must be readable by other users for this test`,
    );
});

/** Opens cable `name` end `end` as uid 65534 in a child (built dist), and prints the outcome. */
function asNobody(name: string, end: 0 | 1, group?: number): { status: number | null; out: string } {
  const script = `
    import('${pkg}dist/index.js').then(({ Cable }) => {
      try { const c = Cable.open(${JSON.stringify(name)}, ${JSON.stringify(group === undefined ? {} : { group })}); c.attach(${end}); console.log('opened'); c.close(); }
      catch (e) { console.log(e.code + ': ' + e.message + ' | hint: ' + e.hint); process.exitCode = 3; }
    });`;
  const r = spawnSync(
    'setpriv',
    ['--reuid', NOBODY, '--regid', NOBODY, '--clear-groups', process.execPath, '-e', script],
    { encoding: 'utf8', cwd: '/tmp' },
  );
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('cables between two users (root)', () => {
  it("another user cannot open root's cable (0600), and the hint does not say to run as root", () => {
    const n = `users-${process.pid}-${randomBytes(3).toString('hex')}`;
    names.push(n);
    const mine = Cable.open(n);
    mine.attach(0);
    const r = asNobody(n, 1);
    expect(r.status, r.out).toBe(3);
    expect(r.out).toMatch(/EACCES: .* belongs to another user/);
    expect(r.out).not.toMatch(/root/);
    mine.close();
  });

  it('root does not adopt a cable another user made (a hijack): refused, with the owner named', () => {
    const n = `hijack-${process.pid}-${randomBytes(3).toString('hex')}`;
    names.push(n);
    // nobody makes the cable and leaves (a crash leaves the file behind)
    const script = `import('${pkg}dist/index.js').then(({ Cable }) => { const c = Cable.open(${JSON.stringify(n)}); c.attach(0); process.exit(0); });`;
    const made = spawnSync(
      'setpriv',
      ['--reuid', NOBODY, '--regid', NOBODY, '--clear-groups', process.execPath, '-e', script],
      { encoding: 'utf8', cwd: '/tmp' },
    );
    expect(made.status, made.stderr).toBe(0);
    expect(() => Cable.open(n)).toThrow(new RegExp(`${cablePath(n)} belongs to uid ${NOBODY}, not to this user`));
  });

  it('shares a cable with a group only when both sides opt in with that group', () => {
    const n = `group-${process.pid}-${randomBytes(3).toString('hex')}`;
    names.push(n);
    const shared = Cable.open(n, { group: Number(NOBODY) }); // root, sharing with gid 65534
    shared.attach(0);
    const st = statSync(cablePath(n));
    expect(st.gid).toBe(Number(NOBODY));
    expect(st.mode & 0o777).toBe(0o660);
    // without the opt-in, the other user still refuses root's cable
    const refused = asNobody(n, 1);
    expect(refused.status, refused.out).toBe(3);
    expect(refused.out).toMatch(/belongs to uid 0, not to this user/);
    // with it, the other user (in gid 65534) takes the other end
    const joined = asNobody(n, 1, Number(NOBODY));
    expect(joined.status, joined.out).toBe(0);
    expect(joined.out).toContain('opened');
    shared.close();
  });
});
