import type { PacketBatch } from './packet-batch.js';
import type { DeviceStats } from './stats.js';
import type { Wakeup } from './wakeup.js';

/**
 * The interface every driver implements, after ixy's `struct ixy_device`.
 *
 * The packet calls never throw for expected conditions: an empty queue receives 0, a full
 * queue sends fewer. Packets are handles into mempools (see @ixy/memory).
 */
export interface IxyDevice {
  /** The address the device was opened with (`0000:03:00.0`, `sim:a:0`). */
  readonly address: string;
  /** The driver's name (`ixgbe`, `virtio`). */
  readonly driverName: string;
  readonly rxQueueCount: number;
  readonly txQueueCount: number;

  /**
   * Receives up to `max` packets (default: the batch's capacity) from `queue` into `batch`,
   * replacing its contents; returns the count, also left in `batch.length`. The caller owns
   * the received packets.
   */
  rxBatch(queue: number, batch: PacketBatch, max?: number): number;

  /**
   * Sends the packets `batch.handles[0, batch.length)` on `queue`, in order, and returns how
   * many the driver took: those first n now belong to the driver, which frees them once sent.
   * The rest still belong to the caller (send again, or free them). `batch` is not modified.
   */
  txBatch(queue: number, batch: PacketBatch): number;

  /**
   * What a poll loop can sleep on while receive queue `queue` is idle (see Wakeup), or null
   * when this device cannot wake a sleeper (no interrupts, e.g. a card opened through sysfs
   * without VFIO): then the loop backs off with short sleeps instead. The same object is
   * returned every time.
   */
  rxWakeup(queue: number): Wakeup | null;

  /** Adds the counts since the last read to `stats` (which the caller owns and keeps). */
  readStats(stats: DeviceStats): void;
  /** Zeroes the device's counters (since-last-read counts are discarded). */
  resetStats(): void;

  setPromisc(enabled: boolean): void;
  /** Current link speed in Mbit/s; 0 when the link is down. */
  linkSpeed(): number;
  /** The MAC address as six bytes. */
  macAddress(): Uint8Array;
  setMacAddress(mac: Uint8Array): void;

  /** Stops the queues, returns the device to a safe state and releases its memory. */
  close(): void;
}

/**
 * Sends the whole batch, retrying until the queue has taken every packet (ixy's
 * tx_batch_busy_wait). Use when dropping is not an option, e.g. in a packet generator.
 */
export function txBatchBusyWait(dev: IxyDevice, queue: number, batch: PacketBatch): void {
  while (batch.length > 0) {
    const sent = dev.txBatch(queue, batch);
    batch.shift(sent);
  }
}
