// Intel 82599 register offsets and bits, under their datasheet names (Intel 82599 10 GbE
// Controller Datasheet, chapter 8 "Programming Interface"). Offsets are byte offsets into BAR0.
// Per-queue registers are functions of the queue number. Keep this file free of logic.

// §8.2.3.1 General control
export const IXGBE_CTRL = 0x00000;
export const IXGBE_CTRL_LNK_RST = 0x00000008; // link reset
export const IXGBE_CTRL_RST = 0x04000000; // device (software) reset
export const IXGBE_CTRL_RST_MASK = IXGBE_CTRL_LNK_RST | IXGBE_CTRL_RST;
export const IXGBE_CTRL_GIO_DIS = 0x00000004; // PCIe master disable (§5.2.5.3.2)
export const IXGBE_STATUS = 0x00008;
export const IXGBE_STATUS_GIO = 0x00080000; // PCIe master enable status: requests may be pending
export const IXGBE_CTRL_EXT = 0x00018;
export const IXGBE_CTRL_EXT_NS_DIS = 0x00010000; // no-snoop disable (§4.6.7 last step)

// §8.2.3.2 EEPROM/flash
export const IXGBE_EEC = 0x10010;
export const IXGBE_EEC_ARD = 0x00000200; // EEPROM auto-read done

// §8.2.3.5 Interrupts
export const IXGBE_EICR = 0x00800;
export const IXGBE_EIMS = 0x00880;
export const IXGBE_EIMC = 0x00888;
export const IXGBE_IRQ_CLEAR_MASK = 0xffffffff;
export const IXGBE_EIAC = 0x00810; // auto clear of EICR bits when their MSI-X message is sent
export const IXGBE_EITR = (i: number): number => (i <= 23 ? 0x00820 + i * 4 : 0x012300 + (i - 24) * 4); // throttling
export const IXGBE_EITR_ITR_INTERVAL_MASK = 0x00000ff8; // bits 11:3, in 2 µs units
export const IXGBE_GPIE = 0x00898;
export const IXGBE_GPIE_MSIX_MODE = 0x00000010;
export const IXGBE_GPIE_EIAME = 0x40000000; // auto mask enable
export const IXGBE_GPIE_PBA_SUPPORT = 0x80000000;
export const IXGBE_IVAR = (i: number): number => 0x00900 + i * 4; // 64 registers, 2 RX + 2 TX causes each
export const IXGBE_IVAR_ALLOC_VAL = 0x80; // the entry is valid
/** EICR/EIMS bits of the RX/TX queue causes (the vectors they map to, in MSI-X mode). */
export const IXGBE_EICR_RTX_QUEUE = 0x0000ffff;

// §8.2.3.8 Receive DMA
export const IXGBE_RDBAL = (i: number): number => (i < 64 ? 0x01000 + i * 0x40 : 0x0d000 + (i - 64) * 0x40);
export const IXGBE_RDBAH = (i: number): number => (i < 64 ? 0x01004 + i * 0x40 : 0x0d004 + (i - 64) * 0x40);
export const IXGBE_RDLEN = (i: number): number => (i < 64 ? 0x01008 + i * 0x40 : 0x0d008 + (i - 64) * 0x40);
export const IXGBE_RDH = (i: number): number => (i < 64 ? 0x01010 + i * 0x40 : 0x0d010 + (i - 64) * 0x40);
export const IXGBE_RDT = (i: number): number => (i < 64 ? 0x01018 + i * 0x40 : 0x0d018 + (i - 64) * 0x40);
export const IXGBE_RXDCTL = (i: number): number => (i < 64 ? 0x01028 + i * 0x40 : 0x0d028 + (i - 64) * 0x40);
export const IXGBE_RXDCTL_ENABLE = 0x02000000;
export const IXGBE_SRRCTL = (i: number): number =>
  i <= 15 ? 0x02100 + i * 4 : i < 64 ? 0x01014 + i * 0x40 : 0x0d014 + (i - 64) * 0x40;
