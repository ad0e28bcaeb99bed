export { LeasePool } from './lease-pool.js';
export type { Acquisition } from './acquisition.js';
export type { LeasePoolStats } from './stats.js';
export type { AcquireOptions } from './cold-acquire.js';
export { Lease } from './lease.js';
export {
  LeasePoolError,
  PoolClosedError,
  AcquireTimeoutError,
  StartError,
  InvalidKeyError,
  KeyLockedError,
  LeaseRevokedError,
  StopTimeoutError,
} from './errors.js';
export { normalizePathKey } from './normalize-key.js';
export type { LeasePoolOptions, LockOptions, StartContext, StopContext, StopReason } from './options.js';
