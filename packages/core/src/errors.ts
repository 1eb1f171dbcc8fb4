/**
 * Every code an IxyError can carry, with what it means. `IxyErrorCode` is the union of the
 * keys. A third-party package that needs a code of its own adds it by declaration merging:
 *
 *   declare module '@ixy/core' { interface IxyErrorCodes { EMYNIC: true } }
 *
 * Codes are stable: match on `err.code` (or on the class), never on the message.
 */
export interface IxyErrorCodes {
  // ---- addresses, drivers, options (@ixy/core) ----
  /** Not a device address (`InvalidAddressError`). */
  EINVALIDADDR: true;
  /** Nothing at that address (`DeviceNotFoundError`). */
  ENODEVICE: true;
  /** No registered driver handles the device (`NoDriverError`). */
  ENODRIVER: true;
  /** No address resolver is registered at all. */
  ENORESOLVER: true;
  /** A driver package named by the app is not installed. */
  ENODRIVERPKG: true;
  /** A driver package failed to load. */
  EDRIVERLOAD: true;
  /** `--driver` names neither a package nor a directory with a package.json. */
  EDRIVERSPEC: true;
  /** An option or argument out of range or of the wrong kind (`InvalidOptionError`). */
  EINVALIDOPTION: true;
  /** An option neither the driver nor the bus knows (`UnknownOptionError`). */
  EUNKNOWNOPTION: true;
  /** `deviceDma` of a device not opened through `openDevice`. */
  ENOTOPENED: true;

  // ---- devices and packets ----
  /** The call is not allowed in the device's state: closed, no such queue (`DeviceStateError`). */
  EDEVSTATE: true;
  /** A frame that does not fit its buffer or the wire (`FrameSizeError`). */
  EFRAMESIZE: true;
  /** A packet handle used against its ownership, or of no mempool (`OwnershipError`). */
  EOWNERSHIP: true;
  /** A mempool has no free buffer (`PoolExhaustedError`). */
  EPOOLEXHAUSTED: true;
  /** More mempools than handles can tell apart. */
  ETOOMANYPOOLS: true;
  /** The device misbehaved (did not accept a state change, reads make no sense). */
  EDEVICE: true;
  /** The device did not reset. */
  ERESET: true;
  /** The device did not answer a control command, or refused it. */
  ECTRLCMD: true;

  // ---- memory and PCI ----
  /** No hugepages, or too few (`HugepagesError`). */
  ENOHUGEPAGES: true;
  /** DMA memory could not be allocated. */
  EDMA: true;
  /** A file could not be mapped. */
  EMAP: true;
  /** Memory that must be physically contiguous is not. */
  ENOTCONTIG: true;
  /** sysfs is not where it should be. */
  ENOSYSFS: true;
  /** The device has no such BAR. */
  ENOBAR: true;
  /** The BAR is of another kind (memory / I/O ports) than the access needs. */
  EBARKIND: true;
  /** A register access outside the BAR (safe mode: a driver bug). */
  EREGACCESS: true;
  /** A kernel driver holds the device and `unbind` was not given. */
  EDRIVERBOUND: true;
  /** The device (or its access) was released. */
  ERELEASED: true;
  /** vfio-pci is not loaded or the device is not bound to it. */
  ENOVFIO: true;
  /** No IOMMU (VFIO needs one). */
  ENOIOMMU: true;
  /** A VFIO call failed. */
  EVFIO: true;
  /** The IOMMU group is not viable, or another process (or container) holds it. */
  EVFIOGROUP: true;
  /** The device has no MSI-X capability. */
  ENOMSIX: true;
  /** Setting up MSI-X failed. */
  EMSIX: true;
  /** A device's config space cannot be read. */
  ENOCONFIG: true;

  // ---- virtio ----
  /** The device lacks features the driver needs, or refused them. */
  EFEATURES: true;
  /** The requested virtio interface (legacy / modern) is not there. */
  EINTERFACE: true;
  /** The virtio capabilities in config space make no sense. */
  ECAPS: true;
  /** A virtqueue is missing or too small. */
  ENOQUEUE: true;
  /** A virtqueue size the device or driver cannot use. */
  EQUEUESIZE: true;
  /** A virtqueue address the device cannot take. */
  EQUEUEADDR: true;
  /** A virtqueue layout that does not fit its memory. */
  EQUEUELAYOUT: true;
  /** A mempool's headroom cannot hold the virtio-net header. */
  EHEADROOM: true;

  // ---- simulated ports ----
  /** A driver mistake caught by a device model. */
  EMODEL: true;
  /** A cable name that cannot be one. */
  EINVALIDCABLE: true;
  /** A cable file that is not sound (or not safe to use). */
  EBADCABLE: true;
  /** The peer wrote nonsense into the cable's shared memory. */
  EBROKENCABLE: true;

