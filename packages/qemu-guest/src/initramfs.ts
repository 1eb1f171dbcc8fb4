import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { GuestKernel } from './prerequisites.js';

/** Modules /init loads at every boot to mount the host root (virtio-pci transport, 9p, overlay). */
export const BASE_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'] as const;
/**
 * Modules always packed into the initramfs so a test can load them with `modules: [...]`:
 * the kernel drivers of the emulated NICs and VFIO.
 */
export const EXTRA_MODULES = ['e1000', 'e1000e', 'virtio_net', 'vfio', 'vfio_pci', 'vfio_iommu_type1'] as const;

/** The guest's /init (busybox sh), shipped beside src/ and dist/. */
export const INIT_SCRIPT = new URL('../guest/init.sh', import.meta.url);

const moduleName = (path: string): string =>
  basename(path)
    .replace(/\.ko(\.[a-z]+)?$/, '')
    .replace(/-/g, '_');

/** The kernel's module dependency graph from modules.dep and modules.builtin. */
export class ModuleGraph {
  private readonly paths = new Map<string, string>();
  private readonly deps = new Map<string, string[]>();
  private readonly builtin = new Set<string>();

  constructor(readonly modulesDir: string) {
    for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const path = line.slice(0, colon);
      const name = moduleName(path);
      this.paths.set(name, path);
      this.deps.set(
        name,
        line
          .slice(colon + 1)
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(moduleName),
      );
    }
    try {
      for (const line of readFileSync(join(modulesDir, 'modules.builtin'), 'utf8').split('\n')) {
        if (line) this.builtin.add(moduleName(line));
      }
    } catch {
      // no modules.builtin: nothing is built in
    }
  }

  /** The module and what it needs, in load order (dependencies first); [] when built in. */
  loadOrder(name: string): string[] {
    const order: string[] = [];
    const visit = (m: string, chain: string[]): void => {
      const n = m.replace(/-/g, '_');
      if (order.includes(n) || this.builtin.has(n)) return;
      if (!this.paths.has(n)) {
        throw new Error(
          `kernel module ${n}${chain.length ? ` (needed by ${chain.join(' <- ')})` : ''} is not in ${this.modulesDir}`,
        );
      }
      if (chain.includes(n)) return;
      for (const dep of this.deps.get(n) ?? []) visit(dep, [n, ...chain]);
      order.push(n);
    };
    visit(name, []);
    return order;
  }

  /** Absolute path of a module's .ko file. */
  file(name: string): string {
    const path = this.paths.get(name);
    if (!path) throw new Error(`kernel module ${name} is not in ${this.modulesDir}`);
    return join(this.modulesDir, path);
  }
}

/** One file of a newc cpio archive. */
interface CpioEntry {
  name: string;
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

/** Writes a cpio archive in the "newc" format the kernel unpacks as initramfs. */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  const pad = (n: number): void => {
    if (n % 4) chunks.push(Buffer.alloc(4 - (n % 4)));
  };
  const hex = (v: number): string => v.toString(16).padStart(8, '0');
  let ino = 1;
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }] as CpioEntry[]) {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const header =
      '070701' +
      [
        ino++,
        e.mode,
        0,
        0,
        e.mode & 0o040000 ? 2 : 1,
        0,
        data.length,
        0,
        0,
        e.rdev?.[0] ?? 0,
        e.rdev?.[1] ?? 0,
        name.length,
        0,
      ]
        .map(hex)
        .join('');
    chunks.push(Buffer.from(header, 'ascii'), name);
    pad(110 + name.length);
    chunks.push(data);
    pad(data.length);
  }
  return Buffer.concat(chunks);
}

/** A module's ELF image: busybox insmod loads only uncompressed modules, so unpack here. */
function readModule(path: string): Buffer {
  if (path.endsWith('.ko')) return readFileSync(path);
  if (path.endsWith('.ko.gz')) return gunzipSync(readFileSync(path));
  const tool = path.endsWith('.ko.xz') ? 'xz' : path.endsWith('.ko.zst') ? 'zstd' : null;
  if (tool) {
    const r = spawnSync(tool, ['-dc', path], { maxBuffer: 256 * 1024 * 1024 });
    if (r.status === 0) return r.stdout;
    throw new Error(
      `cannot unpack kernel module ${path}: ${tool} -dc failed (${r.error?.message ?? r.stderr.toString().trim()})`,
    );
  }
  throw new Error(`cannot unpack kernel module ${path}: unknown compression`);
}

export interface InitramfsOptions {
  kernel: GuestKernel;
  busybox: string;
  /** Directory for the cached archive (the repo's .guest/). */
  cacheDir: string;
  /** More modules to pack beside BASE_MODULES and EXTRA_MODULES. */
  modules?: readonly string[];
}

/**
 * Builds (or reuses) the guest initramfs: static busybox, /init, /dev/console and the kernel
 * modules with a load-order file per module. Cached in cacheDir under a hash of its inputs.
 */
export function buildInitramfs(options: InitramfsOptions): string {
  const init = readFileSync(INIT_SCRIPT);
  const wanted = [
    ...new Set([...BASE_MODULES, ...EXTRA_MODULES, ...(options.modules ?? [])].map((m) => m.replace(/-/g, '_'))),
  ].sort();
  const bb = statSync(options.busybox);
  const key = createHash('sha256')
    .update(JSON.stringify([options.kernel.version, options.busybox, bb.size, bb.mtimeMs, wanted]))
    .update(init)
    .digest('hex')
    .slice(0, 12);
  const out = join(options.cacheDir, `initramfs-${options.kernel.version}-${key}.cpio.gz`);
  if (existsSync(out)) return out;

  const graph = new ModuleGraph(options.kernel.modulesDir);
  const entries: CpioEntry[] = [];
  const dir = (name: string): void => void entries.push({ name, mode: 0o040755 });
  for (const d of [
    'bin',
    'dev',
    'proc',
    'sys',
    'tmp',
    'run',
    'mnt',
    'hostro',
    'rw',
    'newroot',
    'share',
    'lib',
    'lib/modules',
    'lib/modules/ixy',
  ])
    dir(d);
  entries.push({ name: 'dev/console', mode: 0o020600, rdev: [5, 1] });
  entries.push({ name: 'bin/busybox', mode: 0o100755, data: readFileSync(options.busybox) });
  entries.push({ name: 'bin/sh', mode: 0o120777, data: Buffer.from('busybox') });
  entries.push({ name: 'init', mode: 0o100755, data: init });
  const packed = new Set<string>();
  const orders: Record<string, string[]> = {};
  for (const m of wanted) orders[m] = graph.loadOrder(m);
  orders.base = [...new Set(BASE_MODULES.flatMap((m) => orders[m]))];
  for (const [name, order] of Object.entries(orders)) {
    for (const m of order) {
      if (packed.has(m)) continue;
      packed.add(m);
      entries.push({ name: `lib/modules/${m}.ko`, mode: 0o100644, data: readModule(graph.file(m)) });
    }
    entries.push({ name: `lib/modules/ixy/${name}`, mode: 0o100644, data: Buffer.from(`${order.join('\n')}\n`) });
  }
  mkdirSync(options.cacheDir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, gzipSync(cpioNewc(entries), { level: 1 }));
  renameSync(tmp, out);
  return out;
}
