import { describe, expect, it } from 'vitest';
import { InvalidAddressError } from '@ixy/core';
import { isPciAddress, parsePciAddress } from '../src/address.js';

describe('PCI addresses', () => {
  it('canonicalises the full and the short form', () => {
    expect(parsePciAddress('0000:03:00.0')).toBe('0000:03:00.0');
    expect(parsePciAddress('03:00.1')).toBe('0000:03:00.1');
    expect(parsePciAddress('3:0.0')).toBe('0000:03:00.0');
    expect(parsePciAddress('0001:AF:1F.7')).toBe('0001:af:1f.7');
    expect(parsePciAddress(' 0000:00:04.0 ')).toBe('0000:00:04.0');
  });

  it('rejects what is not a PCI address, with a hint', () => {
    for (const bad of ['', 'eth0', '0000:03:00', '0000:03:00.8', '03:20.0', '00000:03:00.0', 'sim:a:0', '03:00.0.0']) {
      expect(isPciAddress(bad)).toBe(false);
      expect(() => parsePciAddress(bad)).toThrow(InvalidAddressError);
    }
    try {
      parsePciAddress('eth0');
    } catch (err) {
      expect((err as InvalidAddressError).hint).toMatch(/lspci/);
    }
  });
});
