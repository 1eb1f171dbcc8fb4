import { PacketBatch } from '@ixy/core';
import type { StatsReporter } from './stats-reporter.js';
import { stopSignals } from './stop-signals.js';

/**
 * What an app handed to a port's TX queue 0 since the port was opened (the frames `txBatch`
 * took), and the frames it still holds for it, if any (ixy-fwd's lossless mode holds what a
 * full ring did not take). `forwardBatch` and `forwardHeld` count into it when given one.
 */
export interface TxHandover {
  handed: number;
  held?: PacketBatch;
}

/** How long the drain waits while no frame leaves (ms). */
const PATIENCE_MS = 2000;
/** A wait the user notices is explained once, after this long (ms). */
const SAY_AFTER_MS = 500;

/**
 * At an app's stop, before it closes its ports: waits for what it handed to their TX queues to
 * leave. A port still sends what its ring holds, and closing it discards what is left (a device
 * reset), so without the wait a slow receiver behind a lossless link, or a port paused by flow
 * control, loses those frames without a count. Frames the app still holds for a port go out
 * first. The wait lasts as long as frames still leave; it gives up after 2 s in which none did,
 * or at another stop signal (Ctrl-C). A frame counts as left when the port's counters count it
 * sent (`DeviceStats.txPackets`), so the app must be the only sender on the port.
 *
 * `handovers[i]` is for the reporter's device `i` (undefined: the app sent nothing there).
 * Returns, per device, the frames that never left: still in its ring or still held.
 */
export async function drainTx(
  app: string,
  reporter: StatsReporter,
  handovers: readonly (TxHandover | undefined)[],
): Promise<number[]> {
  const empty = new PacketBatch(1);
  const signalsBefore = stopSignals();
  const pending = (): number[] =>
    handovers.map((h, i) =>
      h === undefined ? 0 : Math.max(0, h.handed - reporter.current(i).txPackets) + (h.held?.length ?? 0),
    );
  const sum = (counts: number[]): number => counts.reduce((a, b) => a + b, 0);
  let left = pending();
  let total = sum(left);
  let patience = performance.now() + PATIENCE_MS;
  const sayAt = performance.now() + SAY_AFTER_MS;
  let said = false;
  while (total > 0 && performance.now() < patience && stopSignals() === signalsBefore) {
    handovers.forEach((h, i) => {
      if (h === undefined) return;
      const dev = reporter.device(i);
      const held = h.held;
      if (held !== undefined && held.length > 0) {
        const n = dev.txBatch(0, held);
        held.shift(n);
        h.handed += n;
      } else {
        dev.txBatch(0, empty); // cleans up what was sent, as a send does
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1));
    left = pending();
    const now = sum(left);
    if (now < total) patience = performance.now() + PATIENCE_MS;
    total = now;
    if (!said && total > 0 && performance.now() > sayAt) {
      said = true;
      const rings = handovers.filter((h) => h !== undefined).length > 1 ? 'TX rings' : 'TX ring';
      console.log(`${app}: waiting for ${total} frames still in the ${rings} to leave (Ctrl-C stops)`);
    }
  }
  return left;
}
