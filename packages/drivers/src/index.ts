export { DEFAULT_DRIVERS, DRIVER_KEYWORD, driverSpecifier, installedDriverPackages, loadDrivers } from './drivers.js';
