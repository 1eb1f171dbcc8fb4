import type { DeviceStats, FutexWord, IxyDevice, PacketBatch, PacketPool, Wakeup } from '@ixy/core';
import type { IxgbeModel } from './ixgbe-model.js';
import { CableError } from './cable-file.js';

/**
 * Sleeping on a simulated port: the model has no thread, so nothing happens on the port while
 * its process sleeps, and what can end the sleep is the peer: a frame arriving on the cable
 * (the peer's flush wakes us), or room on the cable while a transmit waits for it, or a link
 * change. Armed only when the driver has nothing left to take from its RX ring.
 */
/** The driver's side of an interrupt, where it has one (the ixgbe driver unmasks EIMS). */
interface InterruptArming {
  armRxInterrupt(queue: number): boolean;
  disarmRxInterrupt(queue: number): void;
}

function interruptArming(device: IxyDevice): InterruptArming | null {
  const d = device as Partial<InterruptArming>;
  return typeof d.armRxInterrupt === 'function' && typeof d.disarmRxInterrupt === 'function'
    ? (d as InterruptArming)
    : null;
}

class SimWakeup implements Wakeup {
  readonly fds: readonly number[] = [];
  readonly futexes: FutexWord[] = [];
  private readonly data: FutexWord | null;
  private readonly room: FutexWord | null;

  private readonly irq: InterruptArming | null;

  constructor(
    private readonly model: IxgbeModel,
    driver: IxyDevice,
  ) {
    this.irq = interruptArming(driver);
    const end = model.cableEnd;
    this.data = end ? { ...end.rx.wakeWord(true), value: 0 } : null;
    this.room = end ? { ...end.tx.wakeWord(false), value: 0 } : null;
  }

  // `futexes` is set by index and cut to length, never emptied and refilled: `length = 0` gives
  // an array up its storage, and the next store allocates it again (at each sleep of an idle
  // loop). A failed arm leaves it as it was: nobody sleeps on it then.
  arm(): boolean {
    const model = this.model;
    const end = model.cableEnd;
    const futexes = this.futexes;
    if (model.rxPending) return false;
    // the driver unmasks its queue's interrupt, as it would on a card (the model counts what
    // it sends); the cable is what wakes this process
    if (this.irq !== null && !this.irq.armRxInterrupt(0)) return false;
    if (end === null || this.data === null || this.room === null) {
      futexes.length = 0; // unplugged: a plain sleep
      return true;
    }
    if (!end.rx.armConsumer(this.data)) {
      this.irq?.disarmRxInterrupt(0);
      return false;
    }
    futexes[0] = this.data;
    if (model.txWaiting) {
      if (!end.tx.armProducer(this.room)) {
        end.rx.disarmConsumer();
        this.irq?.disarmRxInterrupt(0);
        return false;
      }
      futexes[1] = this.room;
      futexes.length = 2;
    } else {
      futexes.length = 1;
    }
    return true;
  }

  disarm(): void {
    this.irq?.disarmRxInterrupt(0);
    const end = this.model.cableEnd;
    end?.rx.disarmConsumer();
    end?.tx.disarmProducer();
  }
}

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
  private wakeup: SimWakeup | null = null;
  private closed = false;

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
    if (this.closed) return this.inner.rxBatch(queue, batch, max); // the driver says it is closed
    this.model.poll();
    const n = this.inner.rxBatch(queue, batch, max);
    if (n === 0) this.checkCable();
    return n;
  }

  /**
   * A cable whose shared indices made no sense (a corrupt or hostile peer) is not a condition
   * to poll through: the port says so, once its ring is empty, with the reason.
   */
  private checkCable(): void {
    const end = this.model.cableEnd;
    if (end !== null && end.broken !== '') {
      throw new CableError(
        'EBROKENCABLE',
        `${this.address}: the cable is broken: ${end.broken}`,
        'the process at the other end wrote nonsense into the shared cable: restart both ends on a new cable name',
      );
    }
  }

  /** The driver's, when it names it (IxyDevice.rxPool). */
  rxPool(queue: number): PacketPool | undefined {
    return this.inner.rxPool?.(queue);
  }

  txBatch(queue: number, batch: PacketBatch): number {
    const n = this.inner.txBatch(queue, batch);
    this.model.poll();
    return n;
  }

  /** Queue 0 only (the model receives on queue 0); the peer's cable writes wake it. */
  rxWakeup(queue: number): Wakeup | null {
    this.inner.rxWakeup(queue); // the driver checks the queue (and that it is open)
    if (queue !== 0) return null;
    this.wakeup ??= new SimWakeup(this.model, this.inner);
    return this.wakeup;
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
    this.closed = true;
    this.inner.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
