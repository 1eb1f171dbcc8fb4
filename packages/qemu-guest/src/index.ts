export {
  runInGuest,
  readGuestResult,
  qemuArguments,
  repoRoot,
  defaultCacheDir,
  GuestError,
  type GuestOptions,
  type GuestResult,
} from './run.js';
export {
  layoutNics,
  nicArguments,
  NIC_FIRST_SLOT,
  MAX_NICS,
  type NicModel,
  type NicSpec,
  type GuestNic,
} from './nics.js';
export {
  checkPrerequisites,
  ensurePrerequisites,
  installPrerequisites,
  whyCannotInstall,
  findGuestKernel,
  isStaticElf,
  PrerequisitesError,
  DEBIAN_PACKAGES,
  type Prerequisites,
  type PrerequisiteLocations,
  type GuestKernel,
} from './prerequisites.js';
export {
  buildInitramfs,
  cpioNewc,
  ModuleGraph,
  BASE_MODULES,
  EXTRA_MODULES,
  type InitramfsOptions,
} from './initramfs.js';
export { assertBuilt } from './build-check.js';
