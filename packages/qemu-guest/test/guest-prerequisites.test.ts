// The harness pieces that need no guest boot but the guest tier's prerequisites: busybox and a
// guest kernel's modules, which the tier's global setup installs (test/global-setup.ts). In the
// unit tier, which installs nothing, they failed on a fresh machine.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPrerequisites, cpioNewc, isStaticElf, ModuleGraph } from '../src/index.js';

describe('initramfs pieces', () => {
  it('writes a newc cpio archive that cpio lists', () => {
    const { busybox } = checkPrerequisites();
    const archive = cpioNewc([
      { name: 'bin', mode: 0o040755 },
      { name: 'bin/hello', mode: 0o100644, data: Buffer.from('hello\n') },
      { name: 'bin/sh', mode: 0o120777, data: Buffer.from('busybox') },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'cpio-'));
    writeFileSync(join(dir, 'a.cpio'), archive);
    const r = spawnSync(busybox ?? 'cpio', ['cpio', '-t', '-F', join(dir, 'a.cpio')], { encoding: 'utf8' });
    expect(r.stdout.trim().split('\n')).toEqual(['bin', 'bin/hello', 'bin/sh']);
  });

  it('orders kernel modules after their dependencies', () => {
    const { kernel } = checkPrerequisites();
    expect(kernel, 'a guest kernel (global setup installs it)').not.toBeNull();
    const graph = new ModuleGraph(kernel!.modulesDir);
    const order = graph.loadOrder('9pnet_virtio');
    expect(order.at(-1)).toBe('9pnet_virtio');
    expect(order.indexOf('9pnet')).toBeLessThan(order.indexOf('9pnet_virtio'));
    expect(graph.loadOrder('vfio-pci')).toContain('vfio');
    expect(() => graph.loadOrder('no_such_module')).toThrow(/not in/);
  });
});

describe('prerequisites', () => {
  it('recognises a static busybox', () => {
    const { busybox } = checkPrerequisites();
    expect(isStaticElf(busybox!)).toBe(true);
    expect(isStaticElf(process.execPath)).toBe(false);
  });
});
