import { FEATURE_NAMES } from './constants.js';
/**
 * A set of virtio feature bits (0..63, §2.2 Feature Bits) as two 32-bit words, so no BigInt
 * is needed. Immutable: the operations return new sets.
 */
export class FeatureSet {
    lo;
    hi;
    /** Bits 0..31 and 32..63. */
    constructor(lo, hi) {
        this.lo = lo;
        this.hi = hi;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
    }
    static of(...bits) {
        let lo = 0;
        let hi = 0;
        for (const bit of bits) {
            if (!Number.isInteger(bit) || bit < 0 || bit > 63)
                throw new RangeError(`feature bit ${bit} is not in 0..63`);
            if (bit < 32)
                lo |= 1 << bit;
            else
                hi |= 1 << (bit - 32);
        }
        return new FeatureSet(lo, hi);
    }
    has(bit) {
        return bit < 32 ? ((this.lo >>> bit) & 1) === 1 : ((this.hi >>> (bit - 32)) & 1) === 1;
    }
    and(other) {
        return new FeatureSet(this.lo & other.lo, this.hi & other.hi);
    }
    without(other) {
        return new FeatureSet(this.lo & ~other.lo, this.hi & ~other.hi);
    }
    get empty() {
        return this.lo === 0 && this.hi === 0;
    }
    /** The bits, lowest first. */
    bits() {
        const out = [];
        for (let bit = 0; bit < 64; bit++)
            if (this.has(bit))
                out.push(bit);
        return out;
    }
    /** `MAC STATUS CTRL_VQ bit30` for messages. */
    toString() {
        return this.bits()
            .map((b) => FEATURE_NAMES[b] ?? `bit${b}`)
            .join(' ');
    }
}
//# sourceMappingURL=features.js.map