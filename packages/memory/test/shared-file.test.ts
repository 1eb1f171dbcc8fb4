import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IxyError } from '@ixy/core';
import { mapSharedFile, unmapBuffer } from '../src/shared-file.js';

const dir = mkdtempSync(join(tmpdir(), 'ixy-shared-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mapSharedFile', () => {
  it('creates, sizes and shares a file between two mappings', () => {
    const path = join(dir, 'ring');
    const a = mapSharedFile(path, 8192, true);
    const b = mapSharedFile(path, 0);
    expect(statSync(path).size).toBe(8192);
    expect(b.byteLength).toBe(8192);
    new Uint32Array(a)[100] = 0xdeadbeef;
    expect(new Uint32Array(b)[100]).toBe(0xdeadbeef);
    expect(unmapBuffer(a)).toBe(true);
    expect(a.byteLength).toBe(0);
    expect(unmapBuffer(a)).toBe(false);
    expect(new Uint32Array(b)[100]).toBe(0xdeadbeef);
    unmapBuffer(b);
  });

  it('reports a missing file clearly', () => {
    expect(() => mapSharedFile(join(dir, 'nope'), 0)).toThrow(IxyError);
    expect(() => mapSharedFile(join(dir, 'nope'), 0)).toThrow(/cannot map .*nope.*No such file/);
  });
});
