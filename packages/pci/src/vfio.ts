import { closeSync, existsSync, readSync, writeSync } from 'node:fs';
import {
  IxyError,
  PermissionError,
  type DeviceAccess,
  type DeviceIdentity,
  type DmaAllocator,
  type DmaRegion,
  systemErrorCode,
  type Registers,
} from '@ixy/core';
import { allocHugepageBuffer, isNativeError, native as nativeMemory, unmapBuffer } from '@ixy/memory';
import { nativeVfio, type NativeVfio, type VfioRegionInfo } from './native.js';
import { CheckedRegisters, IoPortRegisters, MmioRegisters, releaseRegisters } from './registers.js';
import { pciIdentity, type PciBus } from './sysfs.js';

/** VFIO region indices (linux/vfio.h): BARs 0-5, then the ROM, then config space. */
const CONFIG_REGION = 7;
const REGION_FLAG_MMAP = 4;
const COMMAND_REGISTER = 4;
const COMMAND_BUS_MASTER = 1 << 2;
/** VFIO IRQ index of MSI-X on a PCI device (VFIO_PCI_MSIX_IRQ_INDEX; INTx is 0, MSI 1). */
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
/** VFIO_IRQ_INFO_EVENTFD: the index can signal eventfds. */
const IRQ_INFO_EVENTFD = 1;

/**
 * Turns an error of the addon into one a user can act on, by its fields (`code`, `syscall`:
 * the errno mapping native/vfio.cc shares with @ixy/memory), never by its message text.
 */
export function vfioError(err: unknown, what: string): never {
  if (!isNativeError(err)) throw err;
  const { code, syscall } = err;
  if (code === 'EACCES' || code === 'EPERM') {
    throw new PermissionError(
      `${what}: permission denied (${err.message})`,
      "give your user the device's /dev/vfio/<group> (ixy setup does: PciBus.bindVfio(address, { uid, gid })), and raise the locked-memory limit (ulimit -l) for DMA memory",
    );
  }
  if (syscall === 'VFIO_CHECK_EXTENSION') {
    throw new IxyError(
      'ENOVFIO',
      `${what}: the kernel offers no type-1 IOMMU backend`,
      'modprobe vfio_iommu_type1, and boot with the IOMMU on',
      { cause: err },
    );
  }
  if (syscall === 'VFIO_GET_API_VERSION') {
    throw new IxyError(
      'ENOVFIO',
      `${what}: ${err.message}`,
      "the kernel's VFIO is not the one linux/vfio.h describes",
      {
        cause: err,
      },
    );
  }
  if (syscall === 'VFIO_GROUP_GET_STATUS' && code === 'EBUSY') {
    throw new IxyError(
      'EVFIOGROUP',
      `${what}: the IOMMU group is not viable (a device of it is bound to a kernel driver)`,
      'bind every device of the group to vfio-pci (ixy-setup vfio <address> for each of /sys/kernel/iommu_groups/<group>/devices)',
      { cause: err },
    );
  }
  if (syscall === 'open' && code === 'EBUSY') {
    throw new IxyError(
      'EVFIOGROUP',
      `${what}: the IOMMU group is open already (VFIO lets one process, and one container, hold a group)`,
      'stop the other program using the device, or open every device of the group from one thread',
      { cause: err },
    );
  }
  if (code === 'ENOENT') {
    throw new IxyError(
      'ENOVFIO',
      `${what}: ${err.message}`,
      'load vfio-pci (modprobe vfio-pci) and boot with the IOMMU on (intel_iommu=on or amd_iommu=on)',
      { cause: err },
    );
  }
  throw new IxyError(systemErrorCode(code) ?? 'EVFIO', `${what}: ${err.message}`, undefined, { cause: err });
}

/** The calls that open a VFIO device (a parameter so tests can inject failures). */
export type NativeDeviceOpen = Pick<NativeVfio, 'deviceFd' | 'regionInfo'>;

/**
 * The fd of the device at `address` in a VFIO group, and its config-space region. The fd is
 * closed again when a later step fails: the caller owns it only once this returns.
 */
