import type { DmaAllocator } from './dma.js';
import type { IxyDevice } from './device.js';
import type { PacketPool } from './packet-pool.js';
import type { Registers } from './registers.js';
import { IxyError, InvalidAddressError, NoDriverError, UnknownOptionError } from './errors.js';

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
   * Interrupts (VFIO): routes MSI-X vectors 0..count-1 of the device to new eventfds and
   * returns them (fd i fires for vector i); they are closed and the vectors disabled at
   * `release`. Left out where the device cannot interrupt the process (sysfs without VFIO,
   * device models): drivers then return null from rxWakeup.
   */
  enableMsix?(count: number): number[];
  /** Unmaps what `registers` mapped. */
  release(): void;
}

/**
 * Options every driver understands (core's part of a driver's options). Drivers extend it with
 * their own (`IxgbeOptions`, `VirtioOptions`) and list those in `DriverFactory.optionNames`;
 * buses list theirs in `AddressResolver.optionNames`. `openDevice` rejects any other option
 * with `UnknownOptionError` (`EUNKNOWNOPTION`), naming the known ones.
 */
export interface OpenOptions {
  /** RX queues to set up (default 1). */
  rxQueues?: number;
  /** TX queues to set up (default 1). */
  txQueues?: number;
  /** Descriptors per ring (driver default when left out). */
  ringSize?: number;
  /** Packet buffers in each RX queue's mempool (driver default when left out). */
  poolSize?: number;
  /**
   * A pool to receive into instead of creating one, e.g. another port's `rxPool(0)`: ports
   * that share one pool, as DPDK applications' do, send packets of the pool they receive into,
   * which a driver's TX path may take faster (ixgbe does). Used where the driver can: a pool
   * of @ixy/memory whose memory the device reaches (`dmaReaches`), in the device's safe mode,
   * with buffers that hold a frame; otherwise the driver creates its own pool as without the
   * option (`rxPool(0)` tells which). The device does not close a pool it was given; whoever
   * created it does (a pool closed with buffers still out is released when the last is back,
   * but gives out no more: close the devices sharing it together).
   */
  rxPool?: PacketPool;
  /** Safe mode: bounds-checked registers and packet ownership checks. */
  safe?: boolean;
  /**
   * Take a PCI device away from the kernel driver bound to it (as C ixy always does). Without
   * it, opening such a device fails and says so: it may be a card the machine needs. Devices
   * that are not on PCI ignore it.
   */
  unbind?: boolean;
  /**
   * Lossless receive where the link can do it: a full RX ring holds frames back instead of
   * dropping them (ixgbe: 802.3x PAUSE frames, default off as in C ixy). A virtio device has
   * no such setting and needs none: it is handed only as many frames as buffers are posted,
   * and the hypervisor holds the rest (QEMU does). What apps' `--lossless` asks for.
   */
  flowControl?: boolean;
}

/** The keys of OpenOptions: accepted by every driver on every bus. */
export const OPEN_OPTION_NAMES: readonly (keyof OpenOptions)[] = [
  'rxQueues',
  'txQueues',
  'ringSize',
  'poolSize',
  'rxPool',
  'safe',
  'unbind',
  'flowControl',
];

/**
 * Options as an app passes them to `openDevice`, which does not know the driver yet: core's
 * plus any driver's or bus's own, checked against the chosen driver and bus when it opens.
 */
export type DeviceOptions = OpenOptions & { readonly [option: string]: unknown };

/** The names of a driver's (or a bus's) own options: the keys of `O` beyond OpenOptions. */
export type OptionNames<O> = readonly Exclude<keyof O & string, keyof OpenOptions>[];

/** Turns an address string into a DeviceAccess. `@ixy/pci` resolves PCI addresses. */
export interface AddressResolver<O extends object = object> {
  readonly name: string;
  /** The bus's own options (e.g. a simulated port's `cableSlots`), besides core's. */
  readonly optionNames: OptionNames<O>;
  accepts(address: string): boolean;
  resolve(address: string, options: OpenOptions & Partial<O>): DeviceAccess;
}

/**
 * A driver, as registered by its package (ours and third parties' alike). `O` is the driver's
 * options type: `DriverFactory<IxgbeOptions>`.
 */
