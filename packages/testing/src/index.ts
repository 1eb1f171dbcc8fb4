export {
  conformanceCases,
  describeIxyDevice,
  runIxyDeviceConformance,
  type ConformanceCase,
  type ConformanceCaseId,
  type ConformanceOptions,
  type ConformanceTarget,
  type SuiteRunner,
} from './conformance.js';
export { RecordingRegisters } from './recording-registers.js';
