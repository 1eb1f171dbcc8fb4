/**
 * The test frame: Ethernet II, IPv4 (RFC 791) with a valid header checksum, UDP (RFC 768),
 * then a 64-bit sequence number and a payload pattern that depends only on the byte's
 * position, so a receiver can check every byte of every frame.
 *
 *   0 dst MAC  6 src MAC  12 type 0x0800  14 IPv4 header  34 UDP header  42 seq (lo32, hi32 LE)
 *   50.. pattern
 *
 * A frame stamped with its send time (ixy-pktgen --timestamp) has the top bit of the sequence
 * word set (sequence numbers stay below 2^53, so that bit is free) and carries the time at 50:
 *
 *   42 seq | SEND_TIME_FLAG  50 send time (CLOCK_MONOTONIC ns: lo32, hi32 LE)  58.. pattern
 */
export const ETH_HEADER = 14;
export const IP_HEADER = 20;
export const UDP_HEADER = 8;
export const SEQ_OFFSET = ETH_HEADER + IP_HEADER + UDP_HEADER;
export const PATTERN_OFFSET = SEQ_OFFSET + 8;
/** Where a stamped frame carries its send time (ns of CLOCK_MONOTONIC, low then high 32 bits, LE). */
export const SEND_TIME_OFFSET = PATTERN_OFFSET;
/** Where a stamped frame's payload pattern starts. */
export const STAMPED_PATTERN_OFFSET = SEND_TIME_OFFSET + 8;
/** The flag in the sequence word's last byte (bit 63 of the word) that says a send time follows. */
const SEND_TIME_FLAG = 0x80;
/** Smallest frame (without CRC) on Ethernet; also the smallest that holds our headers. */
export const MIN_FRAME = 60;
/** Largest standard frame without CRC. */
export const MAX_FRAME = 1514;

export interface FrameTemplate {
  dstMac: readonly number[];
  srcMac: readonly number[];
  srcIp: readonly number[];
  dstIp: readonly number[];
  srcPort: number;
  dstPort: number;
}

export const DEFAULT_TEMPLATE: FrameTemplate = {
  dstMac: [0x02, 0x00, 0x00, 0x00, 0x00, 0x02],
  srcMac: [0x02, 0x00, 0x00, 0x00, 0x00, 0x01],
  srcIp: [10, 0, 0, 1],
  dstIp: [10, 0, 0, 2],
  srcPort: 42,
  dstPort: 1337,
};

/** Payload byte at frame offset `i` (i >= PATTERN_OFFSET). */
export function patternByte(i: number): number {
  return (i * 31 + 7) & 0xff;
}

