import { IxyError } from './errors.js';

/**
 * Loads driver packages by name; each registers its drivers (and resolvers) with this
 * registry when imported. Apps pass their own `import` so packages resolve from the app:
 *
 *   await loadDriverPackages(['@ixy/ixgbe', 'my-nic-driver'], (s) => import(s));
 *
 * A missing package is an IxyError that says how to install it.
 */
export async function loadDriverPackages(
  specifiers: readonly string[],
  load: (specifier: string) => Promise<unknown>,
): Promise<void> {
  for (const specifier of specifiers) {
    try {
      await load(specifier);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(specifier)) {
        throw new IxyError(
          'ENODRIVERPKG',
          `driver package '${specifier}' is not installed`,
          `install it: npm install ${specifier}`,
        );
      }
      throw err;
    }
  }
}
