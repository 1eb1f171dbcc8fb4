/** Intel's PCI vendor ID. */
export const INTEL_VENDOR_ID = 0x8086;

/**
 * The 82574L (and the 82574IT, its industrial-temperature version, which shares its ID): what
 * QEMU's `-device e1000e` emulates. The 82574's sibling 82583V (0x150c) and the other e1000e
 * generations (82571/2, ICH/PCH LOMs) differ in reset and PHY handling and are not listed. The
 * ID as Linux's e1000e lists it (E1000_DEV_ID_82574L).
 */
export const E1000E_DEVICE_IDS: ReadonlyMap<number, string> = new Map([[0x10d3, '82574L']]);

/** Is this vendor/device pair one the e1000e driver handles? */
export function isE1000eDevice(vendorId: number, deviceId: number): boolean {
  return vendorId === INTEL_VENDOR_ID && E1000E_DEVICE_IDS.has(deviceId);
}
