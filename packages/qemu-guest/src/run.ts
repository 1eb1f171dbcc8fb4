import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInitramfs } from './initramfs.js';
import { layoutNics, nicArguments, type GuestNic, type NicModel, type NicSpec } from './nics.js';
import { ensurePrerequisites } from './prerequisites.js';

export interface GuestOptions {
  /** Shell command line (run by /bin/sh), or an argv array (quoted for you). Runs as root. */
  command: string | readonly string[];
  /** NICs, wired back-to-back in pairs (0-1, 2-3, ...) over QEMU hubs. Default none. */
  nics?: readonly (NicModel | NicSpec)[];
  /** 2 MiB hugepages to reserve in the guest. Default 128 (256 MiB; reserving costs ~10 ms each under TCG). */
  hugepages?: number;
  /** Guest RAM. Default 2048. */
  memoryMiB?: number;
  /** Guest CPUs. Default 2. */
  cpus?: number;
  /** Kill QEMU and throw GuestError('timeout') after this long. Default 180 s with KVM, 900 s with TCG. */
  timeoutMs?: number;
  /**
   * A guest that prints nothing at all for this long (not even init's first line, about 3 s
   * in under TCG) has hung at boot, before the command ran: QEMU is killed and started once more,
   * within `timeoutMs`. Default 60 s; `Infinity` turns the watch off.
   */
  silentBootMs?: number;
  /** Add an emulated Intel IOMMU (`-device intel-iommu`, `intel_iommu=on`): one IOMMU group per device. */
  iommu?: boolean;
  /**
   * Kernel modules to load before the command, e.g. `['vfio_pci']`. The drivers of NICs with
   * `kernelDriver: true` are added. Packed: virtio_net, e1000, e1000e, vfio, vfio_pci, vfio_iommu_type1.
   */
  modules?: readonly string[];
  /** Working directory of the command in the guest (the host's root is the guest's). Default process.cwd(). */
  cwd?: string;
  /** Extra environment variables for the command. */
  env?: Readonly<Record<string, string>>;
  /** 'auto' (default): KVM when /dev/kvm is usable, else TCG. */
  accel?: 'auto' | 'kvm' | 'tcg';
  /** Host directory mounted read-write at the same path in the guest. Default: a fresh <cacheDir>/runs/<id>/. */
  sharedDir?: string;
  /** Where the initramfs and run directories live. Default <repo>/.guest (or $IXY_GUEST_DIR). */
  cacheDir?: string;
  /**
   * Install missing Debian packages (apt-get, as root on Debian only) before booting. Default
   * true: CI runs from a fresh machine and only runs the tests. Where it cannot install, or with
   * false, a missing prerequisite is a PrerequisitesError naming it.
   */
  installPrerequisites?: boolean;
  /** Every console line (kernel, init and the command) as it arrives, without the line end. */
  onOutput?: (line: string) => void;
}

export interface GuestResult {
  /** Exit status of the command. */
  exitCode: number;
  /** What the command printed (stdout and stderr interleaved, as on the guest console). */
  output: string;
  /** The whole console: kernel messages, init progress, the command's output. */
  console: string;
  /** The read-write share; the command's files, nics.json and console.log are here. */
  sharedDir: string;
  /** The NICs as the guest saw them. */
  nics: GuestNic[];
  accel: 'kvm' | 'tcg';
  /** From starting QEMU to the command starting, and to QEMU exiting (a restart's time included). */
  bootMs: number;
  durationMs: number;
  /** QEMU runs started again after a boot that printed nothing (see `silentBootMs`): 0 or 1. */
  restarts: number;
}

/** The guest did not run the command to completion: timeout, QEMU failure, or a guest crash. */
export class GuestError extends Error {
  constructor(
    readonly reason: 'timeout' | 'qemu' | 'guest',
    message: string,
    /** The console so far (the last lines are in the message). */
    readonly console: string,
  ) {
    super(message);
    this.name = 'GuestError';
  }
}

