// Runs INSIDE the guest (test/guest.test.ts boots it): exercises @ixy/pci and @ixy/memory (their
// built dist) on the guest's real sysfs, emulated NICs and hugepages, and writes what it saw
// to <share>/pci.json and <share>/memory.json. The host-side test asserts on those facts.
//
// NIC layout expected (test/guest.test.ts): 0 virtio-legacy, 1 virtio-modern, 2 e1000,
// 3 e1000 bound to the kernel's e1000 driver, 4 e1000e, 5 virtio-legacy.
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, writeFileSync } from 'node:fs';
import { HugepageAllocator, HugepageRegion, HUGEPAGE_SIZE, hugepageCounts, native } from '@ixy/memory';
import { PciBus } from '@ixy/pci';
import { guestNics, writeGuestResult } from '../guest.js';

export interface CheckError {
  name: string;
  code?: string;
  message: string;
  hint?: string;
}
export type Attempt<T> = { ok: true; value: T } | { ok: false; error: CheckError };

function attempt<T>(fn: () => T): Attempt<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    const e = err as Error & { code?: string; hint?: string };
    return { ok: false, error: { name: e.name, code: e.code, message: e.message, hint: e.hint } };
  }
}

const sysfs = (address: string, file: string): string => `/sys/bus/pci/devices/${address}/${file}`;
const readText = (path: string): string => readFileSync(path, 'utf8').trim();
const netInterfaces = (address: string): string[] =>
  existsSync(sysfs(address, 'net')) ? readdirSync(sysfs(address, 'net')) : [];

function pciChecks(): Record<string, unknown> {
  const bus = new PciBus('/sys');
  const nics = guestNics();
  const [vl, vm, e1000, e1000k, e1000e] = nics.map((n) => n.address);

  const list = attempt(() => bus.list());
  const overrides = Object.fromEntries(nics.map((n) => [n.address, readText(sysfs(n.address, 'driver_override'))]));

  // unbind with no driver (driver_override none): a no-op
  const unbindNoDriver = attempt(() => {
    const before = bus.info(vl).driver;
    bus.unbind(vl);
    return { before, after: bus.info(vl).driver };
  });

  // unbind from the real kernel driver (e1000 was allowed to bind NIC 3)
  const unbindKernel = attempt(() => {
    const before = bus.info(e1000k).driver;
    const netBefore = netInterfaces(e1000k);
    bus.unbind(e1000k);
    return { before, netBefore, after: bus.info(e1000k).driver, netAfter: netInterfaces(e1000k) };
  });

  // bus mastering: command register (config offset 4) bit 2
  const busMaster = attempt(() => {
    const before = bus.readConfig(e1000, 4, 2);
    bus.enableBusMastering(e1000);
    const after = bus.readConfig(e1000, 4, 2);
    return { before, after, busMastering: bus.busMastering(e1000) };
  });

  // memory BAR0 of e1000 / e1000e: STATUS (0x8), receive address RAL0/RAH0 (0x5400/0x5404),
  // and a write/read-back of RDBAL (0x2800, plain read/write while RX is off)
  const mmio = (address: string) =>
    attempt(() => {
      const bar = bus.bars(address)[0];
      const regs = bus.mapBar(address, 0);
      const status = regs.read32(0x8);
      const ral = regs.read32(0x5400);
      const rah = regs.read32(0x5404);
      regs.write32(0x2800, 0x12345000);
      const rdbal = regs.read32(0x2800);
      regs.write32(0x2800, 0);
      const rdbalReset = regs.read32(0x2800);
      const size = regs.size;
      regs.unmap();
      return { bar, size, status, ral, rah, rdbal, rdbalReset };
    });

  // legacy virtio: BAR0 is I/O ports, accessed with pread/pwrite (virtio 1.x §4.1.4.8)
  const legacyIo = attempt(() => {
    const bar = bus.bars(vl)[0];
    const io = bus.ioBar(vl, 0);
    const deviceFeatures = io.read32(0);
    const mac: number[] = [];
    for (let i = 0; i < 6; i++) mac.push(io.read8(20 + i)); // device config without MSI-X
    io.write16(14, 0); // queue select: RX
    const queue0Size = io.read16(12);
    io.write8(18, 1); // device status: ACKNOWLEDGE
    const statusAck = io.read8(18);
    io.write8(18, 0); // reset
    const statusReset = io.read8(18);
    io.close();
    return { bar, deviceFeatures, mac, queue0Size, statusAck, statusReset };
  });
  const mapIoBar = attempt(() => bus.mapBar(vl, 0));
  const ioBarOnMemory = attempt(() => bus.ioBar(e1000, 0));

  // modern virtio: vendor capabilities (id 0x09) in config space point into a memory BAR
  const modern = attempt(() => {
    const caps: { cfgType: number; bar: number; offset: number; length: number }[] = [];
    let ptr = bus.readConfig(vm, 0x34, 1) & 0xfc;
    for (let guard = 0; ptr !== 0 && guard < 48; guard++) {
      if (bus.readConfig(vm, ptr, 1) === 0x09) {
        caps.push({
          cfgType: bus.readConfig(vm, ptr + 3, 1),
          bar: bus.readConfig(vm, ptr + 4, 1),
          offset: bus.readConfig(vm, ptr + 8, 4),
          length: bus.readConfig(vm, ptr + 12, 4),
        });
      }
      ptr = bus.readConfig(vm, ptr + 1, 1) & 0xfc;
    }
    const common = caps.find((c) => c.cfgType === 1);
    let numQueues = -1;
    if (common) {
      const regs = bus.mapBar(vm, common.bar);
      numQueues = regs.read16(common.offset + 0x12);
      regs.unmap();
    }
    return { bars: bus.bars(vm), caps, numQueues };
  });

  return {
    nics,
    list,
    overrides,
    unbindNoDriver,
    unbindKernel,
    busMaster,
    e1000Mmio: mmio(e1000),
    e1000eMmio: mmio(e1000e),
    legacyIo,
    mapIoBar,
    ioBarOnMemory,
    modern,
  };
}

