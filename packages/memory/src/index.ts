export { native, isNativeError, type NativeMemory, type NativeError } from './native.js';
export {
  HugepageAllocator,
  HugepageRegion,
  HUGEPAGE_SIZE,
  allocHugepageBuffer,
  hugepageCounts,
  hugetlbfsMount,
} from './hugepages.js';
export { SimulatedMemory, SimulatedRegion, simulatedMemory } from './simulated.js';
export {
  Mempool,
  POOL_SHIFT,
  INDEX_MASK,
  MAX_POOL_ENTRIES,
  BUFFER_FREE,
  BUFFER_APP,
  BUFFER_DRIVER,
  type MempoolOptions,
} from './mempool.js';
export { mapSharedFile, unmapBuffer } from './shared-file.js';
export { futexWake, waitForWakeups } from './wait.js';
