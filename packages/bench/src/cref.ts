import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, '..', 'c', 'cref.c');
const binary = join(here, '..', 'build', 'cref');

/** The compiler flags of the reference: -O2 for a baseline x86-64 (no -march=native). */
export const C_FLAGS = ['-O2', '-std=c11', '-Wall'];

export type CBuild = { ok: true; compiler: string; binary: string } | { ok: false; reason: string };

/**
 * Builds the C reference (c/cref.c) with the system's `cc` (or $CC), unless the binary is newer
 * than the source. Never throws: a missing or failing compiler is a reason, for the caller to
 * print.
 */
export function buildCReference(): CBuild {
  const cc = process.env.CC ?? 'cc';
  const version = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) {
    return {
      ok: false,
      reason: `no C compiler: \`${cc} --version\` failed (${version.error?.message ?? `exit ${version.status}`}); install one (Debian: apt-get install gcc) or set CC`,
    };
  }
  const compiler = version.stdout.split('\n')[0].trim();
  try {
    if (statSync(binary).mtimeMs > statSync(source).mtimeMs) return { ok: true, compiler, binary };
  } catch {
    // not built yet
  }
  mkdirSync(dirname(binary), { recursive: true });
  const built = spawnSync(cc, [...C_FLAGS, '-o', binary, source], { encoding: 'utf8' });
  if (built.error !== undefined || built.status !== 0) {
    return {
      ok: false,
      reason: `\`${cc} ${C_FLAGS.join(' ')} -o ${binary} ${source}\` failed:\n${built.stderr || built.error?.message}`,
    };
  }
  return { ok: true, compiler, binary };
}

/** TSC ticks per ns, measured by the reference against CLOCK_MONOTONIC over 200 ms. */
export function measureTscGhz(build: CBuild): number | undefined {
  if (!build.ok) return undefined;
  const out = spawnSync(build.binary, ['tsc'], { encoding: 'utf8' });
  const ghz = Number(out.stdout.trim());
  return out.status === 0 && ghz > 0 ? ghz : undefined;
}

export interface Round {
  packets: number;
  /** CPU time of the process, ns. */
  cpuNs: number;
  wallNs: number;
}
