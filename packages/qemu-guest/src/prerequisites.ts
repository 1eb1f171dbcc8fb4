import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Debian packages that provide everything the guest needs. */
export const DEBIAN_PACKAGES = ['qemu-system-x86', 'linux-image-amd64', 'busybox-static'] as const;

/** A guest kernel: /boot/vmlinuz-<version> with its modules in /lib/modules/<version>. */
export interface GuestKernel {
  version: string;
  image: string;
  modulesDir: string;
}

/** What the host has for running guests, and what it lacks. */
export interface Prerequisites {
  /** True when a guest can boot (everything in `missing` is absent). */
  ok: boolean;
  /** One sentence per missing piece, saying what it is and which package provides it. */
  missing: string[];
  qemu: string | null;
  kernel: GuestKernel | null;
  busybox: string | null;
  /** /dev/kvm can be opened read-write: guests run with KVM, else with TCG (slow). */
  kvm: boolean;
}

/** Thrown when the guest cannot run here; the message lists what is missing. */
export class PrerequisitesError extends Error {
  constructor(
    message: string,
    readonly missing: string[],
  ) {
    super(message);
    this.name = 'PrerequisitesError';
  }
}

/** Where to look (tests point these at empty directories). */
export interface PrerequisiteLocations {
  /** Directories searched for qemu-system-x86_64 and busybox. Default: $PATH and the standard bin dirs. */
  binDirs?: readonly string[];
  bootDir?: string;
  modulesRoot?: string;
}

const STANDARD_BIN = ['/usr/bin', '/usr/sbin', '/bin', '/sbin'];

function which(
  name: string,
  dirs: readonly string[] = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...STANDARD_BIN],
): string | null {
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  return null;
}

/** Compares kernel versions like `sort -V` (numeric runs numerically). */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    if (/^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The newest /boot/vmlinuz-* that has /lib/modules/<version>/modules.dep, or null. */
export function findGuestKernel(bootDir = '/boot', modulesRoot = '/lib/modules'): GuestKernel | null {
  let names: string[];
  try {
    names = readdirSync(bootDir);
  } catch {
    return null;
  }
  const versions = names
    .filter((n) => n.startsWith('vmlinuz-'))
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => existsSync(join(modulesRoot, v, 'modules.dep')))
    .sort(compareVersions);
  const version = versions.at(-1);
  if (version === undefined) return null;
  return { version, image: join(bootDir, `vmlinuz-${version}`), modulesDir: join(modulesRoot, version) };
}

/** Is this ELF file statically linked (no PT_INTERP program header)? */
export function isStaticElf(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) !== 64 || head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false;
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      if (table.readUInt32LE(i * phentsize) === 3 /* PT_INTERP */) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

function findStaticBusybox(
  binDirs: readonly string[] = ['/bin', '/usr/bin', '/usr/lib/initramfs-tools/bin'],
): string | null {
  for (const path of binDirs.map((d) => join(d, 'busybox'))) {
    if (existsSync(path) && isStaticElf(path)) return path;
  }
  return null;
}

function kvmUsable(): boolean {
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
}

/** Checks what a guest boot needs. Never throws; `missing` says exactly what is absent. */
export function checkPrerequisites(where: PrerequisiteLocations = {}): Prerequisites {
  const missing: string[] = [];
  const qemu = which('qemu-system-x86_64', where.binDirs);
  if (!qemu) missing.push('qemu-system-x86_64 is not installed (Debian package qemu-system-x86)');
  const kernel = findGuestKernel(where.bootDir, where.modulesRoot);
  if (!kernel) {
    missing.push(
      'no guest kernel: no /boot/vmlinuz-<version> with /lib/modules/<version>/modules.dep (Debian package linux-image-amd64)',
    );
  } else {
    try {
      accessSync(kernel.image, constants.R_OK);
    } catch {
      missing.push(`${kernel.image} is not readable by this user (run as root)`);
    }
  }
  const busybox = findStaticBusybox(where.binDirs);
  if (!busybox) missing.push('no statically linked busybox in /bin or /usr/bin (Debian package busybox-static)');
  return { ok: missing.length === 0, missing, qemu, kernel, busybox, kvm: kvmUsable() };
}

/** Can installPrerequisites() work here (root, Debian, apt-get)? Null if so, else why not. */
export function whyCannotInstall(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root';
  if (!existsSync('/etc/debian_version')) return 'not a Debian system';
  if (!which('apt-get')) return 'apt-get is not available';
  return null;
}

function run(command: string, args: string[], log: (line: string) => void): void {
  log(`$ ${command} ${args.join(' ')}`);
  const r = spawnSync(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new PrerequisitesError(
      `${command} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}):\n${tail}`,
      [],
    );
  }
}

/**
 * Installs the Debian packages (apt-get update && apt-get install -y), as root on Debian only.
 * Throws PrerequisitesError if it cannot or if the installation fails.
 */
export function installPrerequisites(log: (line: string) => void = () => {}): void {
  const why = whyCannotInstall();
  if (why) throw new PrerequisitesError(`cannot install ${DEBIAN_PACKAGES.join(' ')}: ${why}`, []);
  // wait for another apt/dpkg (a parallel test run installing the same) instead of failing
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  run('apt-get', [...lock, 'update'], log);
  run('apt-get', [...lock, 'install', '-y', '--no-install-recommends', ...DEBIAN_PACKAGES], log);
}

/**
 * Makes sure a guest can boot: checks, installs what is missing when `install` is true and this
 * is root on Debian, checks again. Throws PrerequisitesError naming what is missing and why it
 * could not be installed. Test setups call this, so guest tests fail (never skip) without it.
 */
export function ensurePrerequisites(
  options: { install?: boolean; log?: (line: string) => void } & PrerequisiteLocations = {},
): Prerequisites {
  const first = checkPrerequisites(options);
  if (first.ok) return first;
  const list = first.missing.map((m) => `  - ${m}`).join('\n');
  if (!options.install) {
    throw new PrerequisitesError(
      `the QEMU guest cannot run here:\n${list}\ninstall as root: apt-get update && apt-get install -y ${DEBIAN_PACKAGES.join(' ')}`,
      first.missing,
    );
  }
  const why = whyCannotInstall();
  if (why) {
    throw new PrerequisitesError(
      `the QEMU guest cannot run here and its packages cannot be installed (${why}):\n${list}\n` +
        `install as root: apt-get update && apt-get install -y ${DEBIAN_PACKAGES.join(' ')}`,
      first.missing,
    );
  }
  options.log?.(`installing guest prerequisites:\n${list}`);
  try {
    installPrerequisites(options.log);
  } catch (err) {
    throw new PrerequisitesError(`the QEMU guest cannot run here:\n${list}\n${(err as Error).message}`, first.missing);
  }
  const second = checkPrerequisites(options);
  if (!second.ok) {
    throw new PrerequisitesError(
      `still missing after installing ${DEBIAN_PACKAGES.join(' ')}:\n${second.missing.map((m) => `  - ${m}`).join('\n')}`,
      second.missing,
    );
  }
  return second;
}
