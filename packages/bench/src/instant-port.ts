import { type PacketBatch, type DeviceStats, type IxyDevice, type Wakeup } from '@ixy/core';
import { RxQueue, TxQueue, registers as R } from '@ixy/ixgbe';
import { Mempool, SimulatedMemory } from '@ixy/memory';
import { InstantCard } from './instant-card.js';

/**
 * Queue 0 of the ixgbe driver against the InstantCard, as an IxyDevice: `rxBatch` and
 * `txBatch` do what IxgbeDevice's do (look the queue up, call receive/send), so ixy-fwd's
 * `forwardBatch` runs on it unchanged. Rings of 512, a pool of 4096 buffers: as the C reference.
 * The port forwards to itself, so its TX queue's home is the pool it receives into, as for
 * each of ixy-fwd's ports, which share one pool (see IxgbeDevice's rxPool option).
 */
export class InstantPort implements IxyDevice {
  readonly address = 'instant';
  readonly driverName = 'ixgbe (instant card)';
  readonly rxQueueCount = 1;
  readonly txQueueCount = 1;
  readonly card = new InstantCard();
  readonly pool: Mempool;
  // as IxgbeDevice's packet path: frozen arrays in fields written once (see its rxPath), and
  // the closed check
  private readonly rx: readonly RxQueue[];
  private readonly tx: readonly TxQueue[];
  private closed = false;

  constructor(safe: boolean) {
    const memory = new SimulatedMemory();
    this.pool = new Mempool({ allocator: memory, entries: 4096, safe });
    this.card.rx = new RxQueue(0, 512, this.pool, memory, this.card);
    this.card.tx = new TxQueue(0, 512, 1518, memory, this.card, this.pool);
    this.rx = Object.freeze([this.card.rx]);
    this.tx = Object.freeze([this.card.tx]);
    this.card.rx.fill();
    this.card.write32(R.IXGBE_RDT(0), 511);
  }

  rxBatch(queue: number, batch: PacketBatch, max: number = batch.capacity): number {
    const q = this.rx[queue];
    if (q === undefined || this.closed) throw new RangeError(`no rx queue ${queue}`);
    return q.receive(batch, max < batch.capacity ? max : batch.capacity);
  }

  rxPool(queue: number): Mempool {
    const q = this.rx[queue];
    if (q === undefined || this.closed) throw new RangeError(`no rx queue ${queue}`);
    return q.pool;
  }

  txBatch(queue: number, batch: PacketBatch): number {
    const q = this.tx[queue];
    if (q === undefined || this.closed) throw new RangeError(`no tx queue ${queue}`);
    return q.send(batch);
  }

  /** Every buffer is in the RX ring, the TX ring or the pool: none lost, none twice. */
  buffersAccounted(): boolean {
    return this.pool.freeCount + this.card.rx.size + this.card.tx.inFlight === this.pool.entries;
  }

  rxWakeup(): Wakeup | null {
    return null;
  }
  readStats(_stats: DeviceStats): void {}
  resetStats(): void {}
  setPromisc(): void {}
  linkSpeed(): number {
    return 10000;
  }
  macAddress(): Uint8Array {
    return new Uint8Array(6);
  }
  setMacAddress(): void {}
  close(): void {
    this.closed = true;
  }
}
