import { describe, expect, it } from 'vitest';
import { checkMacAddress, formatMac } from '../src/device.js';
import {
  FrameSizeError,
  InvalidOptionError,
  IxyError,
  UnknownOptionError,
  isIxyError,
  systemErrorCode,
  type IxyErrorCode,
} from '../src/errors.js';

describe('error codes', () => {
  it('are typed, and narrow with isIxyError', () => {
    const err: unknown = new FrameSizeError('too big');
    expect(isIxyError(err)).toBe(true);
    expect(isIxyError(err, 'EFRAMESIZE')).toBe(true);
    expect(isIxyError(err, 'EOWNERSHIP')).toBe(false);
    expect(isIxyError(new Error('x'))).toBe(false);
    if (isIxyError(err, 'EFRAMESIZE')) {
      const code: 'EFRAMESIZE' = err.code; // the type says which
      expect(code).toBe('EFRAMESIZE');
    }
  });

  it('pass on the errno names of system errors, and nothing else', () => {
    expect(systemErrorCode({ code: 'EACCES' })).toBe('EACCES');
    expect(systemErrorCode('ENOSPC')).toBe('ENOSPC');
    expect(systemErrorCode({ code: 'ERR_MODULE_NOT_FOUND' })).toBeUndefined();
    expect(systemErrorCode({ code: 'ENOTAREALCODE' })).toBeUndefined();
    expect(systemErrorCode(undefined)).toBeUndefined();
    const code: IxyErrorCode = systemErrorCode({ code: 'EIO' }) ?? 'EDMA';
    expect(new IxyError(code, 'm').code).toBe('EIO');
  });

  it('of an unknown option name the option and the known ones', () => {
    const e = new UnknownOptionError('ringSzie', 'the ixgbe driver on sim:a:0', ['txQueues', 'ringSize']);
    expect(e.message).toBe("unknown option 'ringSzie' for the ixgbe driver on sim:a:0");
    expect(e.hint).toBe('known options: ringSize, txQueues');
    expect(e).toMatchObject({ code: 'EUNKNOWNOPTION', option: 'ringSzie' });
  });
});

describe('checkMacAddress (the contract of setMacAddress)', () => {
  it('takes six bytes of a unicast address', () => {
    expect(() => checkMacAddress(Uint8Array.of(0x02, 0, 0, 0, 0, 1))).not.toThrow();
    expect(formatMac(Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56))).toBe('52:54:00:12:34:56');
  });
  it('refuses anything else with InvalidOptionError', () => {
    for (const bad of [
      Uint8Array.of(2, 0, 0, 0, 1),
      new Uint8Array(7),
      Uint8Array.of(0x01, 0x00, 0x5e, 0, 0, 1),
      new Uint8Array(6),
      [2, 0, 0, 0, 0, 1],
      'aa:bb:cc:dd:ee:ff',
    ]) {
      expect(() => checkMacAddress(bad), String(bad)).toThrow(InvalidOptionError);
    }
    expect(() => checkMacAddress(Uint8Array.of(0x01, 0, 0, 0, 0, 0))).toThrow(/multicast/);
  });
});
