// The driver's ring code alone: RX into a batch, TX of the same batch, with a trivial
// in-thread "card" that completes every descriptor at once (as the design brief's floor
// measurement does). No device model, no cable: what the driver itself costs per packet.
//   pnpm --filter @ixy/ixgbe bench [safe]
import { PacketBatch, type Registers } from '@ixy/core';
import { Mempool, simulatedMemory } from '@ixy/memory';
import { RxQueue } from '../src/rx-queue.js';
import { TxQueue } from '../src/tx-queue.js';
import { IXGBE_RDT, IXGBE_TDT } from '../src/registers.js';

/** On RDT: marks every descriptor up to it received (60 bytes); on TDT: marks them sent. */
class InstantCard implements Registers {
  readonly size = 0x20000;
  rx!: RxQueue;
  tx!: TxQueue;
  private rxHead = 0;
  private txHead = 0;
  read32(): number {
    return 0;
  }
  write32(offset: number, value: number): void {
    if (offset === IXGBE_RDT(0)) {
      const ring = this.rx.ring;
      for (; this.rxHead !== value; this.rxHead = (this.rxHead + 1) & this.rx.mask) {
        ring[(this.rxHead << 2) + 3] = 60;
        ring[(this.rxHead << 2) + 2] = 3;
      }
    } else if (offset === IXGBE_TDT(0)) {
      const ring = this.tx.ring;
      for (; this.txHead !== value; this.txHead = (this.txHead + 1) & this.tx.mask) ring[(this.txHead << 2) + 3] = 1;
    }
  }
  read16(): number {
    return 0;
  }
  write16(): void {}
  read8(): number {
    return 0;
  }
  write8(): void {}
}

const safe = process.argv[2] === 'safe';
const batchSize = Number(process.argv[3] ?? 32);
const card = new InstantCard();
const pool = new Mempool({ allocator: simulatedMemory, entries: 4096, safe });
card.rx = new RxQueue(0, 512, pool, simulatedMemory, card);
card.tx = new TxQueue(0, 512, 1518, simulatedMemory, card);
card.rx.fill();
card.write32(IXGBE_RDT(0), 511);
const batch = new PacketBatch(batchSize);

function forward(rounds: number): number {
  let packets = 0;
  for (let i = 0; i < rounds; i++) {
    const got = card.rx.receive(batch, batchSize);
    const sent = card.tx.send(batch);
    for (let j = sent; j < got; j++) pool.free(batch.handles[j]);
    packets += got;
  }
  return packets;
}

forward(200_000);
for (let r = 0; r < 3; r++) {
  const t = process.hrtime.bigint();
  const packets = forward(Math.ceil(32_000_000 / batchSize));
  const ns = Number(process.hrtime.bigint() - t);
  console.log(`${safe ? 'safe' : 'fast'} mode, batch ${batchSize}: ${(ns / packets).toFixed(2)} ns per packet (RX + TX)`);
}
