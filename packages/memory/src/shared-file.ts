import { IxyError, PermissionError, systemErrorCode } from '@ixy/core';
import { isNativeError, native } from './native.js';

/**
 * Maps a file read/write and shared (MAP_SHARED): a PCI BAR's `resourceN` file, or a file in
 * /dev/shm shared with other processes. With `create`, the file is created and grown to `size`.
 * Size 0 maps the whole file.
 */
export function mapSharedFile(path: string, size: number, create = false): ArrayBuffer {
  try {
    return native().mapFile(path, size, create);
  } catch (err) {
    if (!isNativeError(err)) throw err;
    if (err.code === 'EACCES' || err.code === 'EPERM') {
      throw new PermissionError(`cannot map ${path}: permission denied`);
    }
    throw new IxyError(systemErrorCode(err) ?? 'EMAP', `cannot map ${path}: ${err.message}`, undefined, { cause: err });
  }
}

/** Unmaps a buffer from mapSharedFile at once (views of it become empty). */
export function unmapBuffer(buffer: ArrayBuffer): boolean {
  return native().unmap(buffer);
}
