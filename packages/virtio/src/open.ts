import {
  InvalidOptionError,
  IxyError,
  type DeviceAccess,
  type DmaRegion,
  type OpenOptions,
  type Registers,
} from '@ixy/core';
import { Mempool } from '@ixy/memory';
import { findVirtioCaps, msixEnabled } from './capabilities.js';
import {
  CTRL_QUEUE,
  NET_HDR_LEN_LEGACY,
  NET_HDR_LEN_MODERN,
  RX_MSIX_VECTOR,
  RX_QUEUE,
  STATUS_ACKNOWLEDGE,
  STATUS_DEVICE_NEEDS_RESET,
  STATUS_DRIVER,
  STATUS_DRIVER_OK,
  STATUS_FAILED,
  STATUS_FEATURES_OK,
  TX_QUEUE,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_VERSION_1,
  VIRTIO_MSI_NO_VECTOR,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_SPEED_DUPLEX,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_MODERN_DEVICE_ID,
} from './constants.js';
import { CTRL_BUFFER_BYTES, ControlQueue } from './control-queue.js';
import { VirtioNetDevice } from './device.js';
import { FeatureSet } from './features.js';
import { LEGACY_CONFIG_OFFSET, LEGACY_CONFIG_OFFSET_MSIX, LegacyTransport } from './legacy-transport.js';
import { ModernTransport } from './modern-transport.js';
import type { VirtioTransport } from './transport.js';
import { Virtqueue } from './virtqueue.js';
import { isPowerOfTwo, packBlocks, virtqueueLayout, withinOneChunk } from './virtqueue-layout.js';
import { hasMsix } from './wakeup.js';

/** Options of the virtio driver: core's OpenOptions plus the interface choice. */
export interface VirtioOptions extends OpenOptions {
  /**
   * Which interface of a transitional device (1af4:1000) to drive: 'modern' when it has the
   * virtio 1.x capabilities, else 'legacy' (default 'auto'). 1af4:1041 is modern only.
   */
  virtioInterface?: 'auto' | 'legacy' | 'modern';
  /** Turn promiscuous mode on at start, as ixy does (default true; needs CTRL_RX). */
  promisc?: boolean;
  /** Milliseconds to wait for the device to answer a control command (default 2000). */
  controlTimeoutMs?: number;
}

/** The driver's own options, beyond core's OpenOptions (for openDevice's check of names). */
export const VIRTIO_OPTION_NAMES = ['virtioInterface', 'promisc', 'controlTimeoutMs'] as const;

/** Default descriptors per ring: the device's queue size, at most this. */
export const DEFAULT_RING_SIZE = 512;
/** Bytes per packet buffer in the receive mempool (data after the 128-byte headroom: 1920). */
export const RX_ENTRY_SIZE = 2048;
/** Physically contiguous span the rings are packed into (a 2 MiB hugepage). */
const RING_CHUNK = 2 * 1024 * 1024;
/** Control queue entries used: one command (3 descriptors) at a time. */
const CTRL_RING_SIZE = 16;

/**
 * Features this driver can use (§5.1.3): it never asks for one the device does not offer.
 * No checksum or segmentation offloads and no MRG_RXBUF: every frame fits one buffer.
 */
function wantedFeatures(kind: 'legacy' | 'modern'): FeatureSet {
  const common = [
    VIRTIO_NET_F_MAC,
    VIRTIO_NET_F_STATUS,
    VIRTIO_NET_F_CTRL_VQ,
    VIRTIO_NET_F_CTRL_RX,
    VIRTIO_NET_F_CTRL_MAC_ADDR,
  ];
  return kind === 'legacy'
    ? FeatureSet.of(...common, VIRTIO_F_ANY_LAYOUT)
    : FeatureSet.of(...common, VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM, VIRTIO_NET_F_SPEED_DUPLEX);
}

