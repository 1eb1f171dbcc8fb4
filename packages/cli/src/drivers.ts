import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadDriverPackages } from '@ixy/core';

/** The driver packages every app loads; `--driver` adds more (third-party drivers). */
export const DEFAULT_DRIVERS = ['@ixy/ixgbe', '@ixy/virtio', '@ixy/sim'];

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

/** Loads the default driver packages and `extra` ones; each registers itself with @ixy/core. */
export async function loadDrivers(extra: readonly string[] = []): Promise<void> {
  await loadDriverPackages([...DEFAULT_DRIVERS, ...extra], importDriver);
}
