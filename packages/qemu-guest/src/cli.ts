#!/usr/bin/env node
// Runs a command in the guest by hand:
//   node packages/qemu-guest/dist/cli.js [options] -- <command...>
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { NicModel, NicSpec } from './nics.js';
import { checkPrerequisites, ensurePrerequisites, PrerequisitesError } from './prerequisites.js';
import { GuestError, runInGuest } from './run.js';

const USAGE = `usage: ixy-guest [options] -- <command...>
Runs <command> as root in a throw-away QEMU guest that sees the host's root read-only.
  --nics LIST        comma-separated NICs, wired back-to-back in pairs (0-1, 2-3, ...):
                     virtio-legacy | virtio-modern | e1000 | e1000e, each optionally followed by
                     :kernel (let the guest's kernel driver bind it) and :prop=value (-device property)
                     NIC i is at 0000:00:(0x10+i).0 (e.g. virtio-modern:iommu_platform=on,e1000e)
  --hugepages N      2 MiB hugepages in the guest (128)    --memory MIB  guest RAM (2048)
  --cpus N           guest CPUs (2)                         --timeout S   kill after S seconds
  --iommu            emulated Intel IOMMU (intel_iommu=on)  --modules A,B kernel modules to load
  --accel kvm|tcg    default: kvm when /dev/kvm is usable   --share DIR   writable share (default .guest/runs/<id>)
  --cwd DIR          the command's directory in the guest (default: where you are)
  --quiet            print only the command's output, not the boot
  --check            say what is missing to run a guest     --install-prerequisites  apt-get install it (root, Debian)
Exit status: the command's; 124 on timeout; 125 when the guest could not run it.`;

// Line-at-a-time synchronous writes: nothing is lost in a pipe when this process is killed.
const out = (line: string): void => void writeSync(1, `${line}\n`);
const err = (line: string): void => void writeSync(2, `${line}\n`);

function parseNic(text: string): NicSpec {
  const [model, ...rest] = text.split(':');
  const spec: { model: NicModel; kernelDriver?: boolean; properties: Record<string, string> } = {
    model: model as NicModel,
    properties: {},
  };
  for (const part of rest) {
    if (part === 'kernel') spec.kernelDriver = true;
    else {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new RangeError(`bad NIC option '${part}' in '${text}'`);
      spec.properties[part.slice(0, eq)] = part.slice(eq + 1);
    }
  }
  return spec;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      nics: { type: 'string' },
      hugepages: { type: 'string' },
      memory: { type: 'string' },
      cpus: { type: 'string' },
      timeout: { type: 'string' },
      iommu: { type: 'boolean' },
      modules: { type: 'string' },
      accel: { type: 'string' },
      share: { type: 'string' },
      cwd: { type: 'string' },
      quiet: { type: 'boolean' },
      check: { type: 'boolean' },
      'install-prerequisites': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (values.check) {
    const pre = checkPrerequisites();
    out(JSON.stringify(pre, null, 2));
    return pre.ok ? 0 : 1;
  }
  if (values['install-prerequisites']) {
    const pre = ensurePrerequisites({ install: true, log: out });
    out(
      `ready: ${pre.qemu}, kernel ${pre.kernel?.version}, ${pre.busybox}, ${pre.kvm ? 'KVM' : 'TCG (no usable /dev/kvm)'}`,
    );
    return 0;
  }
  if (positionals.length === 0) {
    err(USAGE);
    return 2;
  }
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const accel = values.accel;
  if (accel !== undefined && accel !== 'kvm' && accel !== 'tcg' && accel !== 'auto')
    throw new RangeError(`--accel ${accel}?`);
  const timeout = num(values.timeout);
  let inCommand = false;
  const result = await runInGuest({
    command: positionals.length === 1 ? positionals[0] : positionals,
    nics: values.nics ? values.nics.split(',').filter(Boolean).map(parseNic) : [],
    hugepages: num(values.hugepages),
    memoryMiB: num(values.memory),
    cpus: num(values.cpus),
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    iommu: values.iommu,
    modules: values.modules ? values.modules.split(',') : undefined,
    accel,
    sharedDir: values.share,
    // pnpm scripts run in the package directory; INIT_CWD is where pnpm was started
    cwd: values.cwd ?? process.env.INIT_CWD ?? process.cwd(),
    installPrerequisites: false,
    onOutput: (line) => {
      if (!values.quiet) return out(line);
      const exit = /ixy-guest: \[[\d.]+\] command exit \d+$/.exec(line);
      if (/^ixy-guest: \[[\d.]+\] command start$/.test(line)) inCommand = true;
      else if (exit) {
        if (inCommand && exit.index > 0) out(line.slice(0, exit.index));
        inCommand = false;
      } else if (inCommand) out(line);
    },
  });
  err(
    `ixy-guest: exit ${result.exitCode} (${result.accel}, boot ${result.bootMs} ms, total ${result.durationMs} ms${result.restarts > 0 ? ', QEMU started again after a silent boot' : ''}, share ${result.sharedDir})`,
  );
  return result.exitCode;
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((e: unknown) => {
    if (e instanceof GuestError) {
      err(`ixy-guest: ${e.message}`);
      process.exit(e.reason === 'timeout' ? 124 : 125);
    }
    if (e instanceof PrerequisitesError || e instanceof RangeError || e instanceof TypeError) {
      err(`ixy-guest: ${e.message}`);
      process.exit(e instanceof PrerequisitesError ? 125 : 2);
    }
    throw e;
  });
