import {
  DeviceStateError,
  InvalidAddressError,
  InvalidOptionError,
  type AddressResolver,
  type DeviceAccess,
  type DeviceIdentity,
  type OpenOptions,
  type Registers,
} from '@ixy/core';
import { simulatedMemory, type SimulatedMemory } from '@ixy/memory';
import { Cable, type CableEnd } from './cable.js';
import { IxgbeModel } from './ixgbe-model.js';

/** The bus's options, beyond core's (for openDevice's check of names). */
export const SIM_PORT_OPTION_NAMES = ['cableSlots', 'cableDir', 'cableGroup', 'mac'] as const;

/** Options of a simulated port, passed with the driver's options to openDevice. */
export interface SimPortOptions {
  /** Frame slots per direction when the cable is created (power of two, default 256). */
  cableSlots?: number;
  /** Directory for cable files (default /dev/shm, else the OS temp directory). */
  cableDir?: string;
  /** Share a new cable with this group (gid), and accept that group's cables: see CableOptions.group. */
  cableGroup?: number;
  /** The port's MAC address (default 02:00:00:<3 bytes from the cable name and end>). */
  mac?: Uint8Array;
}

const SIM_ADDRESS = /^sim:([A-Za-z0-9_.-]{1,100}):([01])$/;

/** Is this a simulated port address, `sim:<cable>:<0|1>`? */
export function isSimAddress(address: string): boolean {
  return SIM_ADDRESS.test(address);
}

/** Splits `sim:<cable>:<end>`; throws InvalidAddressError for anything else. */
export function parseSimAddress(address: string): { cable: string; end: 0 | 1 } {
  const m = SIM_ADDRESS.exec(address);
  if (!m || m[1].startsWith('.'))
    throw new InvalidAddressError(address, 'a simulated port is sim:<cable>:<0|1>, e.g. sim:a:0');
  return { cable: m[1], end: m[2] === '0' ? 0 : 1 };
}

/** A MAC for a port: locally administered, stable for a cable name and end. */
function defaultMac(cable: string, end: number): Uint8Array {
  let h = 0x811c9dc5;
  for (let i = 0; i < cable.length; i++) h = Math.imul(h ^ cable.charCodeAt(i), 0x01000193);
  return Uint8Array.of(0x02, 0x00, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xfe, end);
}

/**
 * A simulated 82599 port as a DeviceAccess: identity 8086:10fb on bus `sim`, the model as
 * BAR0, the process's simulated memory for DMA, and a cable end taken at claim().
 */
export class SimDeviceAccess implements DeviceAccess {
  readonly identity: DeviceIdentity;
  readonly dma: SimulatedMemory;
  readonly model: IxgbeModel;
  private cable: Cable | null;
  private end: CableEnd | null = null;

  constructor(address: string, options: SimPortOptions = {}, memory: SimulatedMemory = simulatedMemory) {
    const { cable, end } = parseSimAddress(address);
    this.identity = {
      address: `sim:${cable}:${end}`,
      bus: 'sim',
      vendorId: 0x8086,
      deviceId: 0x10fb,
      classCode: 0x020000,
      kernelDriver: null,
    };
    this.dma = memory;
    this.model = new IxgbeModel({ memory, mac: options.mac ?? defaultMac(cable, end) });
    this.cable = Cable.open(cable, { slots: options.cableSlots, dir: options.cableDir, group: options.cableGroup });
    this.endNumber = end;
  }

  private readonly endNumber: 0 | 1;

  /** Takes the cable end: the peer sees the link come up. */
  claim(): void {
    if (this.cable === null) throw new DeviceStateError(`${this.identity.address} was released`);
    if (this.end === null) {
      this.end = this.cable.attach(this.endNumber);
      this.model.plug(this.end);
    }
  }

  registers(bar: number): Registers {
    if (bar !== 0) throw new DeviceStateError(`the 82599 model has BAR0 only, not BAR${bar}`);
    return this.model;
  }

  /** Config space: vendor, device, command, class code; zero elsewhere. */
  readConfig(offset: number, width: 1 | 2 | 4): number {
    const cfg = new DataView(new ArrayBuffer(64));
    cfg.setUint16(0, this.identity.vendorId, true);
    cfg.setUint16(2, this.identity.deviceId, true);
    cfg.setUint16(4, this.end !== null ? 0x6 : 0, true); // memory space + bus master once claimed
    cfg.setUint32(8, (this.identity.classCode << 8) >>> 0, true);
    if (offset < 0 || offset + width > 64) return 0;
    return width === 1 ? cfg.getUint8(offset) : width === 2 ? cfg.getUint16(offset, true) : cfg.getUint32(offset, true);
  }

  /** Lets the cable end go (the peer's link drops) and closes the cable. Idempotent. */
  release(): void {
    this.model.plug(null);
    this.model.dispose();
    this.end?.detach();
    this.end = null;
    this.cable?.close();
    this.cable = null;
  }
}

/** Resolves `sim:<cable>:<end>` to a simulated 82599 port; options as SimPortOptions. */
export const simResolver: AddressResolver<SimPortOptions> = {
  name: 'sim',
  optionNames: SIM_PORT_OPTION_NAMES,
  accepts: isSimAddress,
  resolve(address: string, options: OpenOptions & SimPortOptions): DeviceAccess {
    const { cableSlots, cableDir, cableGroup, mac } = options;
    const kind = (name: string, ok: boolean, what: string): void => {
      if (!ok) throw new InvalidOptionError(`sim: ${name} must be ${what}`);
    };
    kind('cableSlots', cableSlots === undefined || typeof cableSlots === 'number', 'a number');
    kind('cableDir', cableDir === undefined || typeof cableDir === 'string', 'a directory path');
    kind('cableGroup', cableGroup === undefined || Number.isInteger(cableGroup), 'a group id');
    kind('mac', mac === undefined || mac instanceof Uint8Array, 'a Uint8Array of 6 bytes');
    return new SimDeviceAccess(address, { cableSlots, cableDir, cableGroup, mac });
  },
};
