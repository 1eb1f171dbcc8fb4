/**
 * Numbers from the virtio 1.2 specification (OASIS, 2022). Section names are given with the
 * numbers, since the numbering shifts between spec versions.
 */

/** PCI vendor of every virtio device (§4.1.2 PCI Device Discovery). */
export const VIRTIO_VENDOR_ID = 0x1af4;
/** Transitional (legacy-capable) network device. */
export const VIRTIO_NET_TRANSITIONAL_DEVICE_ID = 0x1000;
/** Modern network device: 0x1040 + virtio device id 1 (§4.1.2, §5 Device Types). */
export const VIRTIO_NET_MODERN_DEVICE_ID = 0x1041;

// ---- §2.1 Device Status Field ----
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_DEVICE_NEEDS_RESET = 64;
export const STATUS_FAILED = 128;

// ---- Feature bits: §5.1.3 (network device) and §6 Reserved Feature Bits ----
// Bits are numbered 0..63; a JS number holds them as two 32-bit words (no BigInt).
export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_GUEST_CSUM = 1;
export const VIRTIO_NET_F_MTU = 3;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;
export const VIRTIO_NET_F_CTRL_RX = 18;
export const VIRTIO_NET_F_CTRL_MAC_ADDR = 23;
/** Legacy only: the driver may place headers and data in one descriptor (§2.7.4 Message Framing). */
export const VIRTIO_F_ANY_LAYOUT = 27;
export const VIRTIO_F_RING_INDIRECT_DESC = 28;
export const VIRTIO_F_RING_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;
/** The device reaches memory through the platform's IOMMU: addresses are bus addresses. */
export const VIRTIO_F_ACCESS_PLATFORM = 33;
export const VIRTIO_NET_F_SPEED_DUPLEX = 63;

/** Feature names for messages. */
export const FEATURE_NAMES: Readonly<Record<number, string>> = {
  [VIRTIO_NET_F_CSUM]: 'CSUM',
  [VIRTIO_NET_F_GUEST_CSUM]: 'GUEST_CSUM',
  [VIRTIO_NET_F_MTU]: 'MTU',
  [VIRTIO_NET_F_MAC]: 'MAC',
  [VIRTIO_NET_F_MRG_RXBUF]: 'MRG_RXBUF',
  [VIRTIO_NET_F_STATUS]: 'STATUS',
  [VIRTIO_NET_F_CTRL_VQ]: 'CTRL_VQ',
  [VIRTIO_NET_F_CTRL_RX]: 'CTRL_RX',
  [VIRTIO_NET_F_CTRL_MAC_ADDR]: 'CTRL_MAC_ADDR',
  [VIRTIO_F_ANY_LAYOUT]: 'ANY_LAYOUT',
  [VIRTIO_F_RING_INDIRECT_DESC]: 'RING_INDIRECT_DESC',
  [VIRTIO_F_RING_EVENT_IDX]: 'RING_EVENT_IDX',
  [VIRTIO_F_VERSION_1]: 'VERSION_1',
  [VIRTIO_F_ACCESS_PLATFORM]: 'ACCESS_PLATFORM',
  [VIRTIO_NET_F_SPEED_DUPLEX]: 'SPEED_DUPLEX',
};

// ---- §5.1.4 Device configuration layout (offsets into the device-specific config) ----
export const NET_CFG_MAC = 0;
export const NET_CFG_STATUS = 6;
export const NET_CFG_MAX_VQ_PAIRS = 8;
export const NET_CFG_MTU = 10;
export const NET_CFG_SPEED = 12;
export const NET_CFG_DUPLEX = 16;
/** `status` bit: the link is up. */
export const VIRTIO_NET_S_LINK_UP = 1;
/** `speed` value for "unknown". */
export const VIRTIO_NET_SPEED_UNKNOWN = 0xffffffff;

// ---- §5.1.2 Virtqueues: receiveq1 = 0, transmitq1 = 1, controlq = 2 (without MQ) ----
export const RX_QUEUE = 0;
export const TX_QUEUE = 1;
export const CTRL_QUEUE = 2;

// ---- §5.1.6 Device Operation: struct virtio_net_hdr ----
/** Header before every packet: 10 bytes for legacy without MRG_RXBUF. */
export const NET_HDR_LEN_LEGACY = 10;
/** 12 bytes with VERSION_1 (num_buffers is always present). */
export const NET_HDR_LEN_MODERN = 12;

// ---- §5.1.6.5 Control Virtqueue ----
export const VIRTIO_NET_OK = 0;
export const VIRTIO_NET_ERR = 1;
export const VIRTIO_NET_CTRL_RX = 0;
export const VIRTIO_NET_CTRL_RX_PROMISC = 0;
export const VIRTIO_NET_CTRL_RX_ALLMULTI = 1;
export const VIRTIO_NET_CTRL_MAC = 1;
export const VIRTIO_NET_CTRL_MAC_ADDR_SET = 1;

// ---- §2.7.5 The Virtqueue Descriptor Table ----
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
// ---- §2.7.6 The Virtqueue Available Ring ----
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
// ---- §2.7.8 The Virtqueue Used Ring ----
export const VIRTQ_USED_F_NO_NOTIFY = 1;

// ---- §4.1.5.1.2 MSI-X Vector Configuration ----
/** "No vector": an event without interrupt; read back when the device refuses a mapping. */
export const VIRTIO_MSI_NO_VECTOR = 0xffff;
/** The MSI-X vector the receive queue raises (the only one this driver maps). */
export const RX_MSIX_VECTOR = 0;

/** Largest split virtqueue (§2.7 Split Virtqueues: Queue Size is a power of 2, at most 32768). */
export const MAX_QUEUE_SIZE = 32768;
/** Legacy: the queue address register holds a page frame number of 4096-byte pages (§4.1.4.10). */
export const LEGACY_QUEUE_ALIGN = 4096;
