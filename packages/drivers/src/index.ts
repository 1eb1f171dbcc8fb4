export { DEFAULT_DRIVERS, driverSpecifier, loadDrivers } from './drivers.js';