/** RFC 1071 ones' complement sum over `length` bytes (even) at `offset`, folded and inverted. */
export function ipChecksum(bytes: Uint8Array, offset: number, length: number): number {
  let sum = 0;
  for (let i = 0; i < length; i += 2) sum += (bytes[offset + i] << 8) | bytes[offset + i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Writes a whole test frame of `size` bytes at `offset` (headers, checksum, pattern) with
 * sequence number 0. Done once per buffer; sending then only stamps the sequence number.
 */
export function writeFrame(bytes: Uint8Array, offset: number, size: number, t: FrameTemplate = DEFAULT_TEMPLATE): void {
  if (!Number.isInteger(size) || size < MIN_FRAME || size > 65535)
    throw new RangeError(`frame size must be ${MIN_FRAME}..65535, got ${size}`);
  const b = bytes;
  const o = offset;
  for (let i = 0; i < 6; i++) {
    b[o + i] = t.dstMac[i];
    b[o + 6 + i] = t.srcMac[i];
  }
  b[o + 12] = 0x08;
  b[o + 13] = 0x00;
  const ip = o + ETH_HEADER;
  const ipLen = size - ETH_HEADER;
  b[ip] = 0x45;
  b[ip + 1] = 0;
  b[ip + 2] = ipLen >>> 8;
  b[ip + 3] = ipLen & 0xff;
  b[ip + 4] = 0;
  b[ip + 5] = 0;
  b[ip + 6] = 0x40; // don't fragment
  b[ip + 7] = 0;
  b[ip + 8] = 64;
  b[ip + 9] = 17;
  b[ip + 10] = 0;
  b[ip + 11] = 0;
  for (let i = 0; i < 4; i++) {
    b[ip + 12 + i] = t.srcIp[i];
    b[ip + 16 + i] = t.dstIp[i];
  }
  const sum = ipChecksum(b, ip, IP_HEADER);
  b[ip + 10] = sum >>> 8;
  b[ip + 11] = sum & 0xff;
  const udp = ip + IP_HEADER;
  const udpLen = ipLen - IP_HEADER;
  b[udp] = t.srcPort >>> 8;
  b[udp + 1] = t.srcPort & 0xff;
  b[udp + 2] = t.dstPort >>> 8;
  b[udp + 3] = t.dstPort & 0xff;
  b[udp + 4] = udpLen >>> 8;
  b[udp + 5] = udpLen & 0xff;
  b[udp + 6] = 0; // no UDP checksum (optional over IPv4)
  b[udp + 7] = 0;
  for (let i = SEQ_OFFSET; i < PATTERN_OFFSET; i++) b[o + i] = 0;
  for (let i = PATTERN_OFFSET; i < size; i++) b[o + i] = patternByte(i);
}

/** Stamps a sequence number (exact up to 2^53) into a frame at `offset`. */
export function writeSeq(bytes: Uint8Array, offset: number, seq: number): void {
  const o = offset + SEQ_OFFSET;
  const lo = seq >>> 0;
  const hi = Math.floor(seq / 0x1_0000_0000) >>> 0;
  bytes[o] = lo & 0xff;
  bytes[o + 1] = (lo >>> 8) & 0xff;
  bytes[o + 2] = (lo >>> 16) & 0xff;
  bytes[o + 3] = lo >>> 24;
  bytes[o + 4] = hi & 0xff;
  bytes[o + 5] = (hi >>> 8) & 0xff;
  bytes[o + 6] = (hi >>> 16) & 0xff;
  bytes[o + 7] = hi >>> 24;
}

export function readSeq(bytes: Uint8Array, offset: number): number {
  const o = offset + SEQ_OFFSET;
  const lo = (bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24)) >>> 0;
  const hi = (bytes[o + 4] | (bytes[o + 5] << 8) | (bytes[o + 6] << 16) | ((bytes[o + 7] & 0x7f) << 24)) >>> 0;
  return hi * 0x1_0000_0000 + lo;
}

/**
 * Stamps a send time into a test frame at `offset`: the time as two 32-bit halves (a clock
 * reading in ns does not fit a small integer, and a BigInt per packet is out of the question),
 * and the flag in the sequence word. Call it after writeSeq, which clears the flag.
 */
export function writeSendTime(bytes: Uint8Array, offset: number, hi: number, lo: number): void {
  const o = offset + SEND_TIME_OFFSET;
  bytes[o] = lo & 0xff;
  bytes[o + 1] = (lo >>> 8) & 0xff;
  bytes[o + 2] = (lo >>> 16) & 0xff;
  bytes[o + 3] = lo >>> 24;
  bytes[o + 4] = hi & 0xff;
  bytes[o + 5] = (hi >>> 8) & 0xff;
  bytes[o + 6] = (hi >>> 16) & 0xff;
  bytes[o + 7] = hi >>> 24;
  bytes[offset + SEQ_OFFSET + 7] |= SEND_TIME_FLAG;
}

/** Whether the test frame at `offset` carries a send time (see writeSendTime). */
export function hasSendTime(bytes: Uint8Array, offset: number): boolean {
  return (bytes[offset + SEQ_OFFSET + 7] & SEND_TIME_FLAG) !== 0;
}

/** The low 32 bits of a stamped frame's send time. */
export function readSendTimeLo(bytes: Uint8Array, offset: number): number {
  const o = offset + SEND_TIME_OFFSET;
  return (bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24)) >>> 0;
}

/** The high 32 bits of a stamped frame's send time. */
export function readSendTimeHi(bytes: Uint8Array, offset: number): number {
  const o = offset + SEND_TIME_OFFSET + 4;
  return (bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24)) >>> 0;
}

/** Why a frame failed verification (0 = it is a good test frame). */
export const FrameFault = {
  None: 0,
  TooShort: 1,
  NotIpv4: 2,
  BadIpChecksum: 3,
  LengthMismatch: 4,
  NotUdp: 5,
  BadPayload: 6,
} as const;
export type FrameFault = (typeof FrameFault)[keyof typeof FrameFault];

export const FRAME_FAULT_NAMES = [
  'ok',
  'too short',
  'not IPv4',
  'bad IP checksum',
  'length mismatch',
  'not UDP',
  'bad payload byte',
];

/**
 * Checks a received frame of `length` bytes at `offset`: headers, IP checksum, lengths and
 * every payload byte (of a stamped frame, every byte after the send time). The destination
 * MAC is not checked (ixy-fwd touches it).
 */
export function verifyFrame(bytes: Uint8Array, offset: number, length: number): FrameFault {
  const b = bytes;
  const o = offset;
  if (length < MIN_FRAME) return FrameFault.TooShort;
  if (b[o + 12] !== 0x08 || b[o + 13] !== 0x00 || b[o + ETH_HEADER] !== 0x45) return FrameFault.NotIpv4;
  if (ipChecksum(b, o + ETH_HEADER, IP_HEADER) !== 0) return FrameFault.BadIpChecksum;
  const ipLen = (b[o + ETH_HEADER + 2] << 8) | b[o + ETH_HEADER + 3];
  if (ipLen + ETH_HEADER !== length) return FrameFault.LengthMismatch;
  if (b[o + ETH_HEADER + 9] !== 17) return FrameFault.NotUdp;
  const udpLen = (b[o + ETH_HEADER + IP_HEADER + 4] << 8) | b[o + ETH_HEADER + IP_HEADER + 5];
  if (udpLen !== ipLen - IP_HEADER) return FrameFault.LengthMismatch;
  const from = hasSendTime(b, o) ? STAMPED_PATTERN_OFFSET : PATTERN_OFFSET;
  for (let i = from; i < length; i++) if (b[o + i] !== patternByte(i)) return FrameFault.BadPayload;
  return FrameFault.None;
}