/** The physical frame of each 4 KiB page from /proc/self/pagemap, read here without the addon. */
function pagemapFrames(virt: number, bytes: number): { present: boolean; pfn: number }[] {
  const fd = openSync('/proc/self/pagemap', 'r');
  try {
    const out: { present: boolean; pfn: number }[] = [];
    const buf = Buffer.alloc(8);
    for (let off = 0; off < bytes; off += 4096) {
      readSync(fd, buf, 0, 8, ((virt + off) / 4096) * 8);
      const entry = buf.readBigUInt64LE(0);
      out.push({ present: entry >> 63n === 1n, pfn: Number(entry & ((1n << 55n) - 1n)) });
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function memoryChecks(): Record<string, unknown> {
  const dma = new HugepageAllocator();
  const countsBefore = hugepageCounts();
  const alloc = attempt(() => {
    const region = dma.allocate(2 * HUGEPAGE_SIZE);
    const view = new Uint32Array(region.buffer);
    for (let i = 0; i < view.length; i += 1024) view[i] = i ^ 0x5a5a5a5a;
    let patternOk = true;
    for (let i = 0; i < view.length; i += 1024) if (view[i] !== (i ^ 0x5a5a5a5a) >>> 0) patternOk = false;
    const virt = native().address(region.buffer as ArrayBuffer);
    const frames = pagemapFrames(virt, region.size);
    const pagePhys = region instanceof HugepageRegion ? Array.from(region.pagePhys) : [];
    const probes = [0, 4096 * 3 + 0x123, HUGEPAGE_SIZE - 1, HUGEPAGE_SIZE + 4096 * 100 + 8].map((offset) => ({
      offset,
      physAddr: region.physAddr(offset),
      pagemap: frames[Math.floor(offset / 4096)].pfn * 4096 + (offset % 4096),
    }));
    const countsDuring = hugepageCounts();
    region.free();
    return {
      size: region.size,
      contiguousChunk: region.contiguousChunk,
      virt,
      pagePhys,
      allPresent: frames.every((f) => f.present),
      // each 2 MiB page: are its 512 frames consecutive?
      pagesContiguous: [0, 1].map((p) =>
        frames.slice(p * 512, p * 512 + 512).every((f, i, a) => f.pfn === a[0].pfn + i),
      ),
      firstFrameAligned: [0, 1].map((p) => (frames[p * 512].pfn * 4096) % HUGEPAGE_SIZE === 0),
      probes,
      patternOk,
      countsDuring,
    };
  });
  const tooLargeContiguous = attempt(() => dma.allocate(2 * HUGEPAGE_SIZE, { contiguous: true }));

  // no hugepages reserved: a clear error (then restore the reservation)
  const nr = '/proc/sys/vm/nr_hugepages';
  const saved = readText(nr);
  writeFileSync(nr, '0');
  const countsNone = hugepageCounts();
  const noHugepages = attempt(() => dma.allocate(HUGEPAGE_SIZE));
  writeFileSync(nr, saved);
  return { countsBefore, alloc, tooLargeContiguous, countsNone, noHugepages, countsAfter: hugepageCounts() };
}

const pci = pciChecks();
writeGuestResult('pci', pci);
const memory = memoryChecks();
writeGuestResult('memory', memory);
console.log('guest checks written: pci.json, memory.json');
