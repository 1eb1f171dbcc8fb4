import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * node's arguments that start ixy-fwd as its bin script does (bin/ixy-fwd: `node
 * --no-memory-reducer dist/main.js`), for this process's node: the package exports no main
 * module. `nodeFlags` go before the app's script (e.g. an `--import`), `appArgs` after it.
 */
export function fwdNodeArgs(appArgs: readonly string[], nodeFlags: readonly string[] = []): string[] {
  const main = join(dirname(require.resolve('@ixy/fwd/package.json')), 'dist', 'main.js');
  return ['--no-memory-reducer', ...nodeFlags, main, ...appArgs];
}
