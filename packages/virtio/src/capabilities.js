/** PCI status register (offset 6), bit 4: the device has a capability list (PCI 3.0 §6.7). */
const PCI_STATUS = 0x06;
const PCI_STATUS_CAP_LIST = 1 << 4;
/** Offset of the first capability's offset. */
const PCI_CAPABILITY_LIST = 0x34;
/** Capability id of vendor-specific capabilities, which virtio uses. */
export const PCI_CAP_ID_VNDR = 0x09;
/** cfg_type values of struct virtio_pci_cap (§4.1.4 Virtio Structure PCI Capabilities). */
export const VIRTIO_PCI_CAP_COMMON_CFG = 1;
export const VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
export const VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4;
export const VIRTIO_PCI_CAP_PCI_CFG = 5;
/**
 * Every virtio vendor capability in config space, in list order. Walks the capability list
 * from offset 0x34; a list that loops or points outside the 256-byte header ends the walk.
 * Capabilities with a reserved BAR number (above 5) are left out, as §4.1.4 asks drivers to
 * ignore them.
 */
export function listVirtioCaps(read) {
    const caps = [];
    if ((read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) === 0)
        return caps;
    const seen = new Set();
    let at = read(PCI_CAPABILITY_LIST, 1) & 0xfc;
    while (at >= 0x40 && at <= 0xfc && !seen.has(at)) {
        seen.add(at);
        const id = read(at, 1);
        const next = read(at + 1, 1) & 0xfc;
        if (id === PCI_CAP_ID_VNDR) {
            const capLen = read(at + 2, 1);
            const cfgType = read(at + 3, 1);
            const bar = read(at + 4, 1);
            if (capLen >= 16 && bar <= 5) {
                const cap = { cfgType, bar, offset: read(at + 8, 4) >>> 0, length: read(at + 12, 4) >>> 0, capOffset: at };
                if (cfgType === VIRTIO_PCI_CAP_NOTIFY_CFG && capLen >= 20) {
                    const notify = { ...cap, notifyOffMultiplier: read(at + 16, 4) >>> 0 };
                    caps.push(notify);
                }
                else {
                    caps.push(cap);
                }
            }
        }
        at = next;
    }
    return caps;
}
/**
 * The modern interface's structures (§4.1.4): the first capability of each type, as the spec
 * tells drivers to prefer. Returns undefined when the device has no common or notification
 * structure, i.e. offers only the legacy interface.
 */
export function findVirtioCaps(read) {
    const caps = listVirtioCaps(read);
    const first = (type) => caps.find((c) => c.cfgType === type);
    const common = first(VIRTIO_PCI_CAP_COMMON_CFG);
    const notify = first(VIRTIO_PCI_CAP_NOTIFY_CFG);
    if (!common || !notify || notify.notifyOffMultiplier === undefined)
        return undefined;
    return { common, notify, isr: first(VIRTIO_PCI_CAP_ISR_CFG), device: first(VIRTIO_PCI_CAP_DEVICE_CFG) };
}
/** Capability id of MSI-X (PCI 3.0 §6.8.2); bit 15 of its Message Control word enables it. */
const PCI_CAP_ID_MSIX = 0x11;
const MSIX_ENABLE = 1 << 15;
/**
 * Is MSI-X enabled? A legacy virtio header is 4 bytes longer then (two vector registers), so
 * the device-specific config moves from offset 20 to 24 (§4.1.4.10).
 */
export function msixEnabled(read) {
    if ((read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) === 0)
        return false;
    const seen = new Set();
    let at = read(PCI_CAPABILITY_LIST, 1) & 0xfc;
    while (at >= 0x40 && at <= 0xfc && !seen.has(at)) {
        seen.add(at);
        if (read(at, 1) === PCI_CAP_ID_MSIX)
            return (read(at + 2, 2) & MSIX_ENABLE) !== 0;
        at = read(at + 1, 1) & 0xfc;
    }
    return false;
}
//# sourceMappingURL=capabilities.js.map