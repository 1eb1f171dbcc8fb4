// The one place @ixy/pci's addon is loaded (node-gyp-build: a local build wins over prebuilds/).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A region of a VFIO device: a BAR (0-5), the ROM (6) or config space (7). */
export interface VfioRegionInfo {
  offset: number;
  size: number;
  /** VFIO_REGION_INFO_FLAG_*: 1 read, 2 write, 4 mmap. */
  flags: number;
}

/** An IRQ index of a VFIO device (VFIO_DEVICE_GET_IRQ_INFO). */
export interface VfioIrqInfo {
  /** Vectors: MSI-X's table size; 0 when the device has no such interrupt. */
  count: number;
  /** VFIO_IRQ_INFO_*: 1 eventfd, 2 maskable, 4 automasked, 8 noresize. */
  flags: number;
}

/**
 * The VFIO ioctls and eventfds; see native/vfio.cc. Errors are @ixy/memory's `NativeError`s
 * (one errno table for both addons): `code`, `errno`, `syscall` (the ioctl) and `path`.
 */
export interface NativeVfio {
  openContainer(): number;
  addGroup(container: number, groupPath: string, first: boolean): number;
  deviceFd(group: number, address: string): number;
  regionInfo(device: number, index: number): VfioRegionInfo;
  mapDma(container: number, buffer: ArrayBuffer, iova: number): void;
  unmapDma(container: number, iova: number, size: number): void;
  /** A non-blocking, close-on-exec eventfd (close it with fs.closeSync). */
  eventfd(): number;
  irqInfo(device: number, index: number): VfioIrqInfo;
  /** Binds vectors start.. of IRQ `index` to the eventfds (for MSI-X: enables it). */
  setIrqEventfds(device: number, index: number, start: number, fds: Int32Array): void;
  /** Unbinds every vector of IRQ `index` (for MSI-X: disables it). */
  disableIrqs(device: number, index: number): void;
}

let loaded: NativeVfio | undefined;

/** Loads the addon on first use: the sysfs path never needs it. */
export function nativeVfio(): NativeVfio {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => unknown;
    loaded = load(fileURLToPath(new URL('..', import.meta.url))) as NativeVfio;
  }
  return loaded;
}