export const IXGBE_SRRCTL_BSIZEPKT_SHIFT = 10; // BSIZEPACKET is in 1 KiB units
export const IXGBE_SRRCTL_BSIZEPKT_MASK = 0x0000007f;
export const IXGBE_SRRCTL_DESCTYPE_MASK = 0x0e000000;
export const IXGBE_SRRCTL_DESCTYPE_ADV_ONEBUF = 0x02000000;
export const IXGBE_SRRCTL_DROP_EN = 0x10000000;
export const IXGBE_DCA_RXCTRL = (i: number): number =>
  i <= 15 ? 0x02200 + i * 4 : i < 64 ? 0x0100c + i * 0x40 : 0x0d00c + (i - 64) * 0x40;
/** DCA_RXCTRL bit 12: reserved, reset value 1, must be cleared (§4.6.7; C ixy does so). */
export const IXGBE_DCA_RXCTRL_BIT12 = 1 << 12;
export const IXGBE_RDRXCTL = 0x02f00;
export const IXGBE_RDRXCTL_CRCSTRIP = 0x00000002;
export const IXGBE_RDRXCTL_DMAIDONE = 0x00000008; // DMA init done
export const IXGBE_RDRXCTL_RSCACKC = 0x02000000; // "must be set to 1" (§8.2.3.8.8)
export const IXGBE_RDRXCTL_FCOE_WRFIX = 0x04000000; // "must be set to 1" (§8.2.3.8.8)
export const IXGBE_RXCTRL = 0x03000;
export const IXGBE_RXCTRL_RXEN = 0x00000001;
export const IXGBE_RXPBSIZE = (i: number): number => 0x03c00 + i * 4;
export const IXGBE_RXPBSIZE_128KB = 0x00020000;

// §8.2.3.7 Receive filters
export const IXGBE_FCTRL = 0x05080;
export const IXGBE_FCTRL_MPE = 0x00000100; // multicast promiscuous
export const IXGBE_FCTRL_UPE = 0x00000200; // unicast promiscuous
export const IXGBE_FCTRL_BAM = 0x00000400; // broadcast accept
// Receive address 0..127 (§8.2.3.7.9); the 82598-compatible alias 0x05400 maps entries 0..15.
export const IXGBE_RAL = (i: number): number => 0x0a200 + i * 8;
export const IXGBE_RAH = (i: number): number => 0x0a204 + i * 8;
export const IXGBE_RAH_AV = 0x80000000; // address valid

// §8.2.3.22 MAC
export const IXGBE_HLREG0 = 0x04240;
export const IXGBE_HLREG0_TXCRCEN = 0x00000001;
export const IXGBE_HLREG0_RXCRCSTRP = 0x00000002;
export const IXGBE_HLREG0_JUMBOEN = 0x00000004;
export const IXGBE_HLREG0_TXPADEN = 0x00000400;
export const IXGBE_MAXFRS = 0x04268;
export const IXGBE_MAXFRS_MFS_SHIFT = 16; // max frame size, bytes, including the CRC
export const IXGBE_AUTOC = 0x042a0;
export const IXGBE_AUTOC_AN_RESTART = 0x00001000;
export const IXGBE_AUTOC_LMS_SHIFT = 13;
export const IXGBE_AUTOC_LMS_MASK = 0x7 << IXGBE_AUTOC_LMS_SHIFT;
export const IXGBE_AUTOC_LMS_10G_SERIAL = 0x3 << IXGBE_AUTOC_LMS_SHIFT;
export const IXGBE_AUTOC_10G_PMA_PMD_MASK = 0x00000180;
export const IXGBE_AUTOC_10G_XAUI = 0x0 << 7;
export const IXGBE_LINKS = 0x042a4;
export const IXGBE_LINKS_UP = 0x40000000;
export const IXGBE_LINKS_SPEED_82599 = 0x30000000;
export const IXGBE_LINKS_SPEED_10G_82599 = 0x30000000;
export const IXGBE_LINKS_SPEED_1G_82599 = 0x20000000;
export const IXGBE_LINKS_SPEED_100_82599 = 0x10000000;

