// Intel 82574 register offsets and bits under their datasheet names (Intel 82574 GbE Controller
// Family Datasheet, rev. 3.4, chapter 10 "Programming Interface"; §10.2 lists the registers).
// Offsets are byte offsets into BAR0 (memory-mapped, 128 KiB). Only what this driver touches.
// Keep this file free of logic.

// General control and status
export const E1000_CTRL = 0x00000;
export const E1000_CTRL_FD = 0x00000001; // full duplex
export const E1000_CTRL_GIO_MASTER_DISABLE = 0x00000004; // stop issuing new master requests
export const E1000_CTRL_ASDE = 0x00000020; // auto-speed detection
export const E1000_CTRL_SLU = 0x00000040; // set link up
export const E1000_CTRL_FRCSPD = 0x00000800; // force speed
export const E1000_CTRL_FRCDPX = 0x00001000; // force duplex
export const E1000_CTRL_RST = 0x04000000; // device (software) reset, self-clearing
export const E1000_CTRL_RFCE = 0x08000000; // honour received PAUSE frames
export const E1000_CTRL_TFCE = 0x10000000; // send PAUSE frames
export const E1000_CTRL_PHY_RST = 0x80000000;
export const E1000_STATUS = 0x00008;
export const E1000_STATUS_FD = 0x00000001;
export const E1000_STATUS_LU = 0x00000002; // link up
export const E1000_STATUS_SPEED_MASK = 0x000000c0;
export const E1000_STATUS_SPEED_10 = 0x00000000;
export const E1000_STATUS_SPEED_100 = 0x00000040;
export const E1000_STATUS_SPEED_1000 = 0x00000080; // 11b also means 1000
export const E1000_STATUS_GIO_MASTER_ENABLE = 0x00080000; // master requests may be pending
export const E1000_EECD = 0x00010;
export const E1000_EECD_AUTO_RD = 0x00000200; // NVM auto-read done
export const E1000_CTRL_EXT = 0x00018;
export const E1000_CTRL_EXT_PBA_CLR = 0x80000000; // PBA support: MSI-X pending bits cleared through IMS
export const E1000_GCR = 0x05b00; // PCIe control
export const E1000_GCR_ERRATA_BIT22 = 0x00400000; // 82574 errata: set (as Linux does)

// Flow control (802.3x)
export const E1000_FCAL = 0x00028; // PAUSE destination address 01:80:C2:00:00:01, low
export const E1000_FCAH = 0x0002c;
export const E1000_FCT = 0x00030; // PAUSE EtherType
export const E1000_FCTTV = 0x00170; // pause time sent in XOFF frames
export const E1000_FCRTL = 0x02160; // XON threshold (bytes of packet buffer, bits 15:3)
export const E1000_FCRTL_XONE = 0x80000000; // send XON when the buffer drains below it
export const E1000_FCRTH = 0x02168; // XOFF threshold
export const E1000_FCRTV = 0x05f40; // refresh of the pause while the buffer stays full
export const E1000_PBA = 0x01000; // packet buffer allocation: RX KiB in bits 15:0
export const E1000_FC_ADDR_LOW = 0x00c28001;
export const E1000_FC_ADDR_HIGH = 0x00000100;
export const E1000_FC_TYPE = 0x8808;

// Interrupts
export const E1000_ICR = 0x000c0; // cause read, clear on read (and write 1 to clear)
export const E1000_ITR = 0x000c4;
export const E1000_ICS = 0x000c8;
export const E1000_IMS = 0x000d0; // mask set
export const E1000_IMC = 0x000d8; // mask clear
export const E1000_EIAC = 0x000dc; // MSI-X: causes auto-cleared when their message is sent
export const E1000_IAM = 0x000e0;
export const E1000_IVAR = 0x000e4; // MSI-X: cause to vector
export const E1000_IVAR_VALID = 0x8; // per 4-bit entry: vector in bits 2:0, valid bit 3
export const E1000_IVAR_RXQ0_SHIFT = 0;
export const E1000_IRQ_CLEAR_MASK = 0xffffffff;
export const E1000_ICR_RXT0 = 0x00000080; // receiver timer (non-MSI-X)
export const E1000_ICR_RXQ0 = 0x00100000; // RX queue 0 (MSI-X)

