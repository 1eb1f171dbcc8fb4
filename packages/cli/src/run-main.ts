import { IxyError } from '@ixy/core';
import { installStopSignals } from './stop-signals.js';

/** How an app reports a failure: one line, a hint, a non-zero exit; no stack for user mistakes. */
export function reportError(
  app: string,
  err: unknown,
  write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): number {
  if (err instanceof IxyError) {
    write(`${app}: ${err.message}`);
    if (err.hint) write(`  hint: ${err.hint}`);
    return 1;
  }
  const code = (err as { code?: string } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('commander.')) {
    // commander printed its own message already
    return (err as { exitCode?: number }).exitCode ?? 1;
  }
  write(`${app}: unexpected error (a bug; please report it):`);
  write(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return 70; // EX_SOFTWARE
}

/**
 * Runs an app's main function and exits with its code, printing errors as reportError does.
 * Output into a closed pipe (`ixy-fwd | head`) stops the app as SIGTERM does, cleanly (ports
 * closed, totals counted), instead of crashing with EPIPE. SIGINT/SIGTERM stop it cleanly at
 * any point (see stop-signals.ts).
 */
export function runMain(app: string, main: () => Promise<number | void>): void {
  installStopSignals();
  let piped = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      if (!piped) process.emit('SIGTERM', 'SIGTERM');
      piped = true;
    });
  }
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err: unknown) => {
      process.exitCode = reportError(app, err);
    },
  );
}
