/**
 * Runs every task, also past one that throws, then throws the first error: for a teardown that
 * must free all it can (a device's queues and pools) and still report what went wrong.
 */
export function runAll(tasks: Iterable<() => void>): void {
  let error: unknown;
  let failed = false;
  for (const task of tasks) {
    try {
      task();
    } catch (err) {
      if (!failed) error = err;
      failed = true;
    }
  }
  if (failed) throw error;
}
