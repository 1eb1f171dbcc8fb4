import {
  IxyError,
  type AddressResolver,
  type DeviceAccess,
  type DeviceIdentity,
  type DmaAllocator,
  type OpenOptions,
  type Registers,
} from '@ixy/core';
import { HugepageAllocator } from '@ixy/memory';
import { isPciAddress, parsePciAddress } from './address.js';
import { CheckedRegisters, IoPortRegisters, MmioRegisters, releaseRegisters } from './registers.js';
import { PciBus, pciIdentity } from './sysfs.js';
import { VfioDeviceAccess } from './vfio.js';

/** A PCI device reached through sysfs, with DMA memory on hugepages (physical addresses). */
export class PciDeviceAccess implements DeviceAccess {
  readonly identity: DeviceIdentity;
  private readonly mapped: (MmioRegisters | IoPortRegisters)[] = [];

  constructor(
    readonly bus: PciBus,
    address: string,
    readonly dma: DmaAllocator = new HugepageAllocator(),
    private readonly safe = false,
    /** Take the device from its kernel driver when one is bound (else claim() refuses). */
    private readonly unbind = false,
  ) {
    const info = bus.info(address);
    this.identity = pciIdentity(info);
  }

  /** Unbinds the kernel driver (only with `unbind`) and enables bus mastering. */
  claim(): void {
    const address = this.identity.address;
    const driver = this.identity.kernelDriver;
    if (driver && !this.unbind) {
      const ifaces = this.bus.interfaces(address);
      throw new IxyError(
        'EDRIVERBOUND',
        `${address} is in use by the kernel driver ${driver}` +
          (ifaces.length ? ` (network interface ${ifaces.join(', ')})` : ''),
        `if this machine does not need it, let ixy take it: add --unbind (option unbind: true); ` +
          `or bind it to vfio-pci: ixy-setup vfio ${address}`,
      );
    }
    if (driver) this.bus.unbind(address);
    this.bus.enableBusMastering(address);
  }

  registers(bar: number): Registers {
    const kind = this.bus.bars(this.identity.address)[bar]?.kind;
    const regs =
      kind === 'io' ? this.bus.ioBar(this.identity.address, bar) : this.bus.mapBar(this.identity.address, bar);
    this.mapped.push(regs);
    return this.safe ? new CheckedRegisters(regs) : regs;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.bus.readConfig(this.identity.address, offset, width);
  }

  release(): void {
    releaseRegisters(this.mapped);
  }
}

/** Options of PCI devices (the bus's own): none beyond core's `unbind` and `safe`. */
export type PciOptions = Record<never, never>;
export const PCI_OPTION_NAMES: readonly never[] = [];

/**
 * Resolves PCI addresses (`0000:03:00.0`, `03:00.0`): devices bound to vfio-pci through VFIO,
 * all others through sysfs (unbind, resourceN, hugepages with pagemap addresses: root).
 */
export function createPciResolver(sysfsRoot = '/sys'): AddressResolver<PciOptions> {
  const bus = new PciBus(sysfsRoot);
  return {
    name: 'pci',
    optionNames: PCI_OPTION_NAMES,
    accepts: isPciAddress,
    resolve(address: string, options: OpenOptions): DeviceAccess {
      const canonical = parsePciAddress(address);
      // bound to vfio-pci (see PciBus.bindVfio): through the IOMMU; otherwise sysfs and pagemap
      if (bus.info(canonical).driver === 'vfio-pci') return new VfioDeviceAccess(bus, canonical, options.safe === true);
      return new PciDeviceAccess(
        bus,
        canonical,
        new HugepageAllocator(),
        options.safe === true,
        options.unbind === true,
      );
    },
  };
}

/** The resolver for the machine's own /sys. */
export const pciResolver = createPciResolver();
