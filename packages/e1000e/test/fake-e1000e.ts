// A small 82574 for unit tests: a register file with the semantics the driver relies on
// (self-clearing reset, master-disable status, link up at 1000, clear-on-read ICR and
// statistics, IMS/IMC), legacy descriptor rings read and written through simulated DMA, a
// destination-address filter, and loud errors for driver mistakes (a ring enabled without a
// base, a descriptor address outside DMA memory, a tail past the ring, memory freed while
// receive or transmit can still reach it). Every register access is recorded.
import type { DeviceAccess, DeviceIdentity, Registers } from '@ixy/core';
import { SimulatedMemory, type SimulatedRegion } from '@ixy/memory';
import { registers as R } from '../src/index.js';

export interface Access {
  op: 'read' | 'write';
  offset: number;
  value: number;
}

const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
/** Clear-on-read statistics registers (the 64-bit pairs: reading the high half clears both). */
const CLEAR_ON_READ = [R.E1000_GPRC, R.E1000_GPTC, R.E1000_MPC, R.E1000_RNBC, R.E1000_TPR, R.E1000_TPT];

export class FakeE1000e implements Registers {
  readonly size = 128 * 1024;
  readonly regs = new Uint32Array(this.size / 4);
  trace: Access[] | null = null;
  /** Frames the card sent, as copies. */
  readonly sent: Uint8Array[] = [];
  /** Frames waiting in the packet buffer for a free descriptor. */
  readonly fifo: Uint8Array[] = [];
  resets = 0;

  constructor(readonly memory: SimulatedMemory) {
    this.powerOn();
    memory.onFree((region) => this.checkFree(region));
  }

  private powerOn(): void {
    this.regs.fill(0);
    this.set(R.E1000_CTRL, R.E1000_CTRL_FD | R.E1000_CTRL_SLU);
    this.set(R.E1000_STATUS, R.E1000_STATUS_LU | R.E1000_STATUS_FD | R.E1000_STATUS_SPEED_1000);
    this.set(R.E1000_EECD, R.E1000_EECD_AUTO_RD);
    this.set(R.E1000_TARC0, R.E1000_TARC_ENABLE | 3);
    this.set(R.E1000_RXCSUM, 0x300);
    this.set(R.E1000_PBA, 0x00140014); // 20 KiB receive, 20 KiB transmit
    // the NVM's MAC address in receive address 0
    this.set(R.E1000_RAL0, (MAC[0] | (MAC[1] << 8) | (MAC[2] << 16) | (MAC[3] << 24)) >>> 0);
    this.set(R.E1000_RAH0, (MAC[4] | (MAC[5] << 8) | R.E1000_RAH_AV) >>> 0);
  }

  get(offset: number): number {
    return this.regs[offset >>> 2];
  }

  set(offset: number, value: number): void {
    this.regs[offset >>> 2] = value >>> 0;
  }

  private record(op: 'read' | 'write', offset: number, value: number): void {
    this.trace?.push({ op, offset, value: value >>> 0 });
  }

  read32(offset: number): number {
    const value = this.readRegister(offset);
    this.record('read', offset, value);
    return value;
  }

  private readRegister(offset: number): number {
    if (offset < 0 || offset >= this.size || offset % 4 !== 0) throw new Error(`read of 0x${offset.toString(16)}`);
    const value = this.get(offset);
    if (offset === R.E1000_STATUS) {
      const ctrl = this.get(R.E1000_CTRL);
      return (value | ((ctrl & R.E1000_CTRL_GIO_MASTER_DISABLE) === 0 ? R.E1000_STATUS_GIO_MASTER_ENABLE : 0)) >>> 0;
    }
    if (offset === R.E1000_ICR || CLEAR_ON_READ.includes(offset)) this.set(offset, 0);
    if (offset === R.E1000_GORCH || offset === R.E1000_GOTCH) {
      this.set(offset, 0);
      this.set(offset - 4, 0);
    }
    return value;
  }

