#!/usr/bin/env node
// ixy-conformance: runs the IxyDevice contract against two wired ports without a test
// framework, e.g. inside a QEMU guest:
//
//   ixy-conformance --load @ixy/pci --load ./my-nic-driver --result /share/c.json 0000:00:10.0 0000:00:11.0
//
// --load imports a package (a name, resolved from the current directory, or a path) before
// the run: the resolver of the addresses and the driver. Exit code 0 when every case passed.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runIxyDeviceConformance } from './conformance.js';

function usage(why: string): never {
  console.error(`ixy-conformance: ${why}`);
  console.error(
    'usage: ixy-conformance [--load <package>]... [--result <file.json>] [--timeout <ms>] [--option key=value]... <address A> <address B>',
  );
  process.exit(2);
}

const loads: string[] = [];
const addresses: string[] = [];
const options: Record<string, unknown> = {};
let result: string | undefined;
let timeout = 20_000;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = (): string => args[++i] ?? usage(`${a} needs a value`);
  if (a === '--load') loads.push(value());
  else if (a === '--result') result = value();
  else if (a === '--timeout') timeout = Number(value());
  else if (a === '--option') {
    const [key, v] = value().split('=', 2);
    options[key] = v === 'true' ? true : v === 'false' ? false : /^[0-9]+$/.test(v ?? '') ? Number(v) : v;
  } else if (a.startsWith('--')) usage(`unknown option ${a}`);
  else addresses.push(a);
}
if (addresses.length !== 2) usage('give two addresses of ports wired to each other');
if (!Number.isInteger(timeout) || timeout <= 0) usage('--timeout takes milliseconds');

const fromHere = createRequire(join(process.cwd(), 'package.json'));
for (const spec of loads) {
  const path =
    isAbsolute(spec) || spec.startsWith('./') || spec.startsWith('../') ? resolve(spec) : fromHere.resolve(spec);
  await import(pathToFileURL(path).href);
}

const pair = [addresses[0], addresses[1]] as const;
const passed: string[] = [];
const r = await runIxyDeviceConformance(
  pair.join(' ↔ '),
  { addresses: () => pair, options },
  { deliveryTimeoutMs: timeout },
  (line) => {
    console.log(line);
    if (line.startsWith('ok ')) passed.push(line.slice(line.indexOf(': ') + 2));
  },
);
console.log(`${r.passed} passed, ${r.failed.length} failed`);
if (result) {
  const failed = r.failed.map((f) => ({ name: f.name, error: (f.error as Error)?.stack ?? String(f.error) }));
  writeFileSync(result, `${JSON.stringify({ pair, passed, failed }, null, 2)}\n`);
}
process.exit(r.failed.length === 0 ? 0 : 1);