export function openVfioDevice(
  group: number,
  address: string,
  native: NativeDeviceOpen = nativeVfio(),
): { fd: number; config: VfioRegionInfo } {
  const what = `cannot open ${address} through VFIO`;
  let fd: number;
  try {
    fd = native.deviceFd(group, address);
  } catch (err) {
    vfioError(err, what);
  }
  try {
    return { fd, config: native.regionInfo(fd, CONFIG_REGION) };
  } catch (err) {
    closeSync(fd);
    vfioError(err, what);
  }
}

/**
 * The process's VFIO container: every device this process opens through VFIO is in it, so
 * one IOMMU mapping of a mempool serves all of them (a packet received on one port can be
 * sent from another). Opened on first use, kept for the life of the process.
 */
export class VfioContainer {
  private static instance: VfioContainer | undefined;
  private readonly groups = new Map<number, number>();
  /**
   * Next free I/O virtual address. Not the virtual address itself: IOMMUs may translate fewer
   * bits than the CPU (QEMU's intel-iommu: 39), so IOVAs start at 4 GiB and grow in 2 MiB
   * steps, never reused in the life of the process (room for hundreds of GiB).
   */
  private nextIova = 0x1_0000_0000;

  /** Reserves `size` bytes (rounded up to 2 MiB) of I/O virtual address space. */
  reserveIova(size: number): number {
    const iova = this.nextIova;
    this.nextIova += Math.ceil(size / 0x20_0000) * 0x20_0000;
    return iova;
  }

  static get(): VfioContainer {
    if (!VfioContainer.instance) {
      let fd: number;
      try {
        fd = nativeVfio().openContainer();
      } catch (err) {
        vfioError(err, 'cannot open the VFIO container /dev/vfio/vfio');
      }
      VfioContainer.instance = new VfioContainer(fd);
    }
    return VfioContainer.instance;
  }

  private constructor(readonly fd: number) {}

  /** The fd of IOMMU group `group`, added to the container on first use. */
  group(group: number): number {
    let fd = this.groups.get(group);
    if (fd === undefined) {
      try {
        fd = nativeVfio().addGroup(this.fd, `/dev/vfio/${group}`, this.groups.size === 0);
      } catch (err) {
        vfioError(err, `cannot use IOMMU group ${group}`);
      }
      this.groups.set(group, fd);
    }
    return fd;
  }

  get hasGroups(): boolean {
    return this.groups.size > 0;
  }
}

/** DMA memory mapped into the IOMMU: the device sees it at one contiguous I/O virtual address range. */
class VfioRegion implements DmaRegion {
  readonly size: number;
  /** The IOMMU maps the whole region contiguously. */
  readonly contiguousChunk: number;
  private freed = false;

  constructor(
    readonly buffer: ArrayBuffer,
    readonly iova: number,
    private readonly container: VfioContainer,
  ) {
    this.size = buffer.byteLength;
    this.contiguousChunk = buffer.byteLength;
  }

  physAddr(offset: number): number {
    return this.iova + offset;
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    try {
      nativeVfio().unmapDma(this.container.fd, this.iova, this.size);
    } finally {
      unmapBuffer(this.buffer);
    }
  }
}

/**
 * DMA memory for devices behind VFIO: hugepages (no root needed, no pagemap), mapped into the
 * process's IOMMU container at I/O virtual addresses from 4 GiB up (safe JS numbers). Any size
 * is device-contiguous.
 */
export class VfioDmaAllocator implements DmaAllocator {
  readonly name = 'vfio';

  allocate(size: number, _options: { contiguous?: boolean } = {}): DmaRegion {
    if (!Number.isSafeInteger(size) || size <= 0)
      throw new RangeError(`DMA size must be a positive integer, got ${size}`);
    const container = VfioContainer.get();
    if (!container.hasGroups) {
      throw new IxyError(
        'EVFIO',
        'VFIO DMA memory needs a device in the container first',
        'open the device before allocating its memory',
      );
    }
    const buffer = allocHugepageBuffer(size);
    const iova = container.reserveIova(buffer.byteLength);
    try {
      nativeVfio().mapDma(container.fd, buffer, iova);
    } catch (err) {
      unmapBuffer(buffer);
      vfioError(err, 'cannot map DMA memory into the IOMMU');
    }
    return new VfioRegion(buffer, iova, container);
  }
}

