import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** The machine a benchmark ran on, stated with its numbers. */
export interface Machine {
  cpu: string;
  cores: number;
  /** Nominal clock in GHz (from /proc/cpuinfo's "cpu MHz", or os.cpus()); cycles are estimated with it. */
  ghz: number;
  node: string;
  kernel: string;
}

export function describeMachine(): Machine {
  const list = cpus();
  let mhz = list[0]?.speed ?? 0;
  try {
    const m = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) mhz = Number(m[1]);
  } catch {
    // not Linux: keep os.cpus()
  }
  let kernel = '';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    kernel = process.platform;
  }
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    ghz: mhz / 1000,
    node: process.version,
    kernel,
  };
}
