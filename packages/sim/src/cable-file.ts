import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  linkSync,
  lstatSync,
  openSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IxyError, systemErrorCode, type IxyErrorCode } from '@ixy/core';
import { native } from '@ixy/memory';

const { O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/**
 * Byte-range locks on the cable file (open-file-description locks: the kernel drops them when
 * a process dies, and a process in another PID namespace cannot fake them as it can a pid):
 * every process with the cable open holds a shared lock on OPEN_LOCK; the holder of an end
 * holds an exclusive lock on END_LOCK + end. The bytes need not exist in the file.
 */
export const OPEN_LOCK = 1 << 30;
export const END_LOCK = OPEN_LOCK + 16;

/** "IXYC" (little endian) in header word 2: a file this code made whole, not one planted. */
export const CABLE_MAGIC = 0x43595849;
const MAGIC_WORD = 2;

/** A cable or cable end that cannot be used. */
export class CableError extends IxyError {
  constructor(code: IxyErrorCode, message: string, hint?: string) {
    super(code, message, hint);
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * Opens the file behind a cable, or creates it, safely in a directory every user can write
 * (/dev/shm):
 * - an existing file is opened without following a symbolic link (O_NOFOLLOW), and used only
 *   if it is a regular file of this user's, with no permission for anyone else, of a cable's
 *   exact size, carrying the magic word: anything else is refused with a hint to remove it;
 * - a new file is made under a private temporary name (O_CREAT | O_EXCL, mode 0600), filled
 *   with zeros so its memory is reserved now (a full tmpfs fails here, with a message, instead
 *   of killing both ends with SIGBUS later), stamped with the magic word, and only then linked
 *   to the cable's name: a peer never sees a half-made cable, and if another process linked
 *   its own first, that one is used.
 * The returned fd stays open while the cable is: it holds the shared OPEN_LOCK, taken (waiting
 * for a closer that is deleting the file) before the path is checked to still name this file,
 * so an opener never keeps a file its peer has just deleted, and a closer deletes it only when
 * no one else has it open (see `closeCableFile`).
 * Returns the mapping (MAP_SHARED), the cable's geometry and the fd.
 *
 * `group` (a gid) is the explicit opt-in to a cable between users of that group: a new file is
 * given to the group with mode 0660, and an existing one is taken if it belongs to the group
 * with no permission for others (and this user is in the group), whoever made it.
 */
export function openCableFile(
  path: string,
  sizeFor: (slots: number) => number,
  slotsFromSize: (size: number) => number,
  wantSlots: number,
  group?: number,
): { buffer: ArrayBuffer; slots: number; fd: number } {
  if (group !== undefined) {
    const mine = process.getegid?.() === group || (process.getgroups?.() ?? []).includes(group);
    if (!mine && process.geteuid?.() !== 0) {
      throw new CableError(
        'EACCES',
        `this user is not in group ${group}, which the cable is to be shared with`,
        'share cables through a group this user belongs to (id -G lists them)',
      );
    }
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = openExisting(path, slotsFromSize, group);
    if (existing !== null) {
      native().lockRange(existing.fd, OPEN_LOCK, 1, 'read', true);
      if (stillNamed(path, existing.fd)) return existing;
      native().unmap(existing.buffer); // deleted meanwhile by its last user: make or open the new one
      closeSync(existing.fd);
      continue;
    }
    create(path, sizeFor(wantSlots), group); // linked (ours, or a racing peer's): open it next round
  }
  throw new CableError(
    'EBADCABLE',
    `cannot create ${path}: it keeps appearing and disappearing`,
    'another program is using this cable name: pick another',
  );
}

/** Does `path` (not following a link) still name the file open as `fd`? */
function stillNamed(path: string, fd: number): boolean {
  try {
    const a = lstatSync(path);
    const b = fstatSync(fd);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/**
 * Closes a cable's fd; deletes the file first when no other process has it open (this one can
 * turn its shared OPEN_LOCK exclusive), so nothing is left in /dev/shm. An opener that took its
 * shared lock after that waits until the file is gone, then makes a new one.
 */
export function closeCableFile(path: string, fd: number): boolean {
  let deleted = false;
  try {
    if (native().lockRange(fd, OPEN_LOCK, 1, 'write', false) && stillNamed(path, fd)) {
      unlinkSync(path);
      deleted = true;
    }
  } catch {
    // already gone
  } finally {
    closeSync(fd); // releases every lock of this description
  }
  return deleted;
}

function openExisting(
  path: string,
  slotsFromSize: (size: number) => number,
  group: number | undefined,
): { buffer: ArrayBuffer; slots: number; fd: number } | null {
  let fd: number;
  try {
    fd = openSync(path, O_RDWR | O_NOFOLLOW);
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP')
      throw new CableError(
        'EBADCABLE',
        `${path} is a symbolic link, not a cable`,
        `remove it (rm ${path}) or use another cable name`,
      );
    if (code === 'EACCES' || code === 'EPERM') {
      throw new CableError(
        'EACCES',
        `${path} belongs to another user`,
        `cables are not shared between users: remove it (as its owner) or use another cable name`,
      );
    }
    throw new CableError(systemErrorCode(code) ?? 'EBADCABLE', `cannot open ${path}: ${(err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    const refuse = (why: string): CableError =>
      new CableError(
        'EBADCABLE',
        `${path} ${why}: not using it as a cable`,
        `remove it (rm ${path}) or use another cable name`,
      );
    if (!st.isFile()) throw refuse('is not a regular file');
    const uid = process.geteuid?.() ?? st.uid;
    if (group === undefined) {
      if (st.uid !== uid) throw refuse(`belongs to uid ${st.uid}, not to this user (uid ${uid})`);
      if ((st.mode & 0o077) !== 0) throw refuse(`can be opened by other users (mode ${(st.mode & 0o777).toString(8)})`);
    } else {
      // shared with a group on purpose: the group's, open to nobody outside it
      if (st.gid !== group) throw refuse(`belongs to group ${st.gid}, not to group ${group} it is to be shared with`);
      if ((st.mode & 0o007) !== 0)
        throw refuse(`can be opened by users outside group ${group} (mode ${(st.mode & 0o777).toString(8)})`);
    }
    const slots = slotsFromSize(st.size);
    if (slots === 0) throw refuse(`has ${st.size} bytes, not the size of a cable`);
    const buffer = native().mapFd(fd, 0, st.size);
    if (Atomics.load(new Int32Array(buffer, 0, MAGIC_WORD + 1), MAGIC_WORD) !== CABLE_MAGIC) {
      native().unmap(buffer);
      throw refuse('does not carry the cable mark');
    }
    return { buffer, slots, fd };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Makes a cable file under a temporary name and links it to `path`; false if that failed because `path` exists now. */
function create(path: string, size: number, group?: number): boolean {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.floor(Math.random() * 1e9)}`);
  let fd: number;
  try {
    fd = openSync(temp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  } catch (err) {
    throw new CableError(
      systemErrorCode(err) ?? 'EBADCABLE',
      `cannot create a cable in ${dirname(path)}: ${(err as Error).message}`,
      'check that the directory exists and is writable',
    );
  }
  try {
    if (group !== undefined) {
      fchownSync(fd, process.geteuid?.() ?? 0, group);
      fchmodSync(fd, 0o660); // the umask may have taken the group's bits
    }
    // reserve the memory now: zeros written, not a sparse file
    const zeros = new Uint8Array(Math.min(size, 1 << 20));
    for (let at = 0; at < size; at += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, size - at), at);
    const mark = new Uint8Array(new Int32Array([CABLE_MAGIC]).buffer);
    writeSync(fd, mark, 0, 4, MAGIC_WORD * 4);
  } catch (err) {
    closeSync(fd);
    unlinkSync(temp);
    throw new CableError(
      systemErrorCode(err) ?? 'ENOSPC',
      `cannot make a cable of ${size} bytes in ${dirname(path)}: ${(err as Error).message}`,
      'free some memory in the directory (tmpfs), or use fewer cable slots',
    );
  }
  closeSync(fd);
  try {
    linkSync(temp, path); // atomic: fails if the name exists
    return true;
  } catch (err) {
    if (errno(err) === 'EEXIST') return true; // a peer made it first: use theirs
    throw new CableError(systemErrorCode(err) ?? 'EBADCABLE', `cannot create ${path}: ${(err as Error).message}`);
  } finally {
    unlinkSync(temp);
  }
}
