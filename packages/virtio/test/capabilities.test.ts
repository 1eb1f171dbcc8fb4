import { describe, expect, it } from 'vitest';
import {
  findVirtioCaps,
  listVirtioCaps,
  msixEnabled,
  VIRTIO_PCI_CAP_COMMON_CFG,
  VIRTIO_PCI_CAP_DEVICE_CFG,
  VIRTIO_PCI_CAP_ISR_CFG,
  VIRTIO_PCI_CAP_NOTIFY_CFG,
  VIRTIO_PCI_CAP_PCI_CFG,
  type ConfigReader,
} from '../src/capabilities.js';

/** A 256-byte config space with a capability list, built like QEMU's virtio-net-pci. */
class FakeConfig {
  readonly bytes = new Uint8Array(256);
  private last = -1;

  constructor(withCaps = true) {
    if (withCaps) this.bytes[0x06] = 0x10; // status: capability list
  }

  /** Appends a capability at `at` (links the previous one to it). */
  cap(at: number, body: number[]): this {
    if (this.last < 0) this.bytes[0x34] = at;
    else this.bytes[this.last + 1] = at;
    this.bytes.set(body, at);
    this.bytes[at + 1] = 0;
    this.last = at;
    return this;
  }

  virtio(at: number, cfgType: number, bar: number, offset: number, length: number, multiplier?: number): this {
    const len = multiplier === undefined ? 16 : 20;
    const b = [0x09, 0, len, cfgType, bar, 0, 0, 0, ...le32(offset), ...le32(length)];
    if (multiplier !== undefined) b.push(...le32(multiplier));
    return this.cap(at, b);
  }

  read: ConfigReader = (offset, width) => {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + this.bytes[offset + i];
    return v;
  };
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** QEMU's modern virtio-net-pci: MSI-X at 0x98, vendor caps 0x84..0x40 pointing into BAR 4. */
function qemuModern(): FakeConfig {
  return new FakeConfig()
    .cap(0x98, [0x11, 0, 0x02, 0x00, 0x01, 0, 0, 0, 0x01, 0x08, 0, 0]) // MSI-X, 3 vectors, disabled
    .virtio(0x84, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0)
    .virtio(0x70, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000, 4)
    .virtio(0x60, VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 0x1000)
    .virtio(0x50, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000)
    .virtio(0x40, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0000, 0x1000);
}

describe('virtio PCI capabilities (§4.1.4)', () => {
  it('finds the common, notify, ISR and device structures with their BAR and offsets', () => {
    const caps = findVirtioCaps(qemuModern().read);
    expect(caps).toEqual({
      common: { cfgType: 1, bar: 4, offset: 0, length: 0x1000, capOffset: 0x40 },
      notify: { cfgType: 2, bar: 4, offset: 0x3000, length: 0x1000, capOffset: 0x70, notifyOffMultiplier: 4 },
      isr: { cfgType: 3, bar: 4, offset: 0x1000, length: 0x1000, capOffset: 0x50 },
      device: { cfgType: 4, bar: 4, offset: 0x2000, length: 0x1000, capOffset: 0x60 },
    });
  });

  it('lists vendor capabilities only, in list order', () => {
    const types = listVirtioCaps(qemuModern().read).map((c) => c.cfgType);
    expect(types).toEqual([5, 2, 4, 3, 1]);
  });

  it('uses the first capability of each type', () => {
    const cfg = new FakeConfig()
      .virtio(0x40, VIRTIO_PCI_CAP_COMMON_CFG, 2, 0x100, 0x40)
      .virtio(0x54, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0, 0x1000)
      .virtio(0x68, VIRTIO_PCI_CAP_NOTIFY_CFG, 2, 0x200, 0x100, 0);
    const caps = findVirtioCaps(cfg.read);
    expect(caps?.common.bar).toBe(2);
    expect(caps?.notify.notifyOffMultiplier).toBe(0);
    expect(caps?.isr).toBeUndefined();
    expect(caps?.device).toBeUndefined();
  });

  it('ignores capabilities with a reserved BAR number and short notify capabilities', () => {
    const cfg = new FakeConfig()
      .virtio(0x40, VIRTIO_PCI_CAP_COMMON_CFG, 6, 0, 0x1000)
      .virtio(0x54, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000); // 16 bytes: no multiplier
    expect(listVirtioCaps(cfg.read).map((c) => c.cfgType)).toEqual([2]);
    expect(findVirtioCaps(cfg.read)).toBeUndefined();
  });

  it('says "legacy only" (undefined) for a device without virtio capabilities', () => {
    const legacy = new FakeConfig().cap(0x40, [0x11, 0, 0x02, 0x00, 1, 0, 0, 0, 1, 8, 0, 0]);
    expect(findVirtioCaps(legacy.read)).toBeUndefined();
    expect(findVirtioCaps(new FakeConfig(false).read)).toBeUndefined();
  });

  it('stops on a looping or out-of-range list', () => {
    const loop = new FakeConfig().virtio(0x40, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
    loop.bytes[0x41] = 0x40; // points at itself
    expect(listVirtioCaps(loop.read)).toHaveLength(1);
    const wild = new FakeConfig();
    wild.bytes[0x34] = 0x10; // inside the standard header: invalid
    expect(listVirtioCaps(wild.read)).toEqual([]);
  });

  it('reads the MSI-X enable bit (it moves the legacy device config)', () => {
    const cfg = qemuModern();
    expect(msixEnabled(cfg.read)).toBe(false);
    cfg.bytes[0x98 + 3] |= 0x80; // Message Control bit 15
    expect(msixEnabled(cfg.read)).toBe(true);
    expect(msixEnabled(new FakeConfig(false).read)).toBe(false);
  });
});
