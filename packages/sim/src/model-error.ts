import { IxyError } from '@ixy/core';

/** What the driver did wrong, as the device model saw it. */
export type DriverMistake =
  | 'bad-register-access' // offset outside the BAR or not 4-byte aligned
  | 'access-during-reset' // a register touched within ~1 ms of CTRL.RST, or while it still reads 1 (§4.6.3.2)
  | 'ring-not-set' // queue enabled before its ring base and length were written
  | 'ring-misaligned' // ring base not 128-byte aligned, or length not a multiple of 128
  | 'config-while-enabled' // ring base or length changed while the queue runs
  | 'ring-overlap' // a ring enabled over memory another enabled ring uses
  | 'dma-out-of-range' // ring, descriptor buffer or packet outside registered DMA memory
  | 'tail-out-of-range' // RDT/TDT at or beyond the ring's descriptor count
  | 'stale-descriptor' // an RX descriptor handed back with its write-back (DD) still in it
  | 'unsupported-descriptor' // legacy descriptors or a descriptor type the model does not know
  | 'bad-descriptor' // zero length, PAYLEN not matching the buffers, ...
  | 'frame-too-large' // a TX frame longer than the max frame size
  | 'frame-too-small' // a TX packet under 17 bytes, the smallest PAYLEN the advanced descriptor takes
  | 'queue-not-served' // a TX queue enabled beyond the 64 that MTQC's reset value serves
  | 'freed-while-active' // ring or buffer memory freed while its queue can still write (ENABLE not yet read 0)
  | 'buffer-too-small' // a received frame does not fit BSIZEPACKET (the model does not chain buffers)
  | 'crc-strip-mismatch' // HLREG0.RXCRCSTRP and RDRXCTL.CRCSTRIP differ when RX is enabled (§8.2.3.8.8)
  | 'reserved-bits' // bits the datasheet says must be set are clear (RDRXCTL.RSCACKC, FCOE_WRFIX)
  | 'reset-without-master-disable'; // CTRL.RST with queues running and PCIe mastering on (§4.6.3.2, §5.2.5.3.2)

/**
 * A driver mistake the device model caught. It is thrown from the register access or the
 * processing step that ran into it, so the stack shows the driver code responsible.
 */
export class ModelError extends IxyError {
  constructor(
    readonly mistake: DriverMistake,
    message: string,
  ) {
    super(
      'EMODEL',
      `82599 model: ${message} [${mistake}]`,
      'this is a driver bug: real hardware would misbehave silently here',
    );
  }
}
