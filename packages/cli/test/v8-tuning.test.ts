import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PACKET_LOOP_V8_FLAGS, packetLoopV8Flags } from '../src/v8-tuning.js';

// A function of about 1200 bytes of bytecode (above V8's default limit of 460 for one inlining,
// below the packet loop's 1500), called from a hot loop; --trace-turbo-inlining says whether
// TurboFan inlined it. Runs the built module, as the apps do.
const CHILD = `
const { tunePacketLoopV8 } = await import(process.env.CLI_URL);
if (process.env.TUNE === '1') console.log('set: ' + tunePacketLoopV8().join(' '));
const body = Array.from({ length: 90 }, (_, k) => 'x = (x * ' + (k + 3) + ' + i) | 0;').join('\\n');
const big = new Function('i', 'let x = i;\\n' + body + '\\nreturn x;');
function caller(n) { let s = 0; for (let i = 0; i < n; i++) s = (s + big(i)) | 0; return s; }
let t = 0;
for (let k = 0; k < 300; k++) t ^= caller(5000);
console.log('done');
`;

function run(tune: boolean, nodeFlags: string[] = []): { set: string; inlined: boolean } {
  const out = execFileSync(
    process.execPath,
    [...nodeFlags, '--trace-turbo-inlining', '--input-type=module', '-e', CHILD],
    {
      env: { ...process.env, CLI_URL: new URL('../dist/index.js', import.meta.url).href, TUNE: tune ? '1' : '0' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  expect(out).toContain('done');
  return {
    set: /^set: (.*)$/m.exec(out)?.[1] ?? '',
    inlined: /Inlining .* into .*<SharedFunctionInfo caller>/.test(out),
  };
}

describe('tunePacketLoopV8', () => {
  it('lets TurboFan inline a function above its default budget, in the running process', () => {
    expect(run(false).inlined).toBe(false);
    const tuned = run(true);
    expect(tuned.set).toBe(PACKET_LOOP_V8_FLAGS.join(' '));
    expect(tuned.inlined).toBe(true);
  });

  it("leaves a flag node's command line sets to that value", () => {
    const tuned = run(true, ['--max-inlined-bytecode-size=460']);
    expect(tuned.set).toBe('--max-inlined-bytecode-size-cumulative=5000');
    expect(tuned.inlined).toBe(false);
  });

  it('finds the flags in either spelling', () => {
    expect(packetLoopV8Flags([])).toEqual([...PACKET_LOOP_V8_FLAGS]);
    expect(packetLoopV8Flags(['--max_inlined_bytecode_size_cumulative=900'])).toEqual([PACKET_LOOP_V8_FLAGS[0]]);
    expect(packetLoopV8Flags(['--max-inlined-bytecode-size=1', '--max-inlined-bytecode-size-cumulative=2'])).toEqual(
      [],
    );
  });
});
