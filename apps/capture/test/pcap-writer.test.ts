import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFrame } from '@ixy/traffic';
import { PcapWriter } from '../src/pcap-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'ixy-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ParsedPacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}

/** Parses with an independent reader (the pcap-parser package). */
function parse(path: string): Promise<{ linkLayerType: number; packets: ParsedPacket[] }> {
  const pcapParser = createRequire(import.meta.url)('pcap-parser') as {
    parse(input: string): NodeJS.EventEmitter;
  };
  return new Promise((resolve, reject) => {
    const packets: ParsedPacket[] = [];
    let linkLayerType = -1;
    const p = pcapParser.parse(path);
    p.on('globalHeader', (h: { linkLayerType: number }) => (linkLayerType = h.linkLayerType));
    p.on('packet', (pkt: ParsedPacket) => packets.push(pkt));
    p.on('end', () => resolve({ linkLayerType, packets }));
    p.on('error', reject);
  });
}

describe('PcapWriter', () => {
  it('writes files that an independent pcap reader parses, byte for byte', async () => {
    const path = join(dir, 'a.pcap');
    const w = new PcapWriter(path);
    const frame = new Uint8Array(2000);
    const sizes = [60, 1514, 333];
    sizes.forEach((size, i) => {
      writeFrame(frame, 100, size);
      w.write(frame, 100, size, 1_700_000_000_000_000 + i * 1_500_000);
    });
    w.close();
    const { linkLayerType, packets } = await parse(path);
    expect(linkLayerType).toBe(1);
    expect(packets.map((p) => p.header.originalLength)).toEqual(sizes);
    expect(packets[1].header.timestampSeconds).toBe(1_700_000_001);
    expect(packets[1].header.timestampMicroseconds).toBe(500_000);
    writeFrame(frame, 0, 333);
    expect(Buffer.compare(packets[2].data, Buffer.from(frame.subarray(0, 333)))).toBe(0);
  });

  it('cuts frames at the snap length and buffers across flushes', async () => {
    const path = join(dir, 'b.pcap');
    const w = new PcapWriter(path, 100);
    const frame = new Uint8Array(1514);
    writeFrame(frame, 0, 1514);
    for (let i = 0; i < 10_000; i++) w.write(frame, 0, 1514, i);
    w.close();
    expect(readFileSync(path).length).toBe(24 + 10_000 * (16 + 100));
    const { packets } = await parse(path);
    expect(packets).toHaveLength(10_000);
    expect(packets[9999].header.capturedLength).toBe(100);
    expect(packets[9999].header.originalLength).toBe(1514);
  });
});
