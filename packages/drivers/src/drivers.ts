import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IxyError, loadDriverPackages, registeredDrivers } from '@ixy/core';

/**
 * The packages every app loads: the buses (`@ixy/pci` resolves PCI addresses, `@ixy/sim`
 * simulated ports and opens them with the card driver) and the drivers. `--driver` adds more
 * (third-party drivers).
 */
export const DEFAULT_DRIVERS = ['@ixy/pci', '@ixy/sim', '@ixy/ixgbe', '@ixy/virtio'];

/**
 * Imports a driver package: ours resolve from here (they are this package's dependencies),
 * third-party ones from the current directory's node_modules.
 */
async function importDriver(specifier: string): Promise<unknown> {
  try {
    return await import(specifier);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    let resolved: string;
    try {
      resolved = createRequire(join(process.cwd(), 'package.json')).resolve(specifier);
    } catch {
      throw err;
    }
    return import(pathToFileURL(resolved).href);
  }
}

/** An npm package name (`my-nic`, `@me/my-nic`), optionally with a subpath. */
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(\/[a-z0-9._~-]+)*$/i;

/**
 * What `--driver` accepts: a package name, or an explicit path (starting with /, ./ or ../)
 * to a directory with a package.json. Returns what to import; anything else (a path to a
 * file, '../../etc/passwd') is refused before anything is imported.
 */
export function driverSpecifier(spec: string): string {
  const refuse = (why: string): IxyError =>
    new IxyError(
      'EDRIVERSPEC',
      `--driver '${spec}': ${why}`,
      'give a package name (my-nic-driver, @me/my-nic) or the path of a directory with a package.json (./my-nic-driver)',
    );
  if (isAbsolute(spec) || spec.startsWith('./') || spec.startsWith('../')) {
    const dir = resolve(spec);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw refuse('not a directory');
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) throw refuse('the directory has no package.json');
    let pkg: { main?: string; exports?: unknown };
    try {
      pkg = JSON.parse(readFileSync(manifest, 'utf8')) as typeof pkg;
    } catch {
      throw refuse('its package.json is not valid JSON');
    }
    const dot =
      typeof pkg.exports === 'object' && pkg.exports !== null
        ? (pkg.exports as Record<string, unknown>)['.']
        : pkg.exports;
    const entry =
      typeof dot === 'string'
        ? dot
        : typeof dot === 'object' && dot !== null
          ? ((dot as Record<string, unknown>).import ?? (dot as Record<string, unknown>).default)
          : undefined;
    const file = resolve(dir, typeof entry === 'string' ? entry : (pkg.main ?? 'index.js'));
    if (!file.startsWith(dir + '/') || !existsSync(file))
      throw refuse(`its entry point ${file} is not a file inside it`);
    return pathToFileURL(file).href;
  }
  if (!PACKAGE_NAME.test(spec)) throw refuse('not a package name');
  return spec;
}

/**
 * Loads the default driver packages and `extra` ones; each registers itself with @ixy/core.
 * An extra package that fails to load, or that registers no driver, is an error.
 */
export async function loadDrivers(extra: readonly string[] = []): Promise<void> {
  await loadDriverPackages(DEFAULT_DRIVERS, importDriver);
  for (const spec of extra) {
    const specifier = driverSpecifier(spec);
    const before = registeredDrivers().length;
    try {
      await loadDriverPackages([specifier], importDriver);
    } catch (err) {
      if (err instanceof IxyError) throw err;
      throw new IxyError(
        'EDRIVERLOAD',
        `driver package '${spec}' failed to load: ${(err as Error).message}`,
        'check the package: it must import without errors',
        { cause: err },
      );
    }
    if (registeredDrivers().length === before) {
      throw new IxyError(
        'ENODRIVER',
        `driver package '${spec}' registered no driver`,
        'a driver package calls registerDriver() from @ixy/core when it is imported (or it was loaded already)',
      );
    }
  }
}