/** The workspace root (directory holding pnpm-workspace.yaml) above this package. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

/** Default cache directory: $IXY_GUEST_DIR or <repo>/.guest (gitignored). */
export function defaultCacheDir(): string {
  return process.env.IXY_GUEST_DIR ? resolve(process.env.IXY_GUEST_DIR) : join(repoRoot(), '.guest');
}

/** Keeps the newest `keep` run directories (their names sort by time). */
function pruneRuns(dir: string, keep: number): void {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const name of names.slice(0, Math.max(0, names.length - keep)))
    rmSync(join(dir, name), { recursive: true, force: true });
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function findTimeout(): string | null {
  for (const path of ['/usr/bin/timeout', '/bin/timeout']) if (existsSync(path)) return path;
  return null;
}

let runCounter = 0;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGTERM');
  });
}

/** Builds the QEMU argument list (exported for inspection and the CLI's --dry-run). */
export function qemuArguments(o: {
  accel: 'kvm' | 'tcg';
  kernel: string;
  initramfs: string;
  append: string;
  memoryMiB: number;
  cpus: number;
  iommu: boolean;
  /** The writable share; null: no 9p shares at all (the host root neither). */
  sharedDir: string | null;
  nics: string[];
}): string[] {
  const machine = o.accel === 'kvm' && o.iommu ? 'q35,kernel-irqchip=split' : 'q35';
  return [
    '-machine',
    machine,
    '-accel',
    o.accel,
    '-cpu',
    o.accel === 'kvm' ? 'host' : 'max',
    '-smp',
    String(o.cpus),
    '-m',
    String(o.memoryMiB),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-chardev',
    'stdio,id=console,signal=off',
    '-serial',
    'chardev:console',
    '-monitor',
    'none',
    '-kernel',
    o.kernel,
    '-initrd',
    o.initramfs,
    '-append',
    o.append,
    ...(o.iommu ? ['-device', 'intel-iommu'] : []),
    ...(o.sharedDir === null
      ? []
      : [
          '-fsdev',
          'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
          '-device',
          'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot,addr=0x4',
          '-fsdev',
          `local,id=share,path=${o.sharedDir},security_model=none`,
          '-device',
          'virtio-9p-pci,fsdev=share,mount_tag=share,addr=0x5',
        ]),
    ...o.nics,
  ];
}

/**
 * Does KVM actually boot a guest here? /dev/kvm can exist and open yet be unusable (nested
 * virtualisation that hangs or rejects the CPU model), so this boots the initramfs with
 * `ixy.probe=1` (init powers off at once) and waits up to 20 s. Cached per host boot in
 * <cacheDir>/kvm-probe.json.
 */
export async function probeKvm(o: {
  qemu: string;
  kernel: string;
  initramfs: string;
  cacheDir: string;
}): Promise<{ ok: boolean; detail: string }> {
  let bootId = '';
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // no boot id: probe every time
  }
  const cache = join(o.cacheDir, 'kvm-probe.json');
  const key = `${bootId} ${o.qemu} ${o.kernel}`;
  try {
    const saved = JSON.parse(readFileSync(cache, 'utf8')) as { key: string; ok: boolean; detail: string };
    if (bootId && saved.key === key) return { ok: saved.ok, detail: saved.detail };
  } catch {
    // not probed yet
  }
  const args = qemuArguments({
    accel: 'kvm',
    kernel: o.kernel,
    initramfs: o.initramfs,
    append: 'console=ttyS0 quiet panic=-1 ixy.probe=1',
    memoryMiB: 256,
    cpus: 1,
    iommu: false,
    sharedDir: null,
    nics: [],
  });
  const started = Date.now();
  const result = await new Promise<{ ok: boolean; detail: string }>((done) => {
    const child = spawn(o.qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (c: Buffer) => void (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => void (text += c.toString()));
    child.once('error', (e) => {
      clearTimeout(timer);
      done({ ok: false, detail: e.message });
    });
    child.once('close', () => {
      clearTimeout(timer);
      const ok = /probe ok/.test(text);
      const last = text.trim().split('\n').slice(-2).join(' / ').replace(/\r/g, '');
      done({
        ok,
        detail: ok
          ? `KVM booted in ${Date.now() - started} ms`
          : `the KVM probe boot failed (${last || 'no output in 20 s'})`,
      });
    });
  });
  mkdirSync(o.cacheDir, { recursive: true });
  writeFileSync(cache, `${JSON.stringify({ key, ...result })}\n`);
  return result;
}

