import { InvalidOptionError } from './errors.js';
import type { PacketBatch } from './packet-batch.js';
import type { PacketPool } from './packet-pool.js';
import type { DeviceStats } from './stats.js';
import type { Wakeup } from './wakeup.js';

/**
 * The interface every driver implements, after ixy's `struct ixy_device`. Packets are handles
 * into mempools (see @ixy/memory). The contract, which `@ixy/core/testing`'s
 * `describeIxyDevice` checks for a driver:
 *
 * - The packet calls never throw for expected conditions: an empty queue receives 0, a full
 *   queue sends fewer. They throw only for a caller's mistake, and then change nothing.
 * - Errors are IxyErrors of one class per mistake, with a stable `code` (`IxyErrorCode`):
 *   a queue that does not exist, or any call but `close` after `close`: `DeviceStateError`
 *   (`EDEVSTATE`); a handle of no mempool, or (safe mode) a packet the caller does not own:
 *   `OwnershipError` (`EOWNERSHIP`); a frame the device cannot send: `FrameSizeError`
 *   (`EFRAMESIZE`); a MAC address that is not a unicast address: `InvalidOptionError`
 *   (`EINVALIDOPTION`).
 * - Nothing is allocated per packet in steady state.
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
   *
   * A bad packet anywhere in the batch (a frame the device cannot send, a handle of no
   * mempool, in safe mode a packet the caller does not own) makes the call throw having taken
   * none of the batch: every packet, before the bad one too, still belongs to the caller.
   * Either a prefix is taken and its length returned, or nothing is taken.
   */
  txBatch(queue: number, batch: PacketBatch): number;

  /**
   * Optional: the pool receive queue `queue` receives into, when every packet `rxBatch` returns
   * from it is a buffer of one pool (undefined when the driver does not say). A packet loop
   * that knows the pool reads its packets without looking their pool up per batch (ixy-fwd's
   * touch). Throws as `rxBatch` for a queue that does not exist or a closed device.
   */
  rxPool?(queue: number): PacketPool | undefined;

  /**
   * What a poll loop can sleep on while receive queue `queue` is idle (see Wakeup), or null
   * when this device cannot wake a sleeper (no interrupts, e.g. a card opened through sysfs
   * without VFIO): then the loop backs off with short sleeps instead. The same object is
   * returned every time.
   */
  rxWakeup(queue: number): Wakeup | null;

  /**
   * Adds the counts since the last read to `stats` (which the caller owns and keeps): reading
   * consumes them, as the cards' clear-on-read registers do, so two reads never count a packet
   * twice. Counters are JS numbers, exact to 2^53 (no wrap at 32 or 36 bits). Bytes count each
   * frame with its 4-byte FCS, as the cards' counters do (a 60-byte frame counts 64), so that
   * the stats line's 20 bytes of preamble and gap give the rate on the wire.
   */
  readStats(stats: DeviceStats): void;
  /** Discards the counts since the last read. */
  resetStats(): void;

  /** Promiscuous mode on (every frame received) or off (only frames to this MAC and broadcasts). */
  setPromisc(enabled: boolean): void;
  /** Current link speed in Mbit/s; 0 when the link is down. */
  linkSpeed(): number;
  /** The MAC address as six bytes, a new array on each call (the caller may keep it). */
  macAddress(): Uint8Array;
  /**
   * Sets the MAC address the device receives on (and `macAddress` returns). Throws
   * `InvalidOptionError` for anything but six bytes of a unicast address (not multicast, not
   * all zeros), changing nothing.
   */
  setMacAddress(mac: Uint8Array): void;

  /**
   * Stops the queues, returns the device to a safe state and releases its memory; packets the
   * driver held (queued for sending) go back to their pools. Idempotent: a second call does
   * nothing. Every other call after it throws `DeviceStateError`.
   */
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

/**
 * Checks a MAC address for `setMacAddress`: six bytes, unicast (bit 0 of the first byte
 * clear), not all zeros. Throws InvalidOptionError otherwise.
 */
export function checkMacAddress(mac: unknown): asserts mac is Uint8Array {
  if (!(mac instanceof Uint8Array) || mac.length !== 6) {
    const what = mac instanceof Uint8Array ? `${mac.length} bytes` : typeof mac;
    throw new InvalidOptionError(
      `a MAC address is a Uint8Array of 6 bytes, got ${what}`,
      'e.g. Uint8Array.of(0x02, 0, 0, 0, 0, 1)',
    );
  }
  if ((mac[0] & 1) !== 0) {
    throw new InvalidOptionError(
      `${formatMac(mac)} is a multicast address, which a port cannot have as its own`,
      'clear bit 0 of the first byte; 02:xx:xx:xx:xx:xx is a locally administered unicast address',
    );
  }
  if (mac.every((b) => b === 0)) {
    throw new InvalidOptionError('00:00:00:00:00:00 is not a MAC address a port can have', 'give a unicast address');
  }
}

/** `52:54:00:12:34:56`. */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}
