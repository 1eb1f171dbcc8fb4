/** Intel's PCI vendor ID. */
export const INTEL_VENDOR_ID = 0x8086;

/**
 * Physical functions of the 82599 family (X520 cards, 82599EB/ES/EN) and the X540, which
 * share the 82599's programming interface for everything this driver does. Virtual functions
 * and the 82598 and X550 generations are not in the list: they differ in reset and link
 * set-up. IDs as published in Intel's ixgbe_type.h.
 */
export const IXGBE_DEVICE_IDS: ReadonlyMap<number, string> = new Map([
  [0x10f7, '82599 KX4'],
  [0x1514, '82599 KX4 mezzanine'],
  [0x1517, '82599 KR'],
  [0x10f8, '82599 combo backplane'],
  [0x10f9, '82599 CX4'],
  [0x10fb, '82599 SFP+'],
  [0x152a, '82599 backplane FCoE'],
  [0x1529, '82599 SFP+ FCoE'],
  [0x1507, '82599 SFP+ EM'],
  [0x154d, '82599 SFP+ SF2'],
  [0x154a, '82599 SFP+ SF QP'],
  [0x1558, '82599 QSFP+ SF QP'],
  [0x1557, '82599EN SFP+'],
  [0x10fc, '82599 XAUI LOM'],
  [0x151c, '82599 T3 LOM'],
  [0x154f, '82599 LS'],
  [0x1528, 'X540-T'],
  [0x1560, 'X540-T1'],
]);

/** Is this vendor/device pair one the ixgbe driver handles? */
export function isIxgbeDevice(vendorId: number, deviceId: number): boolean {
  return vendorId === INTEL_VENDOR_ID && IXGBE_DEVICE_IDS.has(deviceId);
}