/** Features the driver cannot work without. */
function requiredFeatures(kind: 'legacy' | 'modern'): FeatureSet {
  // Legacy: the header shares the packet's descriptor (§2.7.4 Message Framing).
  return kind === 'legacy' ? FeatureSet.of(VIRTIO_F_ANY_LAYOUT) : FeatureSet.of(VIRTIO_F_VERSION_1);
}

/** The features to ask for, from what the device offers (exported for tests). */
export function negotiateFeatures(kind: 'legacy' | 'modern', offered: FeatureSet): FeatureSet {
  const missing = requiredFeatures(kind).without(offered);
  if (!missing.empty) {
    throw new IxyError(
      'EFEATURES',
      `the ${kind} virtio device does not offer ${missing.toString()}, which this driver needs (it offers: ${offered.empty ? 'nothing' : offered.toString()})`,
      kind === 'modern' ? undefined : 'try the modern interface (virtioInterface: "modern") if the device has one',
    );
  }
  let chosen = offered.and(wantedFeatures(kind));
  // CTRL_RX and CTRL_MAC_ADDR work through the control queue (§5.1.3.1 Feature bit requirements).
  if (!chosen.has(VIRTIO_NET_F_CTRL_VQ))
    chosen = chosen.without(FeatureSet.of(VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_MAC_ADDR));
  return chosen;
}

function checkOptions(options: VirtioOptions): void {
  for (const key of ['rxQueues', 'txQueues'] as const) {
    const n = options[key];
    if (n !== undefined && n !== 1) {
      throw new InvalidOptionError(
        `the virtio driver supports exactly 1 ${key === 'rxQueues' ? 'RX' : 'TX'} queue, not ${n}`,
        `leave ${key} out or set it to 1 (multiqueue virtio-net, VIRTIO_NET_F_MQ, is not implemented)`,
      );
    }
  }
  const { ringSize, poolSize } = options;
  if (ringSize !== undefined && (!isPowerOfTwo(ringSize) || ringSize > 32768)) {
    throw new InvalidOptionError(`ringSize must be a power of two up to the device's queue size, got ${ringSize}`);
  }
  if (poolSize !== undefined && (!Number.isInteger(poolSize) || poolSize < 1)) {
    throw new InvalidOptionError(`poolSize must be a positive integer, got ${poolSize}`);
  }
  const iface = options.virtioInterface;
  if (iface !== undefined && iface !== 'auto' && iface !== 'legacy' && iface !== 'modern') {
    throw new InvalidOptionError(`virtioInterface must be 'auto', 'legacy' or 'modern', got ${String(iface)}`);
  }
}

/** Picks and builds the transport (legacy I/O BAR0 or modern capabilities). */
function createTransport(access: DeviceAccess, choice: 'auto' | 'legacy' | 'modern'): VirtioTransport {
  const read = (offset: number, width: 1 | 2 | 4): number => access.readConfig(offset, width);
  const caps = findVirtioCaps(read);
  const modernOnly = access.identity.deviceId === VIRTIO_NET_MODERN_DEVICE_ID;
  if (choice === 'legacy' && modernOnly) {
    throw new IxyError(
      'EINTERFACE',
      `${access.identity.address} is a modern-only virtio device (1af4:1041): it has no legacy interface`,
    );
  }
  if (choice === 'modern' || modernOnly || (choice === 'auto' && caps)) {
    if (!caps) {
      throw new IxyError(
        'EINTERFACE',
        `${access.identity.address} has no virtio 1.x capabilities in its config space: it offers only the legacy interface`,
        'use virtioInterface: "legacy" (or "auto")',
      );
    }
    const bars = new Map<number, Registers>();
    return new ModernTransport(caps, (bar) => {
      let regs = bars.get(bar);
      if (!regs) {
        regs = access.registers(bar);
        bars.set(bar, regs);
      }
      return regs;
    });
  }
  return new LegacyTransport(access.registers(0), msixEnabled(read) ? LEGACY_CONFIG_OFFSET_MSIX : LEGACY_CONFIG_OFFSET);
}

