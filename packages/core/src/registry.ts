import type { DmaAllocator } from './dma.js';
import type { IxyDevice } from './device.js';
import type { Registers } from './registers.js';
import { IxyError, InvalidAddressError, NoDriverError } from './errors.js';

/** What a device is: enough for a driver to decide whether it handles it. */
export interface DeviceIdentity {
  /** Canonical address (`0000:03:00.0`, `sim:a:0`). */
  readonly address: string;
  /** Which bus the device sits on: `pci` for hardware, a model's name for simulated ports. */
  readonly bus: string;
  readonly vendorId: number;
  readonly deviceId: number;
  /** PCI class code, 24 bits (0x020000 = Ethernet controller). */
  readonly classCode: number;
  /** Kernel driver bound to it, if any (hardware only). */
  readonly kernelDriver?: string | null;
}

/**
 * How a driver reaches one device: its registers, its config space, DMA memory it can use.
 * Resolvers hand one to the driver; the driver never needs to know whether the other side is
 * a card or a model.
 */
export interface DeviceAccess {
  readonly identity: DeviceIdentity;
  readonly dma: DmaAllocator;
  /** Takes the device for this process: unbinds its kernel driver and enables bus mastering. */
  claim(): void;
  /** Registers of a BAR (memory-mapped, or through port I/O for an I/O BAR). */
  registers(bar: number): Registers;
  /** Reads config space (1, 2 or 4 bytes, little endian). */
  readConfig(offset: number, width: 1 | 2 | 4): number;
  /**
   * For buses whose devices need the process's attention to run (device models standing in
   * for a card's own concurrency): wraps the driver's device. Hardware buses leave it out.
   */
  wrapDevice?(device: IxyDevice): IxyDevice;
  /**
   * Interrupts (VFIO): routes MSI-X vectors 0..count-1 of the device to new eventfds and
   * returns them (fd i fires for vector i); they are closed and the vectors disabled at
   * `release`. Left out where the device cannot interrupt the process (sysfs without VFIO,
   * device models): drivers then return null from rxWakeup.
   */
  enableMsix?(count: number): number[];
  /** Unmaps what `registers` mapped. */
  release(): void;
}

/** Options understood by all drivers; drivers document their own extras. */
export interface OpenOptions {
  /** RX queues to set up (default 1). */
  rxQueues?: number;
  /** TX queues to set up (default 1). */
  txQueues?: number;
  /** Descriptors per ring (driver default when left out). */
  ringSize?: number;
  /** Packet buffers in each RX queue's mempool (driver default when left out). */
  poolSize?: number;
  /** Safe mode: bounds-checked registers and packet ownership checks. */
  safe?: boolean;
  /**
   * Take a PCI device away from the kernel driver bound to it (as C ixy always does). Without
   * it, opening such a device fails and says so: it may be a card the machine needs.
   */
  unbind?: boolean;
  /** Driver-specific settings. */
  [option: string]: unknown;
}

/** Turns an address string into a DeviceAccess. `@ixy/pci` resolves PCI addresses. */
export interface AddressResolver {
  readonly name: string;
  accepts(address: string): boolean;
  resolve(address: string, options: OpenOptions): DeviceAccess;
}

/** A driver, as registered by its package (ours and third parties' alike). */
export interface DriverFactory {
  readonly name: string;
  /** Does this driver handle that device? */
  matches(identity: DeviceIdentity): boolean;
  open(access: DeviceAccess, options: OpenOptions): IxyDevice;
}

const drivers: DriverFactory[] = [];
const dmaOfDevice = new WeakMap<IxyDevice, DmaAllocator>();
const resolvers: AddressResolver[] = [];

/** Registers a driver. Registering the same factory (or name) twice keeps one. */
export function registerDriver(factory: DriverFactory): void {
  const at = drivers.findIndex((d) => d.name === factory.name);
  if (at >= 0) drivers[at] = factory;
  else drivers.push(factory);
}

/** Registers an address resolver. Registering the same name twice keeps one. */
export function registerResolver(resolver: AddressResolver): void {
  const at = resolvers.findIndex((r) => r.name === resolver.name);
  if (at >= 0) resolvers[at] = resolver;
  else resolvers.push(resolver);
}

export function registeredDrivers(): readonly DriverFactory[] {
  return drivers;
}

export function registeredResolvers(): readonly AddressResolver[] {
  return resolvers;
}

/** Removes every driver and resolver (for tests). */
export function clearRegistry(): void {
  drivers.length = 0;
  resolvers.length = 0;
}

function hex(n: number, digits: number): string {
  return n.toString(16).padStart(digits, '0');
}

/** `8086:10fb class 020000` for messages. */
export function describeIdentity(id: DeviceIdentity): string {
  return `${hex(id.vendorId, 4)}:${hex(id.deviceId, 4)} class ${hex(id.classCode, 6)}`;
}

/**
 * Opens the device at `address` with the first registered driver that matches it
 * (ixy's ixy_init). Fails with an IxyError that says what is wrong and what to do.
 */
export function openDevice(address: string, options: OpenOptions = {}): IxyDevice {
  const resolver = resolvers.find((r) => r.accepts(address));
  if (!resolver) {
    if (resolvers.length === 0) {
      throw new IxyError(
        'ENORESOLVER',
        `cannot open ${address}: no address resolver is registered`,
        'import a driver package (e.g. @ixy/ixgbe) before opening devices',
      );
    }
    throw new InvalidAddressError(address);
  }
  const access = resolver.resolve(address, options);
  const driver = drivers.find((d) => d.matches(access.identity));
  if (!driver) {
    access.release();
    const isNic = access.identity.classCode >>> 16 === 0x02;
    const known = drivers.map((d) => d.name).join(', ') || 'none';
    throw new NoDriverError(
      access.identity.address,
      describeIdentity(access.identity) + (isNic ? '' : ', not a network controller'),
      isNic
        ? `no registered driver supports this card (registered: ${known}); install and load a driver package for it`
        : 'pick a network card: see `lspci -D -d ::0200`',
    );
  }
  let device: IxyDevice;
  try {
    device = driver.open(access, options);
  } catch (err) {
    access.release();
    throw err;
  }
  const opened = access.wrapDevice ? access.wrapDevice(device) : device;
  dmaOfDevice.set(opened, access.dma);
  return opened;
}

/**
 * DMA memory the device can reach (hugepages for PCI devices, simulated memory for models):
 * where an app allocates the mempools of packets it builds itself, e.g. a packet generator.
 */
export function deviceDma(device: IxyDevice): DmaAllocator {
  const dma = dmaOfDevice.get(device);
  if (!dma) throw new IxyError('ENOTOPENED', `${device.address} was not opened with openDevice()`);
  return dma;
}