const MARK_START = /^ixy-guest: \[[\d.]+\] command start$/;
// not anchored at the start: output without a final newline shares the marker's line
const MARK_EXIT = /ixy-guest: \[[\d.]+\] command exit (\d+)$/;
const MARK_ERROR = /^ixy-guest: \[[\d.]+\] guest-error: (.*)$/;

/**
 * Boots a throw-away guest (the host's Debian kernel, a busybox initramfs, the host's root
 * read-only over 9p plus a writable share), runs `command` in it as root and powers it off.
 * Resolves with the command's exit status and output (a failing command is not an error);
 * rejects with GuestError on timeout, QEMU failure or a guest that died before the command
 * finished, and with PrerequisitesError when QEMU, the kernel or busybox is missing.
 */
export async function runInGuest(options: GuestOptions): Promise<GuestResult> {
  const pre = ensurePrerequisites({ install: options.installPrerequisites ?? true, log: options.onOutput });
  const kernel = pre.kernel!;
  const { specs, guest } = layoutNics(options.nics ?? []);
  const hugepages = options.hugepages ?? 128;
  const memoryMiB = options.memoryMiB ?? 2048;
  if (hugepages * 2 > memoryMiB - 384) {
    throw new RangeError(
      `${hugepages} hugepages (${hugepages * 2} MiB) leave too little of ${memoryMiB} MiB guest RAM`,
    );
  }
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const modules = [
    ...new Set([...(options.modules ?? []), ...guest.flatMap((n) => (n.kernelDriver ? [n.kernelDriver] : []))]),
  ];
  for (const m of modules) if (!/^[A-Za-z0-9_-]+$/.test(m)) throw new RangeError(`bad module name '${m}'`);
  const initramfs = buildInitramfs({ kernel, busybox: pre.busybox!, cacheDir, modules });
  let accel: 'kvm' | 'tcg' = options.accel === 'kvm' || options.accel === 'tcg' ? options.accel : 'tcg';
  if (accel === 'kvm' && !pre.kvm)
    throw new GuestError('qemu', 'accel kvm requested but /dev/kvm cannot be opened', '');
  if ((options.accel ?? 'auto') === 'auto' && pre.kvm) {
    const probe = await probeKvm({ qemu: pre.qemu!, kernel: kernel.image, initramfs, cacheDir });
    if (probe.ok) accel = 'kvm';
    else options.onOutput?.(`ixy-guest: /dev/kvm is present but unusable, using TCG: ${probe.detail}`);
  }

  if (options.sharedDir === undefined) pruneRuns(join(cacheDir, 'runs'), 50);
  const sharedDir = resolve(
    options.sharedDir ??
      join(cacheDir, 'runs', `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${runCounter++}`),
  );
  if (/[\s,'"]/.test(sharedDir))
    throw new RangeError(`the shared directory path must not contain spaces, commas or quotes: ${sharedDir}`);
  mkdirSync(sharedDir, { recursive: true });
  rmSync(join(sharedDir, 'exit-code'), { force: true });
  writeFileSync(join(sharedDir, 'nics.json'), `${JSON.stringify(guest, null, 2)}\n`);
  for (const name of Object.keys(options.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new RangeError(`bad environment variable name '${name}'`);
  }
  const command = typeof options.command === 'string' ? options.command : options.command.map(quote).join(' ');
  const env: Record<string, string> = {
    IXY_GUEST: '1',
    IXY_GUEST_SHARE: sharedDir,
    IXY_GUEST_NICS: guest.map((n) => n.address).join(' '),
    IXY_GUEST_NICS_FILE: join(sharedDir, 'nics.json'),
    ...Object.fromEntries(guest.map((n) => [`IXY_GUEST_NIC${n.index}`, n.address])),
    ...options.env,
  };
  writeFileSync(
    join(sharedDir, 'command.sh'),
    [
      '# written by @ixy/qemu-guest',
      `export PATH=${quote(dirname(process.execPath))}:"$PATH"`,
      ...Object.entries(env).map(([k, v]) => `export ${k}=${quote(v)}`),
      `cd ${quote(options.cwd ?? process.cwd())} || exit 125`,
      command,
      '',
    ].join('\n'),
  );

  const append = [
    'console=ttyS0',
    'quiet',
    'loglevel=3',
    'panic=-1',
    'mitigations=off',
    `ixy.share=${sharedDir}`,
    `ixy.huge=${hugepages}`,
    `ixy.keep=${guest
      .filter((n) => n.kernelDriver)
      .map((n) => n.address)
      .join(',')}`,
    `ixy.modules=${modules.join(',')}`,
    ...(options.iommu ? ['intel_iommu=on'] : []),
  ].join(' ');
  const args = qemuArguments({
    accel,
    kernel: kernel.image,
    initramfs,
    append,
    memoryMiB,
    cpus: options.cpus ?? 2,
    iommu: options.iommu ?? false,
    sharedDir,
    nics: nicArguments(specs, guest),
  });
  const timeoutMs = options.timeoutMs ?? (accel === 'kvm' ? 180_000 : 900_000);
  const silentBootMs = options.silentBootMs ?? 60_000;

  const started = Date.now();
  killAllOnExit();
  // coreutils timeout(1) is a safety net: QEMU dies even if this process is killed before its
  // own timer fires (it forwards our SIGTERM to QEMU, which exits at once).
  const wrapper = findTimeout();
  const consoleLines: string[] = [];
  const outputLines: string[] = [];
  let stderr = '';
  let inCommand = false;
  let markedExit: number | null = null;
  let guestError: string | null = null;
  let bootMs = -1;
  let partial = '';
  const onLine = (raw: string): void => {
    const line = raw.replace(/\r/g, '');
    consoleLines.push(line);
    options.onOutput?.(line);
    if (MARK_START.test(line)) {
      inCommand = true;
      bootMs = Date.now() - started;
      return;
    }
    const exit = MARK_EXIT.exec(line);
    if (exit) {
      if (inCommand && exit.index > 0) outputLines.push(line.slice(0, exit.index));
      inCommand = false;
      markedExit = Number(exit[1]);
      return;
    }
    const err = MARK_ERROR.exec(line);
    if (err) guestError = err[1];
    if (inCommand) outputLines.push(line);
  };

  // One QEMU run until it exits, or is killed at the deadline or (`silentMs`) when the guest has
  // printed nothing by then.
  const runQemu = async (
    silentMs: number,
  ): Promise<{
    status: { code: number | null; signal: NodeJS.Signals | null; error?: Error };
    timedOut: boolean;
    silent: boolean;
  }> => {
    const budgetMs = Math.max(0, started + timeoutMs - Date.now());
    const child = wrapper
      ? spawn(wrapper, ['--kill-after=5', `${Math.ceil(budgetMs / 1000) + 10}`, pre.qemu!, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(pre.qemu!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let printed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      printed = true;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    let timedOut = false;
    let silenced = false;
    let killer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      if (killer !== undefined || child.exitCode !== null || child.signalCode !== null) return;
      child.kill(wrapper ? 'SIGTERM' : 'SIGKILL');
      killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, budgetMs);
    // Decided after a turn of the event loop: timers run before it reads pipes, so output
    // that waited while this process was busy is read first (setImmediate runs after the poll).
    let watch: NodeJS.Immediate | undefined;
    const watchdog =
      silentMs < budgetMs
        ? setTimeout(() => {
            watch = setImmediate(() => {
              if (printed) return;
              silenced = true;
              kill();
            });
          }, silentMs)
        : undefined;
    const status = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
      child.once('error', (error) => done({ code: null, signal: null, error }));
      child.once('close', (code, signal) => done({ code, signal }));
    });
    clearTimeout(timer);
    clearTimeout(watchdog);
    clearImmediate(watch);
    clearTimeout(killer);
    running.delete(child);
    // Silent only if nothing at all came by the end: a run that printed (its command may have
    // started) is never run again, even if output came in only after the kill
    if (silenced && printed) {
      throw new GuestError(
        'timeout',
        `QEMU was killed as silent at boot after ${silentMs} ms, yet its output came in after that (this process's event loop was blocked that long?); not started again, as its command may have run`,
        consoleLines.join('\n'),
      );
    }
    return { status, timedOut, silent: silenced };
  };

  // A guest that prints nothing at all, not even init's first line (about 3 s in under TCG),
  // has hung at boot, before the command ran: seen once in over 100 TCG boots of the test suite
  // (a guest with an emulated IOMMU, on a loaded 2-core host), where it went on printing nothing
  // for 300 s. It is QEMU or the guest kernel, not the command, so QEMU is started once more
  // (while the deadline leaves time). The first run left no state behind: it printed nothing.
  let restarts = 0;
  let run = await runQemu(silentBootMs);
  if (run.silent && started + timeoutMs - Date.now() > silentBootMs) {
    restarts++;
    const note = `ixy-guest: the guest printed nothing in ${silentBootMs} ms (a hang at boot, before the command ran): starting QEMU again`;
    consoleLines.push(note);
    options.onOutput?.(note);
    rmSync(join(sharedDir, 'exit-code'), { force: true });
    run = await runQemu(Infinity);
  }
  const { status } = run;
  const timedOut = run.timedOut || run.silent;
  if (partial) onLine(partial);
  const durationMs = Date.now() - started;
  const consoleText = consoleLines.join('\n');
  try {
    writeFileSync(join(sharedDir, 'console.log'), `${consoleText}\n${stderr ? `--- qemu stderr ---\n${stderr}` : ''}`);
  } catch {
    // the share is for results; a failure to keep the log is not the run's failure
  }
  const tail = (): string => {
    const last = consoleLines.slice(-25).join('\n');
    return `${last ? `\n--- last console lines ---\n${last}` : ''}${stderr.trim() ? `\n--- qemu stderr ---\n${stderr.trim()}` : ''}`;
  };

  if (timedOut) {
    throw new GuestError(
      'timeout',
      run.silent
        ? `the guest printed nothing in ${silentBootMs} ms (a hang at boot, ${accel}), and the deadline (${timeoutMs} ms) left no time to start it again; QEMU killed${tail()}`
        : `guest timed out after ${timeoutMs} ms (${accel}${bootMs < 0 ? ', before the command started' : `, booted in ${bootMs} ms`}${restarts > 0 ? ', QEMU started again after a silent boot' : ''}); QEMU killed${tail()}`,
      consoleText,
    );
  }
  if (status.error) throw new GuestError('qemu', `cannot start ${pre.qemu}: ${status.error.message}`, consoleText);
  let exitCode: number | null = markedExit;
  const file = join(sharedDir, 'exit-code');
  if (existsSync(file)) exitCode = Number.parseInt(readFileSync(file, 'utf8'), 10);
  if (exitCode === null || Number.isNaN(exitCode)) {
    const why =
      guestError ??
      (status.code !== 0
        ? `QEMU exited with ${status.code ?? status.signal}`
        : 'the guest powered off before the command finished');
    throw new GuestError(
      guestError || status.code === 0 ? 'guest' : 'qemu',
      `guest failed: ${why}${tail()}`,
      consoleText,
    );
  }
  return {
    exitCode,
    output: outputLines.join('\n'),
    console: consoleText,
    sharedDir,
    nics: guest,
    accel,
    bootMs,
    durationMs,
    restarts,
  };
}

/** Reads a JSON file the command wrote to the share (`writeGuestResult` in the guest). */
export function readGuestResult<T = unknown>(result: Pick<GuestResult, 'sharedDir'>, name: string): T {
  const path = join(result.sharedDir, name.endsWith('.json') ? name : `${name}.json`);
  if (!existsSync(path)) throw new Error(`the guest wrote no ${path}`);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
