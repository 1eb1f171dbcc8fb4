import { unlinkSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native, unmapBuffer } from '@ixy/memory';
import { CableError, END_LOCK, closeCableFile, openCableFile } from './cable-file.js';
import { FrameRing } from './frame-ring.js';

/** Bytes per frame slot: a 4-byte length and up to 2044 bytes of frame. */
export const CABLE_SLOT_SIZE = 2048;
/** Frame slots per direction when a cable is created (default). */
export const DEFAULT_CABLE_SLOTS = 256;
const HEADER_SIZE = 4096;
const MIN_SLOTS = 16;
const MAX_SLOTS = 65536;
// header layout, in 32-bit words: the pid of the process holding end 0 / end 1, each on its own
// line: a mark for the peer's cheap check of its link (who really holds an end is the lock's
// to say, see attach); word 2 is the cable mark (cable-file.ts)
const PID_WORD = [0, 16];
// ring index lines (byte offsets): frames sent by end 0, frames sent by end 1
const RING_INDEX = [256, 384];
// wake-up words of the two rings, each on its own line
const RING_WAKE = [512, 576];

/** Bytes of a cable file with `slots` slots per direction. */
function cableSize(slots: number): number {
  return HEADER_SIZE + 2 * slots * CABLE_SLOT_SIZE;
}

/** The slots per direction of a cable file of `size` bytes, or 0 when no cable has that size. */
function slotsOfSize(size: number): number {
  for (let slots = MIN_SLOTS; slots <= MAX_SLOTS; slots <<= 1) if (cableSize(slots) === size) return slots;
  return 0;
}

export interface CableOptions {
  /** Frame slots per direction for a new cable, a power of two (default 256). An existing cable keeps its size. */
  slots?: number;
  /** Directory of the cable files (default /dev/shm, else the OS temp directory). */
  dir?: string;
  /**
   * Share the cable with the users of this group (a gid): the explicit opt-in to a cable
   * between users. Without it a cable is this user's alone (mode 0600).
   */
  group?: number;
}

export { CableError };

function defaultDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Path of the shared file behind cable `name`. */
export function cablePath(name: string, dir?: string): string {
  if (!NAME.test(name) || name.startsWith('.')) {
    throw new CableError('EINVALIDCABLE', `'${name}' is not a cable name`, 'use letters, digits, _ . - (up to 100)');
  }
  return join(dir ?? defaultDir(), `ixy-cable-${name}`);
}

/**
 * A simulated Ethernet cable: two ends (0 and 1) and a frame ring per direction, in a
 * shared-memory file, so the ends can live in one process, in two threads or in two
 * processes. Frames travel without their CRC. Open it with `Cable.open`; each process maps a
 * named cable once and counts its users.
 */
export class Cable {
  private static readonly open_ = new Map<string, Cable>();

  /** Opens (creating if needed) the cable `name`. Close it when done. */
  static open(name: string, options: CableOptions = {}): Cable {
    const path = cablePath(name, options.dir);
    let cable = Cable.open_.get(path);
    if (cable === undefined) {
      cable = new Cable(name, path, options.slots ?? DEFAULT_CABLE_SLOTS, options.group);
      Cable.open_.set(path, cable);
    }
    cable.users++;
    return cable;
  }