/** The allocator every VFIO device of this process shares. */
export const vfioDma = new VfioDmaAllocator();

/** The native calls VfioMsix uses (a parameter so tests can inject failures). */
export type NativeIrqs = Pick<NativeVfio, 'eventfd' | 'irqInfo' | 'setIrqEventfds' | 'disableIrqs'>;

/**
 * MSI-X vectors of a VFIO device, each signalling an eventfd: when the device raises vector
 * i, vfio-pci's interrupt handler in the kernel adds 1 to eventfd i, which makes it readable
 * (ppoll on it sleeps until then; a read resets it). Binding the vectors enables MSI-X on the
 * device; disabling unbinds them, turns MSI-X off and closes the eventfds. Nothing leaks when
 * a step fails.
 */
export class VfioMsix {
  private fds: number[] = [];

  constructor(
    private readonly device: number,
    private readonly what: string,
    private readonly native: NativeIrqs = nativeVfio(),
  ) {}

  /** The eventfds, one per vector (empty while disabled). */
  get eventfds(): readonly number[] {
    return this.fds;
  }

  /** Binds vectors 0..vectors-1 to fresh eventfds and returns them. */
  enable(vectors: number): number[] {
    if (!Number.isInteger(vectors) || vectors < 1)
      throw new RangeError(`MSI-X vectors must be a positive integer, got ${vectors}`);
    if (this.fds.length > 0) {
      throw new IxyError(
        'EMSIX',
        `${this.what}: MSI-X is enabled already (${this.fds.length} vectors)`,
        'disable it first (disableMsix)',
      );
    }
    let info: { count: number; flags: number };
    try {
      info = this.native.irqInfo(this.device, VFIO_PCI_MSIX_IRQ_INDEX);
    } catch (err) {
      vfioError(err, `${this.what}: cannot query its MSI-X interrupts`);
    }
    if (info.count < vectors || (info.flags & IRQ_INFO_EVENTFD) === 0) {
      throw new IxyError(
        'ENOMSIX',
        info.count === 0
          ? `${this.what} has no MSI-X interrupts`
          : info.count < vectors
            ? `${this.what} has ${info.count} MSI-X vectors, ${vectors} were asked for`
            : `${this.what}: VFIO cannot signal its MSI-X vectors through eventfds`,
        'poll the device without interrupts',
      );
    }
    const fds: number[] = [];
    try {
      for (let i = 0; i < vectors; i++) fds.push(this.native.eventfd());
      this.native.setIrqEventfds(this.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, Int32Array.from(fds));
    } catch (err) {
      for (const fd of fds) closeSync(fd);
      vfioError(err, `${this.what}: cannot route MSI-X vectors to eventfds`);
    }
    this.fds = fds;
    return fds.slice();
  }

  /** Unbinds the vectors (MSI-X off) and closes the eventfds; nothing to do when disabled. */
  disable(): void {
    if (this.fds.length === 0) return;
    const fds = this.fds;
    this.fds = [];
    try {
      this.native.disableIrqs(this.device, VFIO_PCI_MSIX_IRQ_INDEX);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }
}

/**
 * A PCI device bound to vfio-pci, reached through its VFIO device fd: BARs are regions of the
 * fd (mmap for memory BARs, pread/pwrite for I/O BARs), config space is region 7, and DMA
 * goes through the IOMMU. Needs root only for the set-up (binding, /dev/vfio permissions).
 */
export class VfioDeviceAccess implements DeviceAccess {
  readonly identity: DeviceIdentity;
  readonly dma: DmaAllocator = vfioDma;
  private readonly device: number;
  private readonly config: VfioRegionInfo;
  private readonly mapped: (MmioRegisters | IoPortRegisters)[] = [];
  private msix: VfioMsix | undefined;
  private released = false;

