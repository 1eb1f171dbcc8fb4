import { describe, expect, it } from 'vitest';
import { registeredDrivers, registeredResolvers } from '@ixy/core';
import { DEFAULT_DRIVERS, loadDrivers } from '../src/index.js';

describe('the default drivers', () => {
  it('are the PCI and simulated-port buses and the ixgbe and virtio drivers', async () => {
    expect(DEFAULT_DRIVERS).toEqual(['@ixy/pci', '@ixy/sim', '@ixy/ixgbe', '@ixy/virtio']);
    await loadDrivers();
    expect(registeredResolvers().map((r) => r.name)).toEqual(expect.arrayContaining(['pci', 'sim']));
    expect(registeredDrivers().map((d) => d.name)).toEqual(expect.arrayContaining(['sim-port', 'ixgbe', 'virtio']));
  });
});

describe('--driver packages', () => {
  it('takes package names and directories with a package.json, and nothing else', async () => {
    const { driverSpecifier, loadDrivers } = await import('../src/drivers.js');
    expect(driverSpecifier('my-nic-driver')).toBe('my-nic-driver');
    expect(driverSpecifier('@me/my-nic')).toBe('@me/my-nic');
    for (const bad of [
      '../../../etc/passwd',
      '/etc/passwd',
      './nothing-here',
      'no spaces allowed',
      'javascript:alert(1)',
    ]) {
      expect(() => driverSpecifier(bad), bad).toThrow(/--driver/);
    }
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ixy-driver-'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'nothing', type: 'module', exports: './index.js' }),
    );
    writeFileSync(join(dir, 'index.js'), 'export const x = 1;\n');
    expect(driverSpecifier(dir)).toMatch(/^file:.*index\.js$/);
    // it loads, but registers no driver: an error, not silence
    await expect(loadDrivers([dir])).rejects.toThrow(/registered no driver/);
    const broken = mkdtempSync(join(tmpdir(), 'ixy-driver-'));
    writeFileSync(join(broken, 'index.js'), 'throw new Error("broken");\n');
    writeFileSync(join(broken, 'package.json'), JSON.stringify({ name: 'broken', type: 'module', main: 'index.js' }));
    await expect(loadDrivers([broken])).rejects.toThrow(/failed to load: broken/);
  });
});

describe('installed driver packages', () => {
  it('are the packages with the keyword "ixy-driver" where Node would look, loaded without --driver', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { installedDriverPackages } = await import('../src/drivers.js');
    const project = mkdtempSync(join(tmpdir(), 'ixy-installed-'));
    const pkg = (dir: string, manifest: object, code = ''): void => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', main: 'index.js', ...manifest }));
      writeFileSync(join(dir, 'index.js'), code);
    };
    // a stand-in for registerDriver (the fixture's @ixy/core would be the built one, not the source)
    const register = (name: string): string => `globalThis.ixyLoaded = [...(globalThis.ixyLoaded ?? []), '${name}'];\n`;
    pkg(join(project, 'node_modules', 'plain-lib'), { name: 'plain-lib' });
    pkg(
      join(project, 'node_modules', '@me', 'my-nic'),
      { name: '@me/my-nic', keywords: ['ixy-driver'] },
      register('my-nic'),
    );
    pkg(
      join(project, 'node_modules', 'broken-nic'),
      { name: 'broken-nic', keywords: ['ixy-driver'] },
      'throw new Error("broken");',
    );
    mkdirSync(join(project, 'node_modules', '.bin'));
    const found = installedDriverPackages([join(project, 'sub', 'dir')]);
    expect(found.map((f) => f.name).sort()).toEqual(['@me/my-nic', 'broken-nic']);

    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      await loadDrivers([], found);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect((globalThis as { ixyLoaded?: string[] }).ixyLoaded).toEqual(['my-nic']);
    expect(warnings.join('\n')).toMatch(/broken-nic failed to load, left out: broken/);
  });
});