  /** Deletes a cable's file (the mappings of processes using it stay valid). */
  static remove(name: string, dir?: string): void {
    const path = cablePath(name, dir);
    try {
      unlinkSync(path); // the name itself, a symbolic link included (never what it points to)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  readonly slots: number;
  /** rings[d]: frames sent by end d. */
  readonly rings: readonly [FrameRing, FrameRing];
  private readonly buffer: ArrayBuffer;
  private readonly header: Int32Array;
  /** The cable file, open while the cable is: its locks say who has it open and who holds an end. */
  private readonly fd: number;
  private readonly attached: [boolean, boolean] = [false, false];
  private users = 0;

  private constructor(
    readonly name: string,
    readonly path: string,
    wantSlots: number,
    group?: number,
  ) {
    if (
      !Number.isInteger(wantSlots) ||
      wantSlots < MIN_SLOTS ||
      wantSlots > MAX_SLOTS ||
      (wantSlots & (wantSlots - 1)) !== 0
    ) {
      throw new RangeError(`cable slots must be a power of two in ${MIN_SLOTS}..${MAX_SLOTS}, got ${wantSlots}`);
    }
    // an existing cable keeps its geometry; see openCableFile for what makes a file a cable
    const { buffer, slots, fd } = openCableFile(path, cableSize, slotsOfSize, wantSlots, group);
    this.slots = slots;
    this.buffer = buffer;
    this.fd = fd;
    this.header = new Int32Array(this.buffer, 0, HEADER_SIZE >>> 2);
    const data = slots * CABLE_SLOT_SIZE;
    this.rings = [
      new FrameRing(this.buffer, RING_INDEX[0], HEADER_SIZE, slots, CABLE_SLOT_SIZE, RING_WAKE[0]),
      new FrameRing(this.buffer, RING_INDEX[1], HEADER_SIZE + data, slots, CABLE_SLOT_SIZE, RING_WAKE[1]),
    ];
  }

  /**
   * Takes end 0 or 1: an exclusive lock on the end's byte of the cable file, which the kernel
   * holds for this open file (and drops if the process dies; a pid in shared memory could be
   * faked, or name another process in another PID namespace). Then marks the end present (the
   * peer's fast check of its link) and discards stale frames waiting in its receive direction.
   * Throws if another process, or another thread, holds the end.
   */
  attach(end: 0 | 1): CableEnd {
    if (this.attached[end])
      throw new CableError('EBUSY', `end ${end} of cable ${this.name} is already open in this thread`);
    if (!native().lockRange(this.fd, END_LOCK + end, 1, 'write', false)) {
      throw new CableError(
        'EBUSY',
        `end ${end} of cable ${this.name} is open in another process or thread`,
        'use the other end, or another cable name',
      );
    }
    Atomics.store(this.header, PID_WORD[end], process.pid);
    this.attached[end] = true;
    const tx = this.rings[end];
    const rx = this.rings[1 - end];
    tx.syncProducer();
    rx.syncConsumer();
    rx.discardAll();
    this.wakeBoth(); // a sleeping peer sees the link come up
    return new CableEnd(this, end, tx, rx);
  }

  /** @internal */
  detach(end: 0 | 1): void {
    if (!this.attached[end]) return;
    this.attached[end] = false;
    Atomics.store(this.header, PID_WORD[end], 0);
    native().lockRange(this.fd, END_LOCK + end, 1, 'unlock', false);
    this.wakeBoth(); // a sleeping peer sees the link go down
  }

  private wakeBoth(): void {
    this.rings[0].wakeAll();
    this.rings[1].wakeAll();
  }

  /**
   * Is some process holding end `end`? Cheap (the holder's mark in shared memory) unless
   * `check`: then the kernel's lock says, so an end whose holder died (or whose mark a peer
   * forged) is seen as it is.
   */
  isAttached(end: 0 | 1, check = false): boolean {
    if (!check) return Atomics.load(this.header, PID_WORD[end]) !== 0;
    return this.attached[end] || native().rangeLocked(this.fd, END_LOCK + end, 1, 'write');
  }

  /**
   * Drops this process's use of the cable; the last user unmaps it, and deletes the file when
   * no other process has it open any more, so nothing is left behind in /dev/shm.
   */
  close(): void {
    if (this.users === 0) return;
    if (--this.users > 0) return;
    this.detach(0);
    this.detach(1);
    Cable.open_.delete(this.path);
    unmapBuffer(this.buffer);
    closeCableFile(this.path, this.fd);
  }
}

/** One end of a cable, as held by a simulated port. */
export class CableEnd {
  private open = true;

  constructor(
    readonly cable: Cable,
    readonly end: 0 | 1,
    /** Frames this end sends. */
    readonly tx: FrameRing,
    /** Frames this end receives. */
    readonly rx: FrameRing,
  ) {}

  /**
   * Is the other end held by a process, and the cable sound? Cheap (one atomic load) unless
   * `check`. A ring whose shared indices made no sense (see `broken`) takes the link down.
   */
  peerPresent(check = false): boolean {
    return (
      this.open &&
      this.tx.broken === '' &&
      this.rx.broken === '' &&
      this.cable.isAttached((1 - this.end) as 0 | 1, check)
    );
  }

  /** Why this end's cable is unusable ('' while it is fine): a corrupt index in shared memory. */
  get broken(): string {
    return this.rx.broken || this.tx.broken;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Lets the end go: the peer sees the link drop. */
  detach(): void {
    if (!this.open) return;
    this.open = false;
    this.cable.detach(this.end);
  }
}
