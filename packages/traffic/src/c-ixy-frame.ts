import { ETH_HEADER, FrameFault, IP_HEADER, ipChecksum } from './frame.js';

/**
 * The frame C ixy's ixy-pktgen sends (emmericp/ixy, src/app/ixy-pktgen.c), byte for byte, so a
 * test bed can mix C ixy and ixy-ts: 60 bytes without CRC; 01:02:03:04:05:06 ←
 * 11:12:13:14:15:16, IPv4 (total length 46, TTL 64, valid header checksum), UDP 10.0.0.1:42 →
 * 10.0.0.2:1337 (length 26, no checksum), payload "ixy" and zeros, and the sequence number as
 * a little-endian 32-bit word in the last 4 bytes.
 */
export const C_IXY_FRAME_SIZE = 60;
/** Where C ixy-pktgen stamps its 32-bit sequence number: the last 4 bytes. */
export const C_IXY_SEQ_OFFSET = C_IXY_FRAME_SIZE - 4;
const PAYLOAD = ETH_HEADER + IP_HEADER + 8;

const TEMPLATE = [
  0x01,
  0x02,
  0x03,
  0x04,
  0x05,
  0x06, // dst MAC
  0x11,
  0x12,
  0x13,
  0x14,
  0x15,
  0x16, // src MAC
  0x08,
  0x00, // IPv4
  0x45,
  0x00,
  0x00,
  C_IXY_FRAME_SIZE - ETH_HEADER, // version/IHL, TOS, total length
  0x00,
  0x00,
  0x00,
  0x00, // id, flags, fragment offset
  0x40,
  0x11,
  0x00,
  0x00, // TTL 64, UDP, checksum (filled in)
  10,
  0,
  0,
  1, // src IP
  10,
  0,
  0,
  2, // dst IP
  0x00,
  0x2a,
  0x05,
  0x39, // ports 42 -> 1337
  0x00,
  C_IXY_FRAME_SIZE - ETH_HEADER - IP_HEADER, // UDP length
  0x00,
  0x00, // no UDP checksum
  0x69,
  0x78,
  0x79, // "ixy"
];

/** Writes C ixy-pktgen's frame at `offset` (sequence number 0). */
export function writeCIxyFrame(bytes: Uint8Array, offset: number): void {
  bytes.fill(0, offset, offset + C_IXY_FRAME_SIZE);
  bytes.set(TEMPLATE, offset);
  const sum = ipChecksum(bytes, offset + ETH_HEADER, IP_HEADER);
  bytes[offset + 24] = sum >>> 8;
  bytes[offset + 25] = sum & 0xff;
}

/** Stamps the 32-bit sequence number (wraps at 2^32, as C's uint32_t does). */
export function writeCIxySeq(bytes: Uint8Array, offset: number, seq: number): void {
  const o = offset + C_IXY_SEQ_OFFSET;
  const v = seq >>> 0;
  bytes[o] = v & 0xff;
  bytes[o + 1] = (v >>> 8) & 0xff;
  bytes[o + 2] = (v >>> 16) & 0xff;
  bytes[o + 3] = v >>> 24;
}

export function readCIxySeq(bytes: Uint8Array, offset: number): number {
  const o = offset + C_IXY_SEQ_OFFSET;
  return (bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24)) >>> 0;
}

/**
 * Checks a received frame as C ixy-pktgen's: every byte but the destination MAC (ixy-fwd
 * touches it) and the sequence number, and the IP checksum.
 */
export function verifyCIxyFrame(bytes: Uint8Array, offset: number, length: number): FrameFault {
  const b = bytes;
  const o = offset;
  if (length !== C_IXY_FRAME_SIZE) return length < C_IXY_FRAME_SIZE ? FrameFault.TooShort : FrameFault.LengthMismatch;
  if (b[o + 12] !== 0x08 || b[o + 13] !== 0x00 || b[o + ETH_HEADER] !== 0x45) return FrameFault.NotIpv4;
  if (ipChecksum(b, o + ETH_HEADER, IP_HEADER) !== 0) return FrameFault.BadIpChecksum;
  if (b[o + ETH_HEADER + 9] !== 0x11) return FrameFault.NotUdp;
  for (let i = 6; i < PAYLOAD + 3; i++) {
    if (i === 24 || i === 25) continue; // the checksum, checked above
    if (b[o + i] !== TEMPLATE[i])
      return i < ETH_HEADER + 4 || (i >= 38 && i < 40) ? FrameFault.LengthMismatch : FrameFault.BadPayload;
  }
  for (let i = PAYLOAD + 3; i < C_IXY_SEQ_OFFSET; i++) if (b[o + i] !== 0) return FrameFault.BadPayload;
  return FrameFault.None;
}