  // ---- apps ----
  /** A command line that cannot work. */
  EUSAGE: true;
  /** The demo's traffic source failed. */
  EDEMO: true;
  /** A pcap file cannot be written. */
  EPCAP: true;
  /** A latency histogram file cannot be written. */
  EHISTOGRAM: true;
  /** No such user or group. */
  ENOUSER: true;
  /** The device is not a network controller. */
  ENOTNIC: true;

  // ---- the operating system's own: every errno name Node knows (os.constants.errno), and
  // EUNKNOWN for a number Linux does not name, passed on where they say it best ----
  E2BIG: true;
  EACCES: true;
  EADDRINUSE: true;
  EADDRNOTAVAIL: true;
  EAFNOSUPPORT: true;
  EAGAIN: true;
  EALREADY: true;
  EBADF: true;
  EBADMSG: true;
  EBUSY: true;
  ECANCELED: true;
  ECHILD: true;
  ECONNABORTED: true;
  ECONNREFUSED: true;
  ECONNRESET: true;
  EDEADLK: true;
  EDESTADDRREQ: true;
  EDOM: true;
  EDQUOT: true;
  EEXIST: true;
  EFAULT: true;
  EFBIG: true;
  EHOSTUNREACH: true;
  EIDRM: true;
  EILSEQ: true;
  EINPROGRESS: true;
  EINTR: true;
  EINVAL: true;
  EIO: true;
  EISCONN: true;
  EISDIR: true;
  ELOOP: true;
  EMFILE: true;
  EMLINK: true;
  EMSGSIZE: true;
  EMULTIHOP: true;
  ENAMETOOLONG: true;
  ENETDOWN: true;
  ENETRESET: true;
  ENETUNREACH: true;
  ENFILE: true;
  ENOBUFS: true;
  ENODATA: true;
  ENODEV: true;
  ENOENT: true;
  ENOEXEC: true;
  ENOLCK: true;
  ENOLINK: true;
  ENOMEM: true;
  ENOMSG: true;
  ENOPROTOOPT: true;
  ENOSPC: true;
  ENOSR: true;
  ENOSTR: true;
  ENOSYS: true;
  ENOTCONN: true;
  ENOTDIR: true;
  ENOTEMPTY: true;
  ENOTSOCK: true;
  ENOTSUP: true;
  ENOTTY: true;
  ENXIO: true;
  EOPNOTSUPP: true;
  EOVERFLOW: true;
  EPERM: true;
  EPIPE: true;
  EPROTO: true;
  EPROTONOSUPPORT: true;
  EPROTOTYPE: true;
  ERANGE: true;
  EROFS: true;
  ESPIPE: true;
  ESRCH: true;
  ESTALE: true;
  ETIME: true;
  ETIMEDOUT: true;
  ETXTBSY: true;
  EWOULDBLOCK: true;
  EXDEV: true;
  EUNKNOWN: true;
}

/** Every code an IxyError can carry (see IxyErrorCodes). */
export type IxyErrorCode = keyof IxyErrorCodes;

const SYSTEM_CODES: ReadonlySet<string> = new Set([
  'E2BIG',
  'EACCES',
  'EADDRINUSE',
  'EADDRNOTAVAIL',
  'EAFNOSUPPORT',
  'EAGAIN',
  'EALREADY',
  'EBADF',
  'EBADMSG',
  'EBUSY',
  'ECANCELED',
  'ECHILD',
  'ECONNABORTED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EDEADLK',
  'EDESTADDRREQ',
  'EDOM',
  'EDQUOT',
  'EEXIST',
  'EFAULT',
  'EFBIG',
  'EHOSTUNREACH',
  'EIDRM',
  'EILSEQ',
  'EINPROGRESS',
  'EINTR',
  'EINVAL',
  'EIO',
  'EISCONN',
  'EISDIR',
  'ELOOP',
  'EMFILE',
  'EMLINK',
  'EMSGSIZE',
  'EMULTIHOP',
  'ENAMETOOLONG',
  'ENETDOWN',
  'ENETRESET',
  'ENETUNREACH',
  'ENFILE',
  'ENOBUFS',
  'ENODATA',
  'ENODEV',
  'ENOENT',
  'ENOEXEC',
  'ENOLCK',
  'ENOLINK',
  'ENOMEM',
  'ENOMSG',
  'ENOPROTOOPT',
  'ENOSPC',
  'ENOSR',
  'ENOSTR',
  'ENOSYS',
  'ENOTCONN',
  'ENOTDIR',
  'ENOTEMPTY',
  'ENOTSOCK',
  'ENOTSUP',
  'ENOTTY',
  'ENXIO',
  'EOPNOTSUPP',
  'EOVERFLOW',
  'EPERM',
  'EPIPE',
  'EPROTO',
  'EPROTONOSUPPORT',
  'EPROTOTYPE',
  'ERANGE',
  'EROFS',
  'ESPIPE',
  'ESRCH',
  'ESTALE',
  'ETIME',
  'ETIMEDOUT',
  'ETXTBSY',
  'EWOULDBLOCK',
  'EXDEV',
  'EUNKNOWN',
]);