export interface DriverFactory<O extends OpenOptions = OpenOptions> {
  readonly name: string;
  /**
   * Set by a driver made for the devices of one bus only (a simulator's port driver, which
   * runs its device model around the card's driver): it is tried before the drivers that
   * match devices by their IDs on any bus. Card drivers leave it out.
   */
  readonly bus?: string;
  /** The driver's own options, besides core's OpenOptions (what `openDevice` lets through). */
  readonly optionNames: OptionNames<O>;
  /** Does this driver handle that device? */
  matches(identity: DeviceIdentity): boolean;
  /** Opens the device. Options arrive checked for unknown names, not for values. */
  open(access: DeviceAccess, options: O): IxyDevice;
}

/** A registered driver, whatever its options type. */
export type RegisteredDriver = DriverFactory<DeviceOptions>;
/** A registered resolver, whatever its options type. */
export type RegisteredResolver = AddressResolver<{ readonly [option: string]: unknown }>;

const drivers: RegisteredDriver[] = [];
const dmaOfDevice = new WeakMap<IxyDevice, DmaAllocator>();
const resolvers: RegisteredResolver[] = [];

/** Registers a driver. Registering the same factory (or name) twice keeps one. */
export function registerDriver<O extends OpenOptions>(factory: DriverFactory<O>): void {
  const registered = factory as unknown as RegisteredDriver;
  const at = drivers.findIndex((d) => d.name === factory.name);
  if (at >= 0) drivers[at] = registered;
  else drivers.push(registered);
}

/** Registers an address resolver. Registering the same name twice keeps one. */
export function registerResolver<O extends object>(resolver: AddressResolver<O>): void {
  const registered = resolver as unknown as RegisteredResolver;
  const at = resolvers.findIndex((r) => r.name === resolver.name);
  if (at >= 0) resolvers[at] = registered;
  else resolvers.push(registered);
}

export function registeredDrivers(): readonly RegisteredDriver[] {
  return drivers;
}

export function registeredResolvers(): readonly RegisteredResolver[] {
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
export function openDevice(address: string, opts: OpenOptions | DeviceOptions = {}): IxyDevice {
  // a driver's options interface (IxgbeOptions) or an app's bag of options alike
  const options = opts as DeviceOptions;
  const resolver = resolvers.find((r) => r.accepts(address));
  if (!resolver) {
    const buses = 'PCI addresses need @ixy/pci imported, simulated ports @ixy/sim (@ixy/drivers loads both)';
    if (resolvers.length === 0) {
      throw new IxyError('ENORESOLVER', `cannot open ${address}: no address resolver is registered`, buses);
    }
    const names = resolvers.map((r) => r.name);
    throw new InvalidAddressError(
      address,
      names.includes('pci') && names.includes('sim')
        ? undefined
        : `no registered resolver takes it (registered: ${names.join(', ')}); ${buses}`,
    );
  }
  const access = resolver.resolve(address, options);
  const driver = findDriver(access.identity);
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
  const known = knownOptions(resolver, driver);
  for (const key of Object.keys(options)) {
    if (options[key] !== undefined && !known.includes(key)) {
      access.release();
      throw new UnknownOptionError(key, `the ${driver.name} driver on ${access.identity.address}`, known);
    }
  }
  let device: IxyDevice;
  try {
    device = driver.open(access, options);
  } catch (err) {
    access.release();
    throw err;
  }
  dmaOfDevice.set(device, access.dma);
  return device;
}

/**
 * The driver for a device: the first registered driver for the device's bus that matches it,
 * else the first driver (of no particular bus) that matches it.
 */
export function findDriver(identity: DeviceIdentity): RegisteredDriver | undefined {
  return (
    drivers.find((d) => d.bus === identity.bus && d.matches(identity)) ??
    drivers.find((d) => d.bus === undefined && d.matches(identity))
  );
}

/** The options `openDevice` lets through for this bus and driver: core's, the bus's, the driver's. */
export function knownOptions(resolver: RegisteredResolver, driver: RegisteredDriver): readonly string[] {
  return [...OPEN_OPTION_NAMES, ...(resolver.optionNames ?? []), ...(driver.optionNames ?? [])];
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
