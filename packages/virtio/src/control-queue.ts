import { IxyError, type DmaRegion } from '@ixy/core';
import { VIRTIO_NET_OK, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from './constants.js';
import type { VirtioTransport } from './transport.js';
import type { Virtqueue } from './virtqueue.js';

/** Bytes of DMA memory a ControlQueue needs for its command buffer. */
export const CTRL_BUFFER_BYTES = 4096;
const HDR_AT = 0; // struct virtio_net_ctrl { u8 class; u8 command; ... }
const DATA_AT = 64; // command-specific data
const ACK_AT = 128; // u8 ack, written by the device
const MAX_DATA = ACK_AT - DATA_AT;

/** Thrown when the device rejects a control command or does not answer it. */
export class ControlCommandError extends IxyError {
  constructor(message: string, hint?: string) {
    super('ECTRLCMD', message, hint);
  }
}

/**
 * The control virtqueue (§5.1.6.5 Control Virtqueue): one command at a time, as a chain of a
 * device-readable header, device-readable data and a device-writable ack byte, each in its own
 * descriptor (the framing every device accepts, with or without ANY_LAYOUT). Waits for the
 * device's answer and throws ControlCommandError on VIRTIO_NET_ERR or a timeout.
 */
export class ControlQueue {
  private readonly bytes: Uint8Array;
  private readonly base: number;
  private readonly sleepCell = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly vq: Virtqueue,
    private readonly transport: VirtioTransport,
    region: DmaRegion,
    offset: number,
    /** How long to wait for the device's answer. */
    private readonly timeoutMs = 2000,
  ) {
    this.bytes = new Uint8Array(region.buffer, offset, CTRL_BUFFER_BYTES);
    this.base = region.physAddr(offset);
    if (vq.freeCount < 3) throw new RangeError('the control queue needs at least 3 descriptors');
  }

  /** Sends command `command` of class `cls` with `data` and waits for the ack. */
  send(cls: number, command: number, data: ArrayLike<number>, what: string): void {
    const { vq, bytes } = this;
    if (data.length > MAX_DATA) throw new RangeError(`control command data is limited to ${MAX_DATA} bytes`);
    if (vq.freeCount < 3) {
      throw new ControlCommandError(
        `${what}: the control queue is still busy with a command the device never answered`,
        'close and reopen the device',
      );
    }
    bytes[HDR_AT] = cls;
    bytes[HDR_AT + 1] = command;
    for (let i = 0; i < data.length; i++) bytes[DATA_AT + i] = data[i];
    bytes[ACK_AT] = 0xff; // anything but OK, so a device that writes nothing is caught

    const head = vq.allocDesc();
    const ack = vq.allocDesc();
    if (data.length > 0) {
      const mid = vq.allocDesc();
      vq.setDesc(head, this.base + HDR_AT, 2, VIRTQ_DESC_F_NEXT, mid);
      vq.setDesc(mid, this.base + DATA_AT, data.length, VIRTQ_DESC_F_NEXT, ack);
    } else {
      vq.setDesc(head, this.base + HDR_AT, 2, VIRTQ_DESC_F_NEXT, ack);
    }
    vq.setDesc(ack, this.base + ACK_AT, 1, VIRTQ_DESC_F_WRITE);
    vq.pushAvail(head);
    vq.publish();
    if (vq.needsNotify()) this.transport.notify(vq.index);

    const deadline = Date.now() + this.timeoutMs;
    while (vq.usedIdx() === vq.lastUsed) {
      if (Date.now() > deadline) {
        // The chain stays with the device; the queue is unusable until a reset.
        throw new ControlCommandError(
          `${what}: the device did not answer the control command within ${this.timeoutMs} ms`,
          'the device may be stuck; close and reopen it',
        );
      }
      Atomics.wait(this.sleepCell, 0, 0, 0.05);
    }
    const id = vq.usedId(vq.lastUsed);
    vq.lastUsed = (vq.lastUsed + 1) & 0xffff;
    // Give the chain's descriptors back (it is the only one in flight).
    for (let d = id, n = 0; n < 3; n++) {
      vq.freeDesc(d);
      const word = vq.desc[(d << 2) + 3];
      if ((word & VIRTQ_DESC_F_NEXT) === 0) break;
      d = word >>> 16;
    }
    if (id !== head) throw new ControlCommandError(`${what}: the device returned descriptor ${id}, expected ${head}`);
    const answer = bytes[ACK_AT];
    if (answer !== VIRTIO_NET_OK) {
      throw new ControlCommandError(
        `${what}: the device rejected the control command (class ${cls}, command ${command}, ack ${answer})`,
      );
    }
  }
}