// Receive
export const E1000_RCTL = 0x00100;
export const E1000_RCTL_EN = 0x00000002;
export const E1000_RCTL_SBP = 0x00000004; // store bad packets
export const E1000_RCTL_UPE = 0x00000008; // unicast promiscuous
export const E1000_RCTL_MPE = 0x00000010; // multicast promiscuous
export const E1000_RCTL_LPE = 0x00000020; // long packets (jumbo)
export const E1000_RCTL_LBM_MASK = 0x000000c0; // loopback mode
export const E1000_RCTL_RDMTS_MASK = 0x00000300;
export const E1000_RCTL_DTYP_MASK = 0x00000c00; // 00b legacy/extended, 01b packet split
export const E1000_RCTL_BAM = 0x00008000; // accept broadcasts
export const E1000_RCTL_BSIZE_MASK = 0x00030000; // 00b with BSEX = 0: 2048 bytes
export const E1000_RCTL_BSIZE_2048 = 0x00000000;
export const E1000_RCTL_BSEX = 0x02000000;
export const E1000_RCTL_SECRC = 0x04000000; // strip the Ethernet CRC
export const E1000_RDBAL = 0x02800;
export const E1000_RDBAH = 0x02804;
export const E1000_RDLEN = 0x02808;
export const E1000_RDH = 0x02810;
export const E1000_RDT = 0x02818;
export const E1000_RDTR = 0x02820; // receive delay timer
export const E1000_RXDCTL = 0x02828;
export const E1000_RADV = 0x0282c; // receive absolute delay
export const E1000_RXCSUM = 0x05000;
export const E1000_RFCTL = 0x05008;
export const E1000_RFCTL_EXTEN = 0x00008000; // extended RX descriptors
export const E1000_MTA = 0x05200; // multicast table, 128 registers
export const E1000_MTA_COUNT = 128;
export const E1000_RAL0 = 0x05400;
export const E1000_RAH0 = 0x05404;
export const E1000_RAH_AV = 0x80000000; // address valid

// Transmit
export const E1000_TCTL = 0x00400;
export const E1000_TCTL_EN = 0x00000002;
export const E1000_TCTL_PSP = 0x00000008; // pad short packets
export const E1000_TCTL_CT_SHIFT = 4; // collision threshold
export const E1000_TCTL_COLD_SHIFT = 12; // collision distance
export const E1000_TCTL_RTLC = 0x01000000; // retransmit on late collision
export const E1000_TIPG = 0x00410;
export const E1000_TDBAL = 0x03800;
export const E1000_TDBAH = 0x03804;
export const E1000_TDLEN = 0x03808;
export const E1000_TDH = 0x03810;
export const E1000_TDT = 0x03818;
export const E1000_TIDV = 0x03820; // transmit interrupt delay
export const E1000_TXDCTL = 0x03828;
export const E1000_TXDCTL_WTHRESH_1 = 0x00010000; // write back each descriptor (WTHRESH = 1)
export const E1000_TXDCTL_COUNT_DESC = 0x00400000; // bit 22: must be set
export const E1000_TXDCTL_GRAN = 0x01000000; // thresholds count descriptors
export const E1000_TADV = 0x0382c;
export const E1000_TARC0 = 0x03840;
export const E1000_TARC_ENABLE = 0x00000400; // bit 10: the queue transmits

// Statistics (all clear on read; GORC/GOTC are 64-bit: read low, then high)
export const E1000_CRCERRS = 0x04000;
export const E1000_MPC = 0x04010; // missed: no room in the packet buffer
export const E1000_GPRC = 0x04074; // good packets received
export const E1000_BPRC = 0x04078;
export const E1000_MPRC = 0x0407c;
export const E1000_GPTC = 0x04080; // good packets transmitted
export const E1000_GORCL = 0x04088; // good octets received
export const E1000_GORCH = 0x0408c;
export const E1000_GOTCL = 0x04090; // good octets transmitted
export const E1000_GOTCH = 0x04094;
export const E1000_RNBC = 0x040a0; // received with no descriptor free (held in the FIFO, not lost)
export const E1000_TPR = 0x040d0;
export const E1000_TPT = 0x040d4;

// Descriptors: 16 bytes, legacy format (§7.1.3 receive, §7.2 transmit)
export const E1000_DESC_SIZE = 16;
// RX: word 2 = length (15:0) | checksum (31:16); word 3 = status (7:0) | errors (15:8) | VLAN (31:16)
export const E1000_RXD_STAT_DD = 0x01; // descriptor done
export const E1000_RXD_STAT_EOP = 0x02; // end of packet
export const E1000_RXD_ERR_MASK = 0x0000ff00;
// TX: word 2 = length (15:0) | CSO (23:16) | CMD (31:24); word 3 = STA (3:0) | CSS (15:8) | VLAN (31:16)
export const E1000_TXD_CMD_EOP = 0x01000000; // end of packet
export const E1000_TXD_CMD_IFCS = 0x02000000; // insert FCS (CRC)
export const E1000_TXD_CMD_RS = 0x08000000; // report status: write DD back
export const E1000_TXD_CMD_DEXT = 0x20000000; // extended descriptor (0: legacy)
export const E1000_TXD_STAT_DD = 0x00000001;
