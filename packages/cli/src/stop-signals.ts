/**
 * SIGINT and SIGTERM for the whole life of an app (installed by runMain): the first asks the
 * app to stop cleanly — the poll loop ends, totals are printed, ports closed, cable files
 * removed — whether it arrives before the loop started (while a port opens), during it, or
 * after (pktgen draining its queue: a second signal ends the wait). Only a third signal exits
 * at once (exit code 130), for an app that does not come back.
 */
let signals = 0;
let installed = false;

/** How many stop signals have arrived (0 while none has). */
export function stopSignals(): number {
  return signals;
}

/** Has a stop signal arrived? */
export function stopRequested(): boolean {
  return signals > 0;
}

export function installStopSignals(): void {
  if (installed) return;
  installed = true;
  const onSignal = (): void => {
    signals++;
    if (signals >= 3) process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
