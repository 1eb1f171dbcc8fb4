import { describe, expect, it } from 'vitest';
import {
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_RING_EVENT_IDX,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_SPEED_DUPLEX,
  VIRTIO_NET_F_STATUS,
} from '../src/constants.js';
import { FeatureSet } from '../src/features.js';
import { negotiateFeatures } from '../src/open.js';

describe('FeatureSet', () => {
  it('holds bits 0..63 in two words without BigInt', () => {
    const f = FeatureSet.of(0, 31, 32, 63);
    expect(f.lo).toBe(0x80000001);
    expect(f.hi).toBe(0x80000001);
    expect(f.has(31) && f.has(32) && f.has(63) && !f.has(1)).toBe(true);
    expect(f.bits()).toEqual([0, 31, 32, 63]);
    expect(f.toString()).toBe('CSUM bit31 VERSION_1 SPEED_DUPLEX');
    expect(() => FeatureSet.of(64)).toThrow(RangeError);
  });

  it('intersects and subtracts', () => {
    const a = FeatureSet.of(1, 5, 40);
    const b = FeatureSet.of(5, 40, 41);
    expect(a.and(b).bits()).toEqual([5, 40]);
    expect(a.without(b).bits()).toEqual([1]);
    expect(a.without(a).empty).toBe(true);
  });
});

// What QEMU 7.2's virtio-net offers without a tap backend (no checksum offloads), plus bits
// the driver must leave alone.
const QEMU_LEGACY = FeatureSet.of(
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_RING_EVENT_IDX,
);

describe('feature negotiation (§2.2, §5.1.3)', () => {
  it('legacy: takes what it uses from what is offered, ANY_LAYOUT included', () => {
    const f = negotiateFeatures('legacy', QEMU_LEGACY);
    expect(f.toString()).toBe('MAC STATUS CTRL_VQ CTRL_RX CTRL_MAC_ADDR ANY_LAYOUT');
    expect(f.hi).toBe(0);
  });

  it('modern: needs VERSION_1, accepts ACCESS_PLATFORM and SPEED_DUPLEX when offered', () => {
    const offered = FeatureSet.of(
      ...QEMU_LEGACY.bits(),
      VIRTIO_F_VERSION_1,
      VIRTIO_F_ACCESS_PLATFORM,
      VIRTIO_NET_F_SPEED_DUPLEX,
    );
    const f = negotiateFeatures('modern', offered);
    expect(f.toString()).toBe('MAC STATUS CTRL_VQ CTRL_RX CTRL_MAC_ADDR VERSION_1 ACCESS_PLATFORM SPEED_DUPLEX');
    expect(() => negotiateFeatures('modern', QEMU_LEGACY)).toThrow(/does not offer VERSION_1/);
  });

  it('never asks for a feature the device does not offer, nor for offloads or mergeable buffers', () => {
    const offered = FeatureSet.of(
      VIRTIO_NET_F_CSUM,
      VIRTIO_NET_F_GUEST_CSUM,
      VIRTIO_NET_F_MRG_RXBUF,
      VIRTIO_F_ANY_LAYOUT,
    );
    expect(negotiateFeatures('legacy', offered).toString()).toBe('ANY_LAYOUT');
  });

  it('drops the control-queue features without CTRL_VQ', () => {
    const offered = FeatureSet.of(
      VIRTIO_NET_F_MAC,
      VIRTIO_NET_F_CTRL_RX,
      VIRTIO_NET_F_CTRL_MAC_ADDR,
      VIRTIO_F_ANY_LAYOUT,
    );
    expect(negotiateFeatures('legacy', offered).toString()).toBe('MAC ANY_LAYOUT');
  });

  it('legacy without ANY_LAYOUT is refused with a clear error', () => {
    expect(() => negotiateFeatures('legacy', FeatureSet.of(VIRTIO_NET_F_MAC))).toThrow(/does not offer ANY_LAYOUT/);
  });
});
