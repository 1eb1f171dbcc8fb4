/**
 * A device's register space (a memory BAR, an I/O-port BAR, or a device model), addressed by
 * byte offset. Implementations must make every access reach the device, in program order:
 * two writes of one register are two writes. @ixy/pci provides the hardware ones; device
 * models provide their own.
 */
export interface Registers {
  /** Size of the register space in bytes. */
  readonly size: number;
  read32(offset: number): number;
  write32(offset: number, value: number): void;
  read16(offset: number): number;
  write16(offset: number, value: number): void;
  read8(offset: number): number;
  write8(offset: number, value: number): void;
}
