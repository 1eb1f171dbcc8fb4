import type { DeviceStats, IxyDevice, PacketBatch } from '@ixy/core';
import type { IxgbeModel } from './ixgbe-model.js';

/**
 * A driver's device on a simulated port. The model has no thread of its own, so this thin
 * wrapper lets it run where a card would run concurrently: before each rxBatch (frames from
 * the cable into the RX ring) and after each txBatch (sending what a full cable held back).
 * Everything else goes straight to the driver.
 */
export class SimPortDevice implements IxyDevice {
  readonly address: string;
  readonly driverName: string;
  readonly rxQueueCount: number;
  readonly txQueueCount: number;

  constructor(
    /** The driver's device. */
    readonly inner: IxyDevice,
    /** The model behind it. */
    readonly model: IxgbeModel,
  ) {
    this.address = inner.address;
    this.driverName = inner.driverName;
    this.rxQueueCount = inner.rxQueueCount;
    this.txQueueCount = inner.txQueueCount;
  }

  rxBatch(queue: number, batch: PacketBatch, max?: number): number {
    this.model.poll();
    return this.inner.rxBatch(queue, batch, max);
  }

  txBatch(queue: number, batch: PacketBatch): number {
    const n = this.inner.txBatch(queue, batch);
    this.model.poll();
    return n;
  }

  readStats(stats: DeviceStats): void {
    this.inner.readStats(stats);
  }

  resetStats(): void {
    this.inner.resetStats();
  }

  setPromisc(enabled: boolean): void {
    this.inner.setPromisc(enabled);
  }

  linkSpeed(): number {
    return this.inner.linkSpeed();
  }

  macAddress(): Uint8Array {
    return this.inner.macAddress();
  }

  setMacAddress(mac: Uint8Array): void {
    this.inner.setMacAddress(mac);
  }

  close(): void {
    this.inner.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
