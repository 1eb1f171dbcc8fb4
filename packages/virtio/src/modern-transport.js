import { IxyError } from '@ixy/core';
import { FeatureSet } from './features.js';
// struct virtio_pci_common_cfg (§4.1.4.3 Common configuration structure layout).
const DEVICE_FEATURE_SELECT = 0x00; // le32
const DEVICE_FEATURE = 0x04; // le32, read-only
const DRIVER_FEATURE_SELECT = 0x08; // le32
const DRIVER_FEATURE = 0x0c; // le32
const NUM_QUEUES = 0x12; // le16, read-only
const DEVICE_STATUS = 0x14; // u8
const CONFIG_GENERATION = 0x15; // u8, read-only
const QUEUE_SELECT = 0x16; // le16
const QUEUE_SIZE = 0x18; // le16: the maximum on reading, until the driver writes a smaller one
const QUEUE_ENABLE = 0x1c; // le16
const QUEUE_NOTIFY_OFF = 0x1e; // le16, read-only
const QUEUE_DESC = 0x20; // le64, written as two le32 halves (§4.1.3.1)
const QUEUE_DRIVER = 0x28; // le64: the available ring
const QUEUE_DEVICE = 0x30; // le64: the used ring
/** Bytes of the common structure up to and including queue_device. */
const COMMON_CFG_MIN_LENGTH = 0x38;
const RESET_POLLS = 100_000;
/**
 * The modern (virtio 1.x) interface: common configuration, notification and device-specific
 * structures found through vendor capabilities (§4.1.4), in memory BARs.
 */
export class ModernTransport {
    caps;
    kind = 'modern';
    usedAlign = 4;
    common;
    commonBase;
    notifyRegs;
    notifyBase;
    deviceRegs;
    deviceBase;
    /** Byte offset in the notify BAR of each queue's notification address. */
    notifyAt = [];
    /** @param bar maps a BAR as registers (once per BAR: the caller caches). */
    constructor(caps, bar) {
        this.caps = caps;
        if (caps.common.length < COMMON_CFG_MIN_LENGTH) {
            throw new IxyError('ECAPS', `virtio common configuration is ${caps.common.length} bytes, expected at least ${COMMON_CFG_MIN_LENGTH}`);
        }
        this.common = bar(caps.common.bar);
        this.commonBase = caps.common.offset;
        this.notifyRegs = bar(caps.notify.bar);
        this.notifyBase = caps.notify.offset;
        this.deviceRegs = caps.device ? bar(caps.device.bar) : undefined;
        this.deviceBase = caps.device?.offset ?? 0;
        for (const [what, cap, regs] of [
            ['common', caps.common, this.common],
            ['notify', caps.notify, this.notifyRegs],
            ['device', caps.device, this.deviceRegs],
        ]) {
            if (cap && regs && cap.offset + cap.length > regs.size) {
                throw new IxyError('ECAPS', `virtio ${what} structure (BAR ${cap.bar} + 0x${cap.offset.toString(16)}, ${cap.length} bytes) lies outside its ${regs.size}-byte BAR`);
            }
        }
    }
    /** Number of queues the device has (§4.1.4.3 num_queues). */
    numQueues() {
        return this.common.read16(this.commonBase + NUM_QUEUES);
    }
    reset() {
        this.common.write8(this.commonBase + DEVICE_STATUS, 0);
        // §4.1.4.3.2: after writing 0, wait until device_status reads 0 again.
        for (let i = 0; i < RESET_POLLS; i++)
            if (this.common.read8(this.commonBase + DEVICE_STATUS) === 0)
                return;
        throw new IxyError('ERESET', 'the virtio device did not come out of reset (status never read back 0)');
    }
    status() {
        return this.common.read8(this.commonBase + DEVICE_STATUS);
    }
    setStatus(status) {
        this.common.write8(this.commonBase + DEVICE_STATUS, status);
    }
    deviceFeatures() {
        const c = this.common;
        const b = this.commonBase;
        c.write32(b + DEVICE_FEATURE_SELECT, 0);
        const lo = c.read32(b + DEVICE_FEATURE);
        c.write32(b + DEVICE_FEATURE_SELECT, 1);
        const hi = c.read32(b + DEVICE_FEATURE);
        return new FeatureSet(lo, hi);
    }
    setDriverFeatures(features) {
        const c = this.common;
        const b = this.commonBase;
        c.write32(b + DRIVER_FEATURE_SELECT, 0);
        c.write32(b + DRIVER_FEATURE, features.lo);
        c.write32(b + DRIVER_FEATURE_SELECT, 1);
        c.write32(b + DRIVER_FEATURE, features.hi);
    }
    queueMaxSize(index) {
        if (index >= this.numQueues())
            return 0;
        this.common.write16(this.commonBase + QUEUE_SELECT, index);
        return this.common.read16(this.commonBase + QUEUE_SIZE);
    }
    /** §4.1.5.1.3 Virtqueue Configuration. */
    setupQueue(vq) {
        const c = this.common;
        const b = this.commonBase;
        const max = this.queueMaxSize(vq.index);
        if (max === 0)
            throw new IxyError('ENOQUEUE', `the device has no queue ${vq.index}`);
        if (vq.size > max)
            throw new IxyError('EQUEUESIZE', `queue ${vq.index} takes at most ${max} entries, not ${vq.size}`);
        c.write16(b + QUEUE_SIZE, vq.size);
        const write64 = (at, addr) => {
            c.write32(b + at, addr >>> 0);
            c.write32(b + at + 4, (addr / 0x1_0000_0000) >>> 0);
        };
        write64(QUEUE_DESC, vq.descAddr);
        write64(QUEUE_DRIVER, vq.availAddr);
        write64(QUEUE_DEVICE, vq.usedAddr);
        // §4.1.4.4: the queue's notification address is cap.offset + queue_notify_off * multiplier.
        const at = this.notifyBase + c.read16(b + QUEUE_NOTIFY_OFF) * this.caps.notify.notifyOffMultiplier;
        if (at + 2 > this.notifyBase + this.caps.notify.length) {
            throw new IxyError('ECAPS', `notification address of queue ${vq.index} lies outside the notification structure`);
        }
        this.notifyAt[vq.index] = at;
        c.write16(b + QUEUE_ENABLE, 1);
    }
    notify(index) {
        this.notifyRegs.write16(this.notifyAt[index], index);
    }
    device(offset, width) {
        if (!this.deviceRegs || !this.caps.device || offset + width > this.caps.device.length) {
            throw new IxyError('ENOCONFIG', `the device has no config field at ${offset} (${width} bytes)`);
        }
        return this.deviceBase + offset;
    }
    readConfig8(offset) {
        return this.deviceRegs.read8(this.device(offset, 1));
    }
    readConfig16(offset) {
        return this.deviceRegs.read16(this.device(offset, 2));
    }
    readConfig32(offset) {
        return this.deviceRegs.read32(this.device(offset, 4));
    }
    writeConfig8(offset, value) {
        this.deviceRegs.write8(this.device(offset, 1), value);
    }
    configGeneration() {
        return this.common.read8(this.commonBase + CONFIG_GENERATION);
    }
}
//# sourceMappingURL=modern-transport.js.map