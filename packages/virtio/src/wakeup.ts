import type { DeviceAccess, FutexWord, Wakeup } from '@ixy/core';
import type { Virtqueue } from './virtqueue.js';

/**
 * A DeviceAccess that routes MSI-X vectors to eventfds (core's optional `enableMsix`, which
 * @ixy/pci's VfioDeviceAccess implements), and may undo that before `release`.
 */
export interface MsixAccess extends DeviceAccess {
  enableMsix(count: number): number[];
  /** Unbinds the vectors again and closes their eventfds (VfioDeviceAccess has it). */
  disableMsix?(): void;
}

/** Can this access deliver MSI-X interrupts into eventfds (a device opened through VFIO)? */
export function hasMsix(access: DeviceAccess): access is MsixAccess {
  return typeof access.enableMsix === 'function';
}

const NO_FUTEXES: readonly FutexWord[] = [];

/**
 * The receive queue's wake-up: its MSI-X vector signals an eventfd, and used buffer
 * notifications (§2.7.7) are on only between `arm` and `disarm`, so polling costs no
 * interrupts. `arm` re-checks the used ring after turning notifications on (a frame that
 * arrived before raised no interrupt) and returns false when one is waiting.
 */
export class VirtqueueWakeup implements Wakeup {
  readonly fds: readonly number[];
  readonly futexes = NO_FUTEXES;
  /** Set when the device closes: the rings are gone, so arm only says "poll". */
  closed = false;

  constructor(
    private readonly vq: Virtqueue,
    eventfd: number,
  ) {
    this.fds = [eventfd];
  }

  arm(): boolean {
    if (this.closed) return false;
    return this.vq.enableInterrupts();
  }

  disarm(): void {
    if (!this.closed) this.vq.disableInterrupts();
  }
}
