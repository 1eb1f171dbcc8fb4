import { setFlagsFromString } from 'node:v8';

/**
 * V8's inlining budget for a process whose work is a packet loop. By default TurboFan inlines a
 * function of at most 460 bytes of bytecode, and at most 920 bytes in all into one optimised
 * function. A driver's `receive` and `send` are each above 460 (ixgbe: 574 and 605), so every
 * step of a forwarder paid two calls, each re-loading and re-checking the queue's, the pool's
 * and the batch's fields, and the values the loops keep were spilled around the calls. With
 * these budgets the whole step is compiled as one piece: `pnpm bench`'s fwd step, Node 24,
 * paired runs in turn with and without: batch 1 ×0.77–0.83, batch 32 ×0.93–0.95, safe mode
 * batch 32 ×0.95 (Node 22: batch 1 ×0.88, batch 32 ×0.99). The cost is larger optimised code
 * and longer compiles of the few functions that get hot.
 */
export const PACKET_LOOP_V8_FLAGS: readonly string[] = [
  '--max-inlined-bytecode-size=1500',
  '--max-inlined-bytecode-size-cumulative=5000',
];

/** The flags of PACKET_LOOP_V8_FLAGS that `execArgv` (node's own command line) does not set. */
export function packetLoopV8Flags(execArgv: readonly string[] = process.execArgv): string[] {
  return PACKET_LOOP_V8_FLAGS.filter((flag) => {
    const name = flag.slice(0, flag.indexOf('='));
    const alt = `--${name.slice(2).replaceAll('-', '_')}`;
    return !execArgv.some(
      (arg) => arg === name || arg === alt || arg.startsWith(`${name}=`) || arg.startsWith(`${alt}=`),
    );
  });
}

/**
 * Sets V8's inlining budget for a packet loop (PACKET_LOOP_V8_FLAGS), except where node's
 * command line sets the same flag (that one wins). Call it first thing in an app: it affects
 * what is compiled after it, and nothing is hot before the loop starts. Returns the flags set.
 */
export function tunePacketLoopV8(): string[] {
  const flags = packetLoopV8Flags();
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}
