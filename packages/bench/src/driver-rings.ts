import { PacketBatch } from '@ixy/core';
import { RxQueue, TxQueue, registers as R } from '@ixy/ixgbe';
import { Mempool, SimulatedMemory } from '@ixy/memory';
import { InstantCard } from './instant-card.js';
import { measure, type Rate } from './measure.js';

/**
 * The ixgbe driver's RX and TX rings alone, against the InstantCard: receive a batch, send it
 * back out, free what TX did not take (ixy-fwd's loop without the touch), per packet. Fast and
 * safe mode, several batch sizes.
 */
export function driverRings(ghz: number, seconds: number, cases: { safe: boolean; batch: number }[]): Rate[] {
  return cases.map(({ safe, batch: batchSize }) => {
    const memory = new SimulatedMemory();
    const card = new InstantCard();
    const pool = new Mempool({ allocator: memory, entries: 4096, safe });
    card.rx = new RxQueue(0, 512, pool, memory, card);
    card.tx = new TxQueue(0, 512, 1518, memory, card);
    card.rx.fill();
    card.write32(R.IXGBE_RDT(0), 511);
    const batch = new PacketBatch(batchSize);
    const rate = measure(
      `ixgbe RX+TX, batch ${String(batchSize).padStart(3)}, ${safe ? 'safe' : 'fast'} mode`,
      () => {
        const got = card.rx.receive(batch, batchSize);
        const sent = card.tx.send(batch);
        if (sent < got) Mempool.freeBatch(batch, sent);
        return got;
      },
      ghz,
      seconds,
    );
    pool.close();
    return rate;
  });
}