/**
 * The errno name of a system error (`err.code` of Node's SystemError or a native addon's
 * error) as an IxyErrorCode, or undefined when it is none of the known ones.
 */
export function systemErrorCode(err: unknown): IxyErrorCode | undefined {
  const code =
    typeof err === 'string' ? err : typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : '';
  return typeof code === 'string' && SYSTEM_CODES.has(code) ? (code as IxyErrorCode) : undefined;
}

/**
 * Errors a user can act on. Every error carries a stable `code` and, where there is one, a
 * `hint` that says how to fix the problem. Apps print `message` and `hint` and exit non-zero;
 * they never show a stack trace for an IxyError.
 */
export class IxyError<C extends IxyErrorCode = IxyErrorCode> extends Error {
  readonly code: C;
  readonly hint: string | undefined;

  constructor(code: C, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
  }
}

/** Is `err` an IxyError, with code `code` when given? Narrows the code's type. */
export function isIxyError<C extends IxyErrorCode>(err: unknown, code?: C): err is IxyError<C> {
  return err instanceof IxyError && (code === undefined || err.code === code);
}

/** The address string is not a PCI address (`0000:03:00.0`, `03:00.0`) nor a known scheme. */
export class InvalidAddressError extends IxyError<'EINVALIDADDR'> {
  constructor(address: string, hint?: string) {
    super(
      'EINVALIDADDR',
      `'${address}' is not a device address`,
      hint ?? "give a PCI address such as 0000:03:00.0 (see 'lspci -D'), or a simulated port sim:<cable>:<0|1>",
    );
  }
}

/** Nothing at that address. */
export class DeviceNotFoundError extends IxyError<'ENODEVICE'> {
  constructor(address: string, hint?: string) {
    super('ENODEVICE', `no PCI device at ${address}`, hint ?? "list the devices with 'lspci -D'");
  }
}

/** The device exists but no registered driver handles it. */
export class NoDriverError extends IxyError<'ENODRIVER'> {
  constructor(address: string, what: string, hint?: string) {
    super('ENODRIVER', `no ixy driver for ${address} (${what})`, hint);
  }
}

/** The operation needs privileges the process does not have. */
export class PermissionError extends IxyError<'EPERM'> {
  constructor(message: string, hint?: string) {
    super('EPERM', message, hint ?? 'run as root (sudo), or set the device up for VFIO');
  }
}

/** No hugepages, or not enough of them. */
export class HugepagesError extends IxyError<'ENOHUGEPAGES'> {
  constructor(message: string, hint?: string) {
    super(
      'ENOHUGEPAGES',
      message,
      hint ??
        'reserve 2 MiB hugepages, e.g. as root: echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages',
    );
  }
}

/** A mempool has no free buffer left. */
export class PoolExhaustedError extends IxyError<'EPOOLEXHAUSTED'> {
  constructor(message: string, hint?: string) {
    super('EPOOLEXHAUSTED', message, hint ?? 'use a larger mempool, or free packets you no longer need');
  }
}

/**
 * A packet handle used against its ownership: a handle of no live mempool (always checked
 * where a driver looks the pool up), or, in safe mode, double free, use after free, sending a
 * packet the caller does not own.
 */
export class OwnershipError extends IxyError<'EOWNERSHIP'> {
  constructor(message: string) {
    super('EOWNERSHIP', message, 'a packet belongs to whoever holds it: free it once, and not after handing it to tx');
  }
}

/** The device is in a state that does not allow the call (closed, queue out of range, ...). */
export class DeviceStateError extends IxyError<'EDEVSTATE'> {
  constructor(message: string, hint?: string) {
    super('EDEVSTATE', message, hint);
  }
}

/** A frame that does not fit a buffer or the wire. */
export class FrameSizeError extends IxyError<'EFRAMESIZE'> {
  constructor(message: string, hint?: string) {
    super('EFRAMESIZE', message, hint);
  }
}

/**
 * An option given to a driver or an app, or an argument of a device call (a MAC address that
 * is not one), is out of range or of the wrong kind.
 */
export class InvalidOptionError extends IxyError<'EINVALIDOPTION'> {
  constructor(message: string, hint?: string) {
    super('EINVALIDOPTION', message, hint);
  }
}

/** An option that neither the driver nor the bus of the device knows (a misspelling, usually). */
export class UnknownOptionError extends IxyError<'EUNKNOWNOPTION'> {
  constructor(
    /** The option given. */
    readonly option: string,
    /** Who was asked (`ixgbe on sim:a:0`). */
    what: string,
    /** The options it knows. */
    readonly known: readonly string[],
  ) {
    super(
      'EUNKNOWNOPTION',
      `unknown option '${option}' for ${what}`,
      `known options: ${[...known].sort().join(', ') || 'none'}`,
    );
  }
}