  constructor(
    bus: PciBus,
    address: string,
    private readonly safe = false,
  ) {
    const info = bus.info(address);
    if (info.iommuGroup === null) {
      throw new IxyError(
        'ENOIOMMU',
        `${info.address} has no IOMMU group`,
        'boot with the IOMMU on (intel_iommu=on or amd_iommu=on)',
      );
    }
    if (!existsSync(`/dev/vfio/${info.iommuGroup}`)) {
      throw new IxyError(
        'ENOVFIO',
        `/dev/vfio/${info.iommuGroup} does not exist`,
        `bind ${info.address} to vfio-pci first`,
      );
    }
    this.identity = pciIdentity(info);
    const group = VfioContainer.get().group(info.iommuGroup);
    const { fd, config } = openVfioDevice(group, info.address);
    this.device = fd;
    this.config = config;
  }

  /** Bound to vfio-pci already; what is left is bus mastering, through VFIO's config region. */
  claim(): void {
    const cmd = this.readConfig(COMMAND_REGISTER, 2);
    if (!(cmd & COMMAND_BUS_MASTER)) this.writeConfig(COMMAND_REGISTER, 2, cmd | COMMAND_BUS_MASTER);
  }

  registers(bar: number): Registers {
    let region: VfioRegionInfo;
    try {
      region = nativeVfio().regionInfo(this.device, bar);
    } catch (err) {
      vfioError(err, `${this.identity.address}: no BAR ${bar}`);
    }
    if (region.size === 0) throw new IxyError('ENOBAR', `${this.identity.address} has no BAR ${bar}`);
    let regs: MmioRegisters | IoPortRegisters;
    if (region.flags & REGION_FLAG_MMAP) {
      try {
        regs = new MmioRegisters(nativeMemory().mapFd(this.device, region.offset, region.size));
      } catch (err) {
        vfioError(err, `${this.identity.address}: cannot map BAR ${bar}`);
      }
    } else {
      regs = new IoPortRegisters({ fd: this.device, base: region.offset }, region.size);
    }
    this.mapped.push(regs);
    return this.safe ? new CheckedRegisters(regs) : regs;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    const buf = Buffer.alloc(width);
    if (readSync(this.device, buf, 0, width, this.config.offset + offset) !== width) {
      throw new IxyError('EIO', `${this.identity.address}: cannot read config space at ${offset}`);
    }
    return width === 1 ? buf.readUInt8(0) : width === 2 ? buf.readUInt16LE(0) : buf.readUInt32LE(0);
  }

  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    const buf = Buffer.alloc(width);
    if (width === 1) buf.writeUInt8(value, 0);
    else if (width === 2) buf.writeUInt16LE(value, 0);
    else buf.writeUInt32LE(value >>> 0, 0);
    if (writeSync(this.device, buf, 0, width, this.config.offset + offset) !== width) {
      throw new IxyError('EIO', `${this.identity.address}: cannot write config space at ${offset}`);
    }
  }

  /**
   * Interrupts: binds MSI-X vectors 0..vectors-1 to eventfds, one per vector, and returns them
   * (readable when the vector fired; see VfioMsix). Drivers feature-detect this method (a
   * device reached through sysfs has no way to receive interrupts). Throws IxyError ENOMSIX
   * when the device has fewer vectors, EMSIX when they are bound already. `release` undoes it.
   */
  enableMsix(vectors: number): number[] {
    if (this.released) throw new IxyError('ERELEASED', `${this.identity.address}: the device was released`);
    this.msix ??= new VfioMsix(this.device, this.identity.address);
    return this.msix.enable(vectors);
  }

  /** Unbinds the MSI-X vectors and closes their eventfds (also done by `release`). */
  disableMsix(): void {
    this.msix?.disable();
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      this.msix?.disable();
    } finally {
      releaseRegisters(this.mapped);
      closeSync(this.device);
    }
  }
}
