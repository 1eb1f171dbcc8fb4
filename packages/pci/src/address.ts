import { InvalidAddressError } from '@ixy/core';

// domain:bus:device.function, the short form without the domain, hex, any case
const PCI_ADDRESS = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/;

/** Does this look like a PCI address (`0000:03:00.0` or `03:00.0`)? */
export function isPciAddress(address: string): boolean {
  const m = PCI_ADDRESS.exec(address);
  return m !== null && Number.parseInt(m[3], 16) < 32;
}

/**
 * Canonical form of a PCI address: `0000:03:00.0`, lower case, domain 0000 when left out.
 * Throws InvalidAddressError for anything else.
 */
export function parsePciAddress(address: string): string {
  const m = PCI_ADDRESS.exec(address.trim());
  if (!m || Number.parseInt(m[3], 16) >= 32) throw new InvalidAddressError(address);
  const [, domain = '0', bus, device, fn] = m;
  return `${domain.padStart(4, '0')}:${bus.padStart(2, '0')}:${device.padStart(2, '0')}.${fn}`.toLowerCase();
}
