#!/usr/bin/env node
// Install and build step of the native addon: keeps a prebuilt binary (prebuilds/) when
// there is one, else builds with node-gyp against the running Node's own headers when they
// are installed (offline; node-gyp would otherwise download them, and pnpm and turbo do not
// pass npm's `nodedir` setting on). Skips the build when build/Release is current.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

// the package being built: the current directory (npm and pnpm run scripts in the package's
// directory), so packages that depend on @ixy/memory build their addons with its `ixy-build-native`
const pkgDir = process.cwd();

// In the ixy-ts repository the workspace build (turbo, from the root's postinstall) builds the
// addon; building here too would race it in the same directory.
if (process.env.npm_lifecycle_event === 'install' && existsSync(join(pkgDir, '..', '..', 'pnpm-workspace.yaml'))) {
  process.exit(0);
}
const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..')];
const nodedir = candidates.find((d) => d && existsSync(join(d, 'include', 'node', 'node_api.h')));

// `ixy-build-native --prebuild`: prebuilds/<platform>-<arch>/<name>.node for publishing, made by
// prebuildify (N-API: one binary for every Node version), with the same local headers.
if (process.argv.includes('--prebuild')) {
  const prebuildify = createRequire(join(pkgDir, 'package.json')).resolve('prebuildify/bin.js');
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
const sources = [join(pkgDir, 'binding.gyp'), join(pkgDir, 'native')];
const addon = existsSync(out) ? readdirSync(out).find((f) => f.endsWith('.node')) : undefined;
if (addon && newest(join(out, addon)) >= Math.max(...sources.map(newest))) process.exit(0);
const prebuilt = join(pkgDir, 'prebuilds', `${process.platform}-${process.arch}`);
if (!addon && !existsSync(sources[1]) && existsSync(prebuilt)) process.exit(0);

let command = 'node-gyp'; // npm puts its own node-gyp on PATH for install scripts
let args = ['rebuild'];
try {
  args = [createRequire(join(pkgDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js'), 'rebuild'];
  command = process.execPath;
} catch {}
if (nodedir) args.push(`--nodedir=${nodedir}`);
else console.warn('build-native: no local Node headers found; node-gyp will try to download them');
const r = spawnSync(command, args, { cwd: pkgDir, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`build-native: node-gyp failed in ${pkgDir} (exit ${r.status ?? r.signal})`);
  process.exit(1);
}
