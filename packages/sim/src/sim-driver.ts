import {
  DeviceStateError,
  NoDriverError,
  describeIdentity,
  registeredDrivers,
  type DeviceAccess,
  type DeviceIdentity,
  type DeviceOptions,
  type DriverFactory,
  type IxyDevice,
  type RegisteredDriver,
} from '@ixy/core';
import { SimDeviceAccess } from './sim-access.js';
import { SimPortDevice } from './sim-port.js';

/** The card driver for a simulated port's device: the first registered driver of no particular bus that matches. */
function cardDriver(identity: DeviceIdentity): RegisteredDriver | undefined {
  return registeredDrivers().find((d) => d.bus === undefined && d.matches(identity));
}

/** What every simulated port is (the model is an 82599 SFP+). */
const MODEL_IDENTITY: DeviceIdentity = {
  address: 'sim:model:0',
  bus: 'sim',
  vendorId: 0x8086,
  deviceId: 0x10fb,
  classCode: 0x020000,
};

/**
 * The driver of simulated ports (bus `sim`), which core tries before the card drivers: it
 * opens the port's device with the card's own driver (ixgbe, found in the registry: this
 * package does not depend on it) and wraps it in a SimPortDevice, which lets the model run
 * where a card would run beside the driver: before each rxBatch and after each txBatch. The
 * model's link is there at once or comes with the peer, so the card driver is told not to
 * wait for it (`linkTimeoutMs: 0` unless given).
 *
 * So neither core nor the card driver knows about the simulator: core picks drivers of a
 * device's own bus first, and the card driver sees a DeviceAccess like any other.
 */
export const simPortDriver: DriverFactory<DeviceOptions> = {
  name: 'sim-port',
  bus: 'sim',
  get optionNames(): readonly string[] {
    return cardDriver(MODEL_IDENTITY)?.optionNames ?? [];
  },
  matches(identity: DeviceIdentity): boolean {
    return identity.bus === 'sim';
  },
  open(access: DeviceAccess, options: DeviceOptions): IxyDevice {
    if (!(access instanceof SimDeviceAccess))
      throw new DeviceStateError(`${access.identity.address}: not a simulated port of @ixy/sim`);
    const card = cardDriver(access.identity);
    if (card === undefined)
      throw new NoDriverError(
        access.identity.address,
        describeIdentity(access.identity),
        'a simulated port is an 82599: load @ixy/ixgbe (import it) before opening sim: ports',
      );
    const waitsForLink = (card.optionNames ?? []).includes('linkTimeoutMs') && options.linkTimeoutMs === undefined;
    const device = card.open(access, waitsForLink ? { ...options, linkTimeoutMs: 0 } : options);
    return new SimPortDevice(device, access.model);
  },
};