/**
 * The receive queue's interrupt: an eventfd for MSI-X vector 0 when the device is modern and
 * reached through VFIO (the only way a user-space process receives a device's interrupts),
 * else the reason there is none. Never fails the open: without it the device is polled.
 */
function rxInterrupt(access: DeviceAccess, t: VirtioTransport): { eventfd?: number; reason?: string } {
  if (t.kind === 'legacy') {
    return { reason: 'legacy virtio: no interrupts (this driver maps MSI-X vectors on the modern interface only)' };
  }
  if (!hasMsix(access)) {
    return { reason: 'no interrupts without VFIO: bind the device to vfio-pci (with the IOMMU on) for MSI-X wake-ups' };
  }
  try {
    return { eventfd: access.enableMsix(1)[0] };
  } catch (err) {
    return { reason: `no interrupts: MSI-X through VFIO failed (${(err as Error).message})` };
  }
}

/**
 * Opens a virtio-net device: takes it from the kernel, resets it and walks the status
 * handshake (§3.1.1 Driver Requirements: Device Initialization): ACKNOWLEDGE, DRIVER, feature
 * negotiation, FEATURES_OK (modern, read back), queue setup, DRIVER_OK. On any failure the
 * device is marked FAILED and everything allocated is released.
 */
export function openVirtio(access: DeviceAccess, options: VirtioOptions = {}): VirtioNetDevice {
  checkOptions(options);
  access.claim();
  let transport: VirtioTransport | undefined;
  let rings: DmaRegion | undefined;
  let rxPool: Mempool | undefined;
  try {
    transport = createTransport(access, options.virtioInterface ?? 'auto');
    const t = transport;
    t.reset();
    t.setStatus(STATUS_ACKNOWLEDGE);
    t.setStatus(STATUS_ACKNOWLEDGE | STATUS_DRIVER);

    const offered = t.deviceFeatures();
    const features = negotiateFeatures(t.kind, offered);
    t.setDriverFeatures(features);
    if (t.kind === 'modern') {
      t.setStatus(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
      if ((t.status() & STATUS_FEATURES_OK) === 0) {
        throw new IxyError(
          'EFEATURES',
          `the device did not accept the features ${features.toString()} (FEATURES_OK did not stick)`,
        );
      }
    }

    // Queue sizes: a legacy queue has the device's size; a modern one the size we choose.
    const rxMax = t.queueMaxSize(RX_QUEUE);
    const txMax = t.queueMaxSize(TX_QUEUE);
    if (rxMax === 0 || txMax === 0) throw new IxyError('ENOQUEUE', 'the device has no receive or transmit queue 0/1');
    const hasCtrl = features.has(VIRTIO_NET_F_CTRL_VQ);
    const ctrlMax = hasCtrl ? t.queueMaxSize(CTRL_QUEUE) : 0;
    if (hasCtrl && ctrlMax < 4)
      throw new IxyError('ENOQUEUE', `the device offers CTRL_VQ but its control queue has ${ctrlMax} entries`);
    const maxRing = Math.min(rxMax, txMax);
    const ringSize = options.ringSize ?? Math.min(maxRing, DEFAULT_RING_SIZE);
    if (ringSize > maxRing) {
      throw new InvalidOptionError(
        `ringSize ${ringSize} is larger than the device's queues (rx ${rxMax}, tx ${txMax} entries)`,
        `use a power of two up to ${maxRing}`,
      );
    }
    const legacy = t.kind === 'legacy';
    const sizes = {
      rx: legacy ? rxMax : ringSize,
      tx: legacy ? txMax : ringSize,
      ctrl: legacy ? ctrlMax : Math.min(ctrlMax, CTRL_RING_SIZE),
    };
    const rxLayout = virtqueueLayout(sizes.rx, t.usedAlign);
    const txLayout = virtqueueLayout(sizes.tx, t.usedAlign);
    const ctrlLayout = hasCtrl ? virtqueueLayout(sizes.ctrl, t.usedAlign) : undefined;
    const blocks = [rxLayout.bytes, txLayout.bytes, CTRL_BUFFER_BYTES];
    if (ctrlLayout) blocks.push(ctrlLayout.bytes);
    const packed = packBlocks(blocks, RING_CHUNK);
    rings = access.dma.allocate(packed.total);
    const chunk = rings.contiguousChunk;
    for (let i = 0; i < blocks.length; i++) {
      if (!withinOneChunk(packed.offsets[i], blocks[i], chunk)) {
        throw new IxyError(
          'ENOTCONTIG',
          `virtqueue memory would span two physically contiguous chunks of ${chunk} bytes`,
        );
      }
    }
    const rx = new Virtqueue(RX_QUEUE, rings, packed.offsets[0], rxLayout, ringSize);
    const tx = new Virtqueue(TX_QUEUE, rings, packed.offsets[1], txLayout, ringSize);
    const ctrlVq = ctrlLayout ? new Virtqueue(CTRL_QUEUE, rings, packed.offsets[3], ctrlLayout) : undefined;
    // Interrupts (§4.1.5.1.2): MSI-X on (VFIO) before vectors are mapped; configuration
    // changes raise none (link state is read when asked); the receive queue raises vector 0,
    // mapped while it is selected and before it is enabled (setupQueue). TX and control
    // queues raise none. Notifications stay suppressed until a poller arms the wake-up.
    const irq = rxInterrupt(access, t);
    if (irq.eventfd !== undefined) t.setConfigVector(VIRTIO_MSI_NO_VECTOR);
    const rxVector = t.setupQueue(rx, irq.eventfd !== undefined ? RX_MSIX_VECTOR : VIRTIO_MSI_NO_VECTOR);
    if (irq.eventfd !== undefined && rxVector !== RX_MSIX_VECTOR) {
      irq.reason = `no interrupts: the device refused MSI-X vector ${RX_MSIX_VECTOR} for the receive queue (read back 0x${rxVector.toString(16)})`;
      irq.eventfd = undefined;
      if (hasMsix(access)) access.disableMsix?.();
    }
    t.setupQueue(tx);
    if (ctrlVq) t.setupQueue(ctrlVq);

    rxPool = new Mempool({
      allocator: access.dma,
      entries: options.poolSize ?? Math.max(1024, 4 * ringSize),
      entrySize: RX_ENTRY_SIZE,
      safe: options.safe === true,
    });

    const statusOk = STATUS_ACKNOWLEDGE | STATUS_DRIVER | (legacy ? 0 : STATUS_FEATURES_OK);
    t.setStatus(statusOk | STATUS_DRIVER_OK);
    const status = t.status();
    if (status & (STATUS_DEVICE_NEEDS_RESET | STATUS_FAILED) || (status & STATUS_DRIVER_OK) === 0) {
      throw new IxyError('EDEVICE', `the device did not accept DRIVER_OK (status 0x${status.toString(16)})`);
    }

    const ctrl = ctrlVq ? new ControlQueue(ctrlVq, t, rings, packed.offsets[2], options.controlTimeoutMs) : undefined;
    const device = new VirtioNetDevice({
      access,
      transport: t,
      features,
      hdrLen: legacy ? NET_HDR_LEN_LEGACY : NET_HDR_LEN_MODERN,
      rx,
      tx,
      ctrl,
      rxPool,
      rings,
      rxEventfd: irq.eventfd,
      noInterruptReason: irq.reason,
    });
    device.refillRx();
    // Always say which: devices differ in their default (QEMU's is promiscuous).
    if (features.has(VIRTIO_NET_F_CTRL_RX)) device.setPromisc(options.promisc !== false);
    return device;
  } catch (err) {
    try {
      if (transport) {
        // Tell the device we gave up, then reset it so it stops using memory we free below.
        transport.setStatus(transport.status() | STATUS_FAILED);
        transport.reset();
      }
    } catch {
      // the device is unreachable: nothing more to tell it
    }
    rxPool?.close();
    rings?.free();
    access.release();
    throw err;
  }
}
