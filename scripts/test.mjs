// `pnpm test`: builds everything, runs every package's tests (unit, root, guest tiers) one
// package at a time, then prints one closing line over all of them: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const results = join(root, '.test-results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

const turbo = (args) =>
  spawnSync('pnpm', ['exec', 'turbo', ...args], { cwd: root, stdio: 'inherit', env: process.env });
const build = turbo(['run', 'build']);
if (build.status !== 0) {
  console.error('test: the build failed; no tests were run');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const test = turbo(['run', 'test', '--concurrency=1', '--continue', ...process.argv.slice(2)]);

let passed = 0;
let failed = 0;
let skipped = 0;
const perPackage = [];
for (const file of existsSync(results) ? readdirSync(results) : []) {
  const r = JSON.parse(readFileSync(join(results, file), 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numFailedTestSuites ?? 0);
  skipped += r.numPendingTests + r.numTodoTests;
  perPackage.push(`${file.replace(/\.json$/, '')}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
}
console.log('\n' + perPackage.join('\n'));
if (test.status !== 0 && failed === 0) failed = 1; // a package failed outside any test (e.g. setup)
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(test.status === 0 && failed === 0 ? 0 : 1);
