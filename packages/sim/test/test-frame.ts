/** Frame `seq` of the cable tests: 60..1514 bytes, contents derived from seq. */
export function testFrame(seq: number): Uint8Array {
  const len = 60 + ((seq * 31) % 1455);
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (seq * 131 + i * 7) & 0xff;
  new DataView(f.buffer).setUint32(0, seq, true);
  return f;
}
