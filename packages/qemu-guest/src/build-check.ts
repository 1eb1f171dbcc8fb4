import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function newest(path: string, skip: (name: string) => boolean): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const name of readdirSync(path)) if (!skip(name)) t = Math.max(t, newest(join(path, name), skip));
  return t;
}

/**
 * Code run in the guest is the packages' built dist (the guest has no TypeScript toolchain).
 * Throws, naming the package, when a dist is missing or older than its src/, so a guest test
 * never runs stale code. `pnpm build` at the repo root (and the turbo test task) builds them.
 */
export function assertBuilt(packageDirs: readonly string[], root = process.cwd()): void {
  const stale: string[] = [];
  for (const dir of packageDirs) {
    const src = newest(join(dir, 'src'), (n) => n.endsWith('.test.ts'));
    const dist = newest(join(dir, 'dist'), () => false);
    if (dist === 0) stale.push(`${relative(root, dir) || dir} has no dist/`);
    else if (src > dist) stale.push(`${relative(root, dir) || dir}: dist/ is older than src/`);
  }
  if (stale.length) {
    throw new Error(`guest code must be built first (run 'pnpm build' at the repo root):\n  ${stale.join('\n  ')}`);
  }
}