  write32(offset: number, value: number): void {
    this.record('write', offset, value);
    if (offset < 0 || offset >= this.size || offset % 4 !== 0) throw new Error(`write of 0x${offset.toString(16)}`);
    value >>>= 0;
    switch (offset) {
      case R.E1000_CTRL:
        if (value & R.E1000_CTRL_RST) {
          this.resets++;
          const ral = this.get(R.E1000_RAL0);
          const rah = this.get(R.E1000_RAH0);
          const stats = this.regs.slice(0x4000 >>> 2, 0x4100 >>> 2); // statistics survive a reset here
          this.powerOn();
          this.regs.set(stats, 0x4000 >>> 2);
          this.set(R.E1000_RAL0, ral);
          this.set(R.E1000_RAH0, rah);
          this.set(R.E1000_IMS, 0xffffffff); // "the reset re-armed interrupts": the driver masks again
          return;
        }
        this.set(offset, value);
        return;
      case R.E1000_STATUS:
        return; // read-only
      case R.E1000_IMS:
        this.set(offset, this.get(offset) | value);
        return;
      case R.E1000_IMC:
        this.set(R.E1000_IMS, this.get(R.E1000_IMS) & ~value);
        return;
      case R.E1000_ICR:
        this.set(offset, this.get(offset) & ~value);
        return;
      case R.E1000_RCTL:
        if (value & R.E1000_RCTL_EN && (this.get(R.E1000_RDLEN) === 0 || this.get(R.E1000_RDBAL) === 0))
          throw new Error('RCTL.EN with no receive ring');
        this.set(offset, value);
        this.receivePending();
        return;
      case R.E1000_TCTL:
        if (value & R.E1000_TCTL_EN && (this.get(R.E1000_TDLEN) === 0 || this.get(R.E1000_TDBAL) === 0))
          throw new Error('TCTL.EN with no transmit ring');
        this.set(offset, value);
        this.transmit();
        return;
      case R.E1000_RDT:
        if (value >= this.get(R.E1000_RDLEN) / 16 && this.get(R.E1000_RDLEN) > 0)
          throw new Error(`RDT ${value} past the ring`);
        this.set(offset, value);
        this.receivePending();
        return;
      case R.E1000_TDT:
        if (value >= this.get(R.E1000_TDLEN) / 16) throw new Error(`TDT ${value} past the ring`);
        this.set(offset, value);
        this.transmit();
        return;
      default:
        this.set(offset, value);
    }
  }

  read16(): number {
    throw new Error('the 82574 registers are 32-bit');
  }
  write16(): void {
    throw new Error('the 82574 registers are 32-bit');
  }
  read8(): number {
    throw new Error('the 82574 registers are 32-bit');
  }
  write8(): void {
    throw new Error('the 82574 registers are 32-bit');
  }

  // ---- DMA ----

  private dma(addr: number, length: number): { region: SimulatedRegion; offset: number } {
    const region = this.memory.find(addr, length);
    if (region === undefined) throw new Error(`DMA to 0x${addr.toString(16)} (+${length}): no DMA memory there`);
    return { region, offset: addr - region.base };
  }

  private ring(kind: 'rx' | 'tx'): { words: Uint32Array; size: number } {
    const [bal, bah, len] =
      kind === 'rx' ? [R.E1000_RDBAL, R.E1000_RDBAH, R.E1000_RDLEN] : [R.E1000_TDBAL, R.E1000_TDBAH, R.E1000_TDLEN];
    const base = this.get(bal) + this.get(bah) * 4294967296;
    const bytes = this.get(len);
    const { region, offset } = this.dma(base, bytes);
    return { words: new Uint32Array(region.buffer, offset, bytes / 4), size: bytes / 16 };
  }

  /** A frame arrives from the wire: filtered, then written to the next free descriptor or held. */
  deliver(frame: Uint8Array): void {
    const rctl = this.get(R.E1000_RCTL);
    if ((rctl & R.E1000_RCTL_EN) === 0) return;
    const dst = Array.from(frame.subarray(0, 6));
    const ral = this.get(R.E1000_RAL0);
    const rah = this.get(R.E1000_RAH0);
    const own = [ral & 0xff, (ral >>> 8) & 0xff, (ral >>> 16) & 0xff, ral >>> 24, rah & 0xff, (rah >>> 8) & 0xff];
    const broadcast = dst.every((b, i) => b === BROADCAST[i]);
    const multicast = (dst[0] & 1) === 1 && !broadcast;
    const accepted =
      (broadcast && (rctl & R.E1000_RCTL_BAM) !== 0) ||
      (multicast && (rctl & R.E1000_RCTL_MPE) !== 0) ||
      (!multicast && !broadcast && ((rctl & R.E1000_RCTL_UPE) !== 0 || dst.every((b, i) => b === own[i])));
    if (!accepted) return;
    this.fifo.push(frame.slice());
    this.receivePending();
  }

