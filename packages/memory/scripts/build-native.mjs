#!/usr/bin/env node
// Install and build step of the native addon.
// - As the package's `install` script (npm or pnpm installing @ixy/memory or @ixy/pci): the
//   usual node-gyp-build install step — if a binary loads (a prebuild in prebuilds/ made for
//   this platform and libc, or an earlier build), nothing is compiled; only when none fits does
//   it build with node-gyp. Published packages carry prebuilds for linux-x64 (glibc), so users
//   need no compiler and no Python.
// - As `build` in the repository: builds with node-gyp against the running Node's own headers
//   when they are installed (offline: node-gyp would otherwise download them, and pnpm and
//   turbo do not pass npm's `nodedir` setting on). Skips the build when build/Release is current.
// - `--prebuild`: the release flow's prebuilds (prebuildify, N-API: one binary per platform).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// the package being built: the current directory (npm and pnpm run scripts in the package's
// directory), so packages that depend on @ixy/memory build their addons with its `ixy-build-native`
const pkgDir = process.cwd();
const requireHere = createRequire(join(pkgDir, 'package.json'));

if (process.env.npm_lifecycle_event === 'install') {
  // In the ixy-ts repository the workspace build (turbo, from the root's postinstall) builds the
  // addon; building here too would race it in the same directory.
  if (existsSync(join(pkgDir, '..', '..', 'pnpm-workspace.yaml'))) process.exit(0);
  try {
    requireHere('node-gyp-build')(pkgDir); // throws when no prebuild or build fits
    process.exit(0);
  } catch {
    console.warn(`build-native: no prebuilt binary fits ${process.platform}-${process.arch}; compiling with node-gyp`);
  }
}

const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..')];
const nodedir = candidates.find((d) => d && existsSync(join(d, 'include', 'node', 'node_api.h')));

// `ixy-build-native --prebuild`: prebuilds/<platform>-<arch>/<name>.node for publishing, made by
// prebuildify (N-API: one binary for every Node version), with the same local headers.
if (process.argv.includes('--prebuild')) {
  const prebuildify = requireHere.resolve('prebuildify/bin.js');
  const env = { ...process.env, ...(nodedir ? { npm_config_nodedir: nodedir } : {}) };
  const r = spawnSync(process.execPath, [prebuildify, '--napi', '--strip', '--tag-libc'], {
    cwd: pkgDir,
    stdio: 'inherit',
    env,
  });
  process.exit(r.status ?? 1);
}

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}

const out = join(pkgDir, 'build', 'Release');
// the package's own sources, and @ixy/memory's native/ (ixy-native.h, which both addons include)
const shared = fileURLToPath(new URL('../native', import.meta.url));
const sources = [join(pkgDir, 'binding.gyp'), join(pkgDir, 'native'), ...(existsSync(shared) ? [shared] : [])];
const addon = existsSync(out) ? readdirSync(out).find((f) => f.endsWith('.node')) : undefined;
if (addon && newest(join(out, addon)) >= Math.max(...sources.map(newest))) process.exit(0);
let command = 'node-gyp'; // npm puts its own node-gyp on PATH for install scripts
let args = ['rebuild'];
try {
  args = [requireHere.resolve('node-gyp/bin/node-gyp.js'), 'rebuild'];
  command = process.execPath;
} catch {
  // no node-gyp of our own: use the one npm puts on PATH
}
if (nodedir) args.push(`--nodedir=${nodedir}`);
else console.warn('build-native: no local Node headers found; node-gyp will try to download them');
const r = spawnSync(command, args, { cwd: pkgDir, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`build-native: node-gyp failed in ${pkgDir} (exit ${r.status ?? r.signal})`);
  process.exit(1);
}
