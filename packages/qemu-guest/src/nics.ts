/** Emulated NIC models the guest can have. */
export type NicModel = 'virtio-legacy' | 'virtio-modern' | 'e1000' | 'e1000e';

/** A NIC to put in the guest. A bare model name is a NicSpec with defaults. */
export interface NicSpec {
  model: NicModel;
  /** Extra QEMU -device properties, e.g. `{ iommu_platform: 'on' }` for modern virtio behind the IOMMU. */
  properties?: Readonly<Record<string, string>>;
  /**
   * Let the guest kernel's own driver (virtio_net, e1000, e1000e) bind this NIC. Default false:
   * driver_override is `none`, so the NIC has no driver and a test can take it directly.
   */
  kernelDriver?: boolean;
}

/** A NIC as the guest sees it; the guest gets this list as JSON (IXY_GUEST_NICS_FILE). */
export interface GuestNic {
  /** Position in the `nics` option. */
  index: number;
  model: NicModel;
  /** Guest PCI address, fixed: NIC i is at 0000:00:(0x10 + i).0. */
  address: string;
  vendorId: number;
  deviceId: number;
  /** 52:54:00:12:34:(0x50 + i) */
  mac: string;
  /** Index of the NIC wired back-to-back to this one (pairs 0-1, 2-3, ...), or null for an odd last NIC. */
  peer: number | null;
  /** The kernel driver allowed to bind it, or null (driver_override = none). */
  kernelDriver: string | null;
}

/** First PCI slot used for NICs; 9p shares sit at slots 4 and 5, q35's own devices at 0x1f. */
export const NIC_FIRST_SLOT = 0x10;
/** At most this many NICs (slots 0x10..0x1d). */
export const MAX_NICS = 14;

const MODELS: Record<NicModel, { device: string; vendorId: number; deviceId: number; driver: string }> = {
  'virtio-legacy': {
    device: 'virtio-net-pci,disable-modern=on,disable-legacy=off',
    vendorId: 0x1af4,
    deviceId: 0x1000,
    driver: 'virtio_net',
  },
  'virtio-modern': {
    device: 'virtio-net-pci,disable-legacy=on,disable-modern=off',
    vendorId: 0x1af4,
    deviceId: 0x1041,
    driver: 'virtio_net',
  },
  e1000: { device: 'e1000', vendorId: 0x8086, deviceId: 0x100e, driver: 'e1000' },
  e1000e: { device: 'e1000e', vendorId: 0x8086, deviceId: 0x10d3, driver: 'e1000e' },
};

const PROPERTY = /^[a-z][a-z0-9_.-]*$/i;
const VALUE = /^[a-z0-9_.:-]*$/i;

/** Normalises the `nics` option and lays the NICs out: addresses, MACs, pairs. */
export function layoutNics(nics: readonly (NicModel | NicSpec)[]): { specs: NicSpec[]; guest: GuestNic[] } {
  if (nics.length > MAX_NICS) throw new RangeError(`at most ${MAX_NICS} NICs, got ${nics.length}`);
  const specs = nics.map((n) => (typeof n === 'string' ? { model: n } : n));
  const guest = specs.map((spec, index): GuestNic => {
    const model = MODELS[spec.model];
    if (!model) throw new RangeError(`unknown NIC model '${String(spec.model)}' (${Object.keys(MODELS).join(', ')})`);
    for (const [k, v] of Object.entries(spec.properties ?? {})) {
      if (!PROPERTY.test(k) || !VALUE.test(v)) throw new RangeError(`bad -device property ${k}=${v}`);
    }
    const peer = index % 2 === 0 ? (index + 1 < specs.length ? index + 1 : null) : index - 1;
    return {
      index,
      model: spec.model,
      address: `0000:00:${(NIC_FIRST_SLOT + index).toString(16).padStart(2, '0')}.0`,
      vendorId: model.vendorId,
      deviceId: model.deviceId,
      mac: `52:54:00:12:34:${(0x50 + index).toString(16)}`,
      peer,
      kernelDriver: spec.kernelDriver ? model.driver : null,
    };
  });
  return { specs, guest };
}

/** QEMU arguments for the NICs: one hub per pair (`-netdev hubport`), nothing reaches the host network. */
export function nicArguments(specs: readonly NicSpec[], guest: readonly GuestNic[]): string[] {
  const args: string[] = [];
  for (const nic of guest) {
    const props = Object.entries(specs[nic.index].properties ?? {})
      .map(([k, v]) => `,${k}=${v}`)
      .join('');
    args.push('-netdev', `hubport,id=nic${nic.index},hubid=${Math.floor(nic.index / 2)}`);
    args.push(
      '-device',
      `${MODELS[nic.model].device},netdev=nic${nic.index},mac=${nic.mac},addr=0x${(NIC_FIRST_SLOT + nic.index).toString(16)},romfile=${props}`,
    );
  }
  return args;
}
