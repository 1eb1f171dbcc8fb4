/**
 * Errors a user can act on. Every error carries a stable `code` and, where there is one, a
 * `hint` that says how to fix the problem. Apps print `message` and `hint` and exit non-zero;
 * they never show a stack trace for an IxyError.
 */
export class IxyError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
  }
}

/** The address string is not a PCI address (`0000:03:00.0`, `03:00.0`) nor a known scheme. */
export class InvalidAddressError extends IxyError {
  constructor(address: string, hint?: string) {
    super(
      'EINVALIDADDR',
      `'${address}' is not a device address`,
      hint ?? "give a PCI address such as 0000:03:00.0 (see 'lspci -D'), or a simulated port sim:<cable>:<0|1>",
    );
  }
}

/** Nothing at that address. */
export class DeviceNotFoundError extends IxyError {
  constructor(address: string, hint?: string) {
    super('ENODEVICE', `no PCI device at ${address}`, hint ?? "list the devices with 'lspci -D'");
  }
}

/** The device exists but no registered driver handles it. */
export class NoDriverError extends IxyError {
  constructor(address: string, what: string, hint?: string) {
    super('ENODRIVER', `no ixy driver for ${address} (${what})`, hint);
  }
}

/** The operation needs privileges the process does not have. */
export class PermissionError extends IxyError {
  constructor(message: string, hint?: string) {
    super('EPERM', message, hint ?? 'run as root (sudo), or set the device up for VFIO');
  }
}

/** No hugepages, or not enough of them. */
export class HugepagesError extends IxyError {
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
export class PoolExhaustedError extends IxyError {
  constructor(message: string, hint?: string) {
    super('EPOOLEXHAUSTED', message, hint ?? 'use a larger mempool, or free packets you no longer need');
  }
}

/** A packet buffer used against its ownership (safe mode): double free, use after free, foreign buffer. */
export class OwnershipError extends IxyError {
  constructor(message: string) {
    super('EOWNERSHIP', message, 'a packet belongs to whoever holds it: free it once, and not after handing it to tx');
  }
}

/** The device is in a state that does not allow the call (closed, queue out of range, ...). */
export class DeviceStateError extends IxyError {
  constructor(message: string, hint?: string) {
    super('EDEVSTATE', message, hint);
  }
}

/** A frame that does not fit a buffer or the wire. */
export class FrameSizeError extends IxyError {
  constructor(message: string, hint?: string) {
    super('EFRAMESIZE', message, hint);
  }
}

/** An option given to a driver or an app is out of range or of the wrong kind. */
export class InvalidOptionError extends IxyError {
  constructor(message: string, hint?: string) {
    super('EINVALIDOPTION', message, hint);
  }
}
