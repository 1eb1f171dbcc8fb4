import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
 * The node_modules directories an ES module import searches from `dir`: one per ancestor, as
 * Node walks up (NODE_PATH and the global folders count only for require, so not here).
 */
function nodeModulesUp(dir: string): string[] {
  const found: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (basename(at) !== 'node_modules') found.push(join(at, 'node_modules'));
    if (dirname(at) === at) return found;
  }
}

/** The npm keyword that makes an installed package a driver every app loads. */
export const DRIVER_KEYWORD = 'ixy-driver';

/**
 * Driver packages installed where an app runs: every package in the node_modules directories
 * that an import would search from `from` (default: the current directory and this package's own
 * place, so a global install counts too) whose package.json lists the keyword "ixy-driver".
 * Returns their names and directories, our default drivers left out.
 */
export function installedDriverPackages(
  from: readonly string[] = [process.cwd(), fileURLToPath(new URL('.', import.meta.url))],
): { name: string; dir: string }[] {
  const found = new Map<string, string>(); // name -> directory, the nearest install wins
  const searched = new Set<string>();
  for (const start of from) {
    for (const modules of nodeModulesUp(start)) {
      if (searched.has(modules) || !existsSync(modules)) continue;
      searched.add(modules);
      const entries = readdirSync(modules).flatMap((name) =>
        name.startsWith('@') ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`) : [name],
      );
      for (const name of entries) {
        if (found.has(name) || DEFAULT_DRIVERS.includes(name)) continue;
        let pkg: { keywords?: unknown };
        try {
          pkg = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')) as typeof pkg;
        } catch {
          continue; // not a package (.bin, .pnpm, a half-installed one)
        }
        if (Array.isArray(pkg.keywords) && pkg.keywords.includes(DRIVER_KEYWORD)) {
          found.set(name, join(modules, name));
        }
      }
    }
  }
  return [...found].map(([name, dir]) => ({ name, dir }));
}

/**
 * Loads the default driver packages, the driver packages installed (installedDriverPackages:
 * a broken one is a warning, not the end of the app), and `extra` ones (--driver); each
 * registers itself with @ixy/core. An extra package that fails to load, or that registers no
 * driver, is an error.
 */
export async function loadDrivers(extra: readonly string[] = [], installed = installedDriverPackages()): Promise<void> {
  await loadDriverPackages(DEFAULT_DRIVERS, importDriver);
  for (const { name, dir } of installed) {
    if (extra.includes(name)) continue; // --driver names it: loaded below, where failing is an error
    try {
      await loadDriverPackages([driverSpecifier(dir)], importDriver);
    } catch (err) {
      process.emitWarning(
        `the installed driver package in ${dir} failed to load, left out: ${(err as Error).message}`,
        {
          code: 'IXY_DRIVER_LOAD',
        },
      );
    }
  }
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