  private receivePending(): void {
    if ((this.get(R.E1000_RCTL) & R.E1000_RCTL_EN) === 0) return;
    while (this.fifo.length > 0) {
      const head = this.get(R.E1000_RDH);
      if (head === this.get(R.E1000_RDT)) {
        this.set(R.E1000_RNBC, this.get(R.E1000_RNBC) + 1);
        return;
      }
      const frame = this.fifo.shift() as Uint8Array;
      const { words, size } = this.ring('rx');
      const w = head * 4;
      const addr = words[w] + words[w + 1] * 4294967296;
      const { region, offset } = this.dma(addr, frame.length);
      region.bytes.set(frame, offset);
      words[w + 2] = frame.length; // CRC stripped (RCTL.SECRC), checksum 0
      words[w + 3] = R.E1000_RXD_STAT_DD | R.E1000_RXD_STAT_EOP;
      this.set(R.E1000_RDH, (head + 1) % size);
      this.set(R.E1000_GPRC, this.get(R.E1000_GPRC) + 1);
      this.addOctets(R.E1000_GORCL, frame.length + 4);
      this.set(R.E1000_ICR, this.get(R.E1000_ICR) | R.E1000_ICR_RXQ0);
    }
  }

  private transmit(): void {
    if ((this.get(R.E1000_TCTL) & R.E1000_TCTL_EN) === 0) return;
    if ((this.get(R.E1000_TARC0) & R.E1000_TARC_ENABLE) === 0) return;
    const { words, size } = this.ring('tx');
    while (this.get(R.E1000_TDH) !== this.get(R.E1000_TDT)) {
      const head = this.get(R.E1000_TDH);
      const w = head * 4;
      const addr = words[w] + words[w + 1] * 4294967296;
      const cmd = words[w + 2] & 0xff000000;
      const len = words[w + 2] & 0xffff;
      if ((cmd & R.E1000_TXD_CMD_DEXT) !== 0) throw new Error('not a legacy descriptor');
      if ((cmd & R.E1000_TXD_CMD_EOP) === 0) throw new Error('multi-descriptor frame');
      const { region, offset } = this.dma(addr, len);
      this.sent.push(region.bytes.slice(offset, offset + len));
      if (cmd & R.E1000_TXD_CMD_RS) words[w + 3] |= R.E1000_TXD_STAT_DD;
      this.set(R.E1000_TDH, (head + 1) % size);
      this.set(R.E1000_GPTC, this.get(R.E1000_GPTC) + 1);
      this.addOctets(R.E1000_GOTCL, Math.max(len, 60) + 4);
    }
  }

  private addOctets(low: number, n: number): void {
    const total = this.get(low) + this.get(low + 4) * 4294967296 + n;
    this.set(low, total % 4294967296);
    this.set(low + 4, Math.floor(total / 4294967296));
  }

  /** Freeing a ring or buffer the card can still reach is the bug close() must not have. */
  private checkFree(region: SimulatedRegion): void {
    if ((this.get(R.E1000_RCTL) & R.E1000_RCTL_EN) !== 0 || (this.get(R.E1000_TCTL) & R.E1000_TCTL_EN) !== 0) {
      if ((this.get(R.E1000_CTRL) & R.E1000_CTRL_GIO_MASTER_DISABLE) === 0)
        throw new Error(`DMA memory at 0x${region.base.toString(16)} freed while the card can reach it`);
    }
  }
}

/** A DeviceAccess over a FakeE1000e, as @ixy/pci would hand the driver a card. */
export class FakeAccess implements DeviceAccess {
  readonly dma = new SimulatedMemory();
  readonly card = new FakeE1000e(this.dma);
  readonly identity: DeviceIdentity = {
    address: '0000:00:10.0',
    bus: 'pci',
    vendorId: 0x8086,
    deviceId: 0x10d3,
    classCode: 0x020000,
  };
  claimed = false;
  released = false;
  msixCalls: number[] = [];
  enableMsix?: (count: number) => number[];

  constructor(options: { msix?: boolean } = {}) {
    if (options.msix)
      this.enableMsix = (count: number): number[] => {
        this.msixCalls.push(count);
        return Array.from({ length: count }, (_, i) => 100 + i);
      };
  }

  claim(): void {
    this.claimed = true;
  }
  registers(bar: number): Registers {
    if (bar !== 0) throw new Error(`BAR${bar} is not a register BAR`);
    return this.card;
  }
  readConfig(): number {
    return 0;
  }
  release(): void {
    this.released = true;
  }
}
