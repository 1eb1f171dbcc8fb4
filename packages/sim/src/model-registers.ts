// The registers the 82599 model implements, written from the datasheet (chapter 8) on their
// own, not shared with the driver: a wrong offset in one of them shows up as a failing test.

export const BAR0_SIZE = 0x80000; // 512 KiB of memory-mapped registers

export const CTRL = 0x00000;
export const CTRL_LRST = 1 << 3;
export const CTRL_RST = 1 << 26;
export const CTRL_GIO_DIS = 1 << 2; // PCIe master disable
export const STATUS_GIO = 1 << 19; // PCIe master enable status
export const STATUS = 0x00008;
export const CTRL_EXT = 0x00018;
export const EICR = 0x00800;
export const EIMS = 0x00880;
export const EIMC = 0x00888;
export const EIAC = 0x00810;
export const EIAM = 0x00890;
export const GPIE = 0x00898;
export const GPIE_MSIX_MODE = 1 << 4;
export const GPIE_EIAME = 1 << 30;
export const IVAR0 = 0x00900; // 64 registers: RX cause of queue 2n in byte 0, of 2n+1 in byte 2
export const IVAR_ALLOC_VAL = 0x80;
export const EEC = 0x10010;
export const EEC_ARD = 1 << 9;

export const RDRXCTL = 0x02f00;
export const RDRXCTL_CRCSTRIP = 1 << 1;
export const RDRXCTL_DMAIDONE = 1 << 3;
export const RDRXCTL_MUST_BE_1 = (1 << 25) | (1 << 26); // RSCACKC, FCOE_WRFIX (§8.2.3.8.8)
export const RXCTRL = 0x03000;
export const RXCTRL_RXEN = 1 << 0;
export const RXPBSIZE0 = 0x03c00;
export const TXPBSIZE0 = 0x0cc00;
export const SRRCTL_LOW = 0x02100; // queues 0..15, 4 bytes apart
export const DCA_RXCTRL_LOW = 0x02200; // queues 0..15
export const SRRCTL_BSIZEPACKET_MASK = 0x7f; // KiB
export const SRRCTL_DESCTYPE_MASK = 0x7 << 25;
export const SRRCTL_DESCTYPE_ADV_ONEBUF = 0x1 << 25;
export const SRRCTL_DROP_EN = 1 << 28;

// per-queue blocks: RX queues 0..63 at 0x01000 + 0x40 n, 64..127 at 0x0D000 + 0x40 (n - 64);
// TX queues 0..127 at 0x06000 + 0x40 n. Offsets inside a block:
export const Q_BAL = 0x00;
export const Q_BAH = 0x04;
export const Q_LEN = 0x08;
export const Q_DCA_RXCTRL = 0x0c; // RX queues 16..127
export const Q_HEAD = 0x10;
export const Q_SRRCTL = 0x14; // RX queues 16..127
export const Q_TAIL = 0x18;
export const Q_CTL = 0x28; // RXDCTL / TXDCTL
export const Q_ENABLE = 1 << 25;
export const RX_BLOCK_LOW = 0x01000;
export const RX_BLOCK_HIGH = 0x0d000;
export const TX_BLOCK = 0x06000;

export const FCTRL = 0x05080;
export const FCTRL_MPE = 1 << 8;
export const FCTRL_UPE = 1 << 9;
export const FCTRL_BAM = 1 << 10;
export const RAL0 = 0x0a200; // RAL n / RAH n at 0x0A200 / 0x0A204 + 8 n
export const RAL0_LEGACY = 0x05400; // 82598 alias of entries 0..15
export const RAH_AV = 1 << 31;

export const HLREG0 = 0x04240;
export const HLREG0_TXCRCEN = 1 << 0;
export const HLREG0_RXCRCSTRP = 1 << 1;
export const HLREG0_JUMBOEN = 1 << 2;
export const HLREG0_TXPADEN = 1 << 10;
export const MAXFRS = 0x04268;
export const AUTOC = 0x042a0;
export const AUTOC_AN_RESTART = 1 << 12;
export const AUTOC_LMS_SHIFT = 13;
export const AUTOC_LMS_10G_SERIAL = 0x3 << 13;
export const LINKS = 0x042a4;
export const LINKS_UP = 1 << 30;
export const LINKS_SPEED_10G = 0x3 << 28;

export const DMATXCTL = 0x04a80;
export const DMATXCTL_TE = 1 << 0;
export const DTXMXSZRQ = 0x08100;
export const RTTDCS = 0x04900;

// statistics, clear on read (§8.2.3.23)
export const MPC0 = 0x03fa0; // 8, 4 bytes apart
export const GPRC = 0x04074;
export const GPTC = 0x04080;
export const GORCL = 0x04088;
export const GORCH = 0x0408c;
export const GOTCL = 0x04090;
export const GOTCH = 0x04094;
export const RUC = 0x040a4;
export const ROC = 0x040ac;
export const QPRDC0 = 0x01430; // 16, 0x40 apart

// descriptors (§7.1.6, §7.2.3.2.4), as 32-bit words
export const RXD_STAT_DD = 1 << 0;
export const RXD_STAT_EOP = 1 << 1;
export const TXD_DTALEN_MASK = 0xffff;
export const TXD_DTYP_SHIFT = 20;
export const TXD_DTYP_CONTEXT = 0x2;
export const TXD_DTYP_DATA = 0x3;
export const TXD_CMD_EOP = 1 << 24;
export const TXD_CMD_IFCS = 1 << 25;
export const TXD_CMD_RS = 1 << 27;
export const TXD_CMD_DEXT = 1 << 29;
export const TXD_PAYLEN_SHIFT = 14;
export const TXD_STAT_DD = 1 << 0;