// §8.2.3.9 Transmit DMA
export const IXGBE_TDBAL = (i: number): number => 0x06000 + i * 0x40;
export const IXGBE_TDBAH = (i: number): number => 0x06004 + i * 0x40;
export const IXGBE_TDLEN = (i: number): number => 0x06008 + i * 0x40;
export const IXGBE_TDH = (i: number): number => 0x06010 + i * 0x40;
export const IXGBE_TDT = (i: number): number => 0x06018 + i * 0x40;
export const IXGBE_TXDCTL = (i: number): number => 0x06028 + i * 0x40;
export const IXGBE_TXDCTL_ENABLE = 0x02000000;
export const IXGBE_TXDCTL_SWFLSH = 0x04000000; // software flush of pending descriptor write-backs
// TXDCTL thresholds: PTHRESH 6:0, HTHRESH 14:8, WTHRESH 22:16 (§8.2.3.9.10)
export const IXGBE_TXDCTL_THRESH_MASK = 0x7f | (0x7f << 8) | (0x7f << 16);
export const IXGBE_DMATXCTL = 0x04a80;
export const IXGBE_DMATXCTL_TE = 0x00000001; // transmit enable
export const IXGBE_DTXMXSZRQ = 0x08100;
export const IXGBE_TXPBSIZE = (i: number): number => 0x0cc00 + i * 4;
export const IXGBE_TXPBSIZE_40KB = 0x0000a000;
export const IXGBE_RTTDCS = 0x04900;
export const IXGBE_RTTDCS_ARBDIS = 0x00000040; // DCB arbiter disable

// §8.2.3.23 Statistics (clear on read)
export const IXGBE_MPC = (i: number): number => 0x03fa0 + i * 4; // missed packets, per packet buffer (8)
export const IXGBE_GPRC = 0x04074;
export const IXGBE_GPTC = 0x04080;
export const IXGBE_GORCL = 0x04088;
export const IXGBE_GORCH = 0x0408c; // bits 3:0 = octets 35:32
export const IXGBE_GOTCL = 0x04090;
export const IXGBE_GOTCH = 0x04094;
export const IXGBE_QPRDC = (i: number): number => 0x01430 + i * 0x40; // queue drops (16 stat sets)

// §7.1.6 Advanced receive descriptors (16 bytes; as four 32-bit words)
// read format:       w0/w1 packet buffer address, w2/w3 header buffer address
// write-back format: w2 extended status/error, w3 bits 15:0 packet length, 31:16 VLAN tag
export const IXGBE_RXDADV_STAT_DD = 0x01; // descriptor done
export const IXGBE_RXDADV_STAT_EOP = 0x02; // end of packet

// §7.2.3.2.4 Advanced transmit data descriptor
// read format:       w0/w1 buffer address, w2 cmd/type/len, w3 olinfo (PAYLEN in 31:14)
// write-back format: w3 bit 0 = DD
export const IXGBE_ADVTXD_DTYP_DATA = 0x00300000;
export const IXGBE_ADVTXD_DCMD_EOP = 0x01000000;
export const IXGBE_ADVTXD_DCMD_IFCS = 0x02000000;
export const IXGBE_ADVTXD_DCMD_RS = 0x08000000;
export const IXGBE_ADVTXD_DCMD_DEXT = 0x20000000;
export const IXGBE_ADVTXD_PAYLEN_SHIFT = 14;
export const IXGBE_ADVTXD_STAT_DD = 0x00000001;

/** Bytes per advanced descriptor, RX and TX alike. */
export const IXGBE_DESC_SIZE = 16;
/** Queues of each direction on the 82599. */
export const IXGBE_MAX_QUEUES = 128;
/** TX queues MTQC serves at its reset value (no DCB, no virtualization): 64. */
export const IXGBE_MAX_TX_QUEUES = 64;

// §3.7.7 / §8.2.3.3 flow control
export const IXGBE_FCTTV = (i: number): number => 0x03200 + i * 4; // pause time, 2 TCs per register
export const IXGBE_FCRTL_82599 = (i: number): number => 0x03220 + i * 4;
export const IXGBE_FCRTH_82599 = (i: number): number => 0x03260 + i * 4;
export const IXGBE_FCRTV = 0x032a0;
export const IXGBE_FCCFG = 0x03d00;
export const IXGBE_MFLCN = 0x04294;
export const IXGBE_FCRTL_XONE = 0x80000000;
export const IXGBE_FCRTH_FCEN = 0x80000000;
export const IXGBE_FCCFG_TFCE_802_3X = 0x00000008;
export const IXGBE_MFLCN_RFCE = 0x00000008;
