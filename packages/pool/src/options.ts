import { normalizePathKey } from './normalize-key.js';

/** Why a resource is being stopped. */
export type StopReason = 'idle' | 'capacity' | 'evict' | 'close' | 'lost' | 'abandoned';

/** What `start` gets besides the key. */
export interface StartContext {
  /** Aborted when nobody waits for this start any more (abandoned, evicted, pool closed). */
  readonly signal: AbortSignal;
  /** Call when the resource dies on its own: leases' signals abort and the next acquire starts afresh. */
  readonly lost: (reason?: unknown) => void;
}

/** What `stop` gets besides the resource. */
export interface StopContext {
  readonly key: string;
  readonly reason: StopReason;
}

/** Cross-process exclusivity per key, with proper-lockfile. */
export interface LockOptions {
  /** Where the lock lives; default `<key>.lock`. */
  readonly lockfilePath?: (key: string) => string;
  /** A lock whose holder stopped refreshing it for this long is taken over (ms, ≥ 2000). Default 10000. */
  readonly staleMs?: number;
  /** How often the holder refreshes its lock (ms); default staleMs / 2. */
  readonly updateMs?: number;
  /** Which keys take the lock; default all. An adapter leaves out keys that are not files (remote URIs). */
  readonly appliesTo?: (key: string) => boolean;
}

/** Options of `new LeasePool(options)`. */
export interface LeasePoolOptions<R> {
  /** Starts the resource of a key; called once per cold key, shared by every waiter. */
  readonly start: (key: string, context: StartContext) => Promise<R> | R;
  /** Stops a resource; its errors are reported through `onError`, never thrown at `release()`. */
  readonly stop?: (resource: R, context: StopContext) => Promise<void> | void;
  /** How long an unleased resource stays up: 0 stops at the last release, `Infinity` never. Default 0. */
  readonly idleTimeoutMs?: number;
  /** At most this many resources at once; a cold acquire beyond it evicts the LRU idle one or waits. */
  readonly maxResources?: number;
  /**
   * At most this many idle resources (up, no lease) wait out `idleTimeoutMs`: a release that leaves
   * one more stops the least recently used idle one at once (reason `'capacity'`). Default `Infinity`.
   */
  readonly maxIdle?: number;
  /** A `stop` that runs longer than this is reported as `StopTimeoutError` and given up on. Default 30000. */
  readonly stopTimeoutMs?: number;
  /** Maps what callers pass to the identity of a resource. Default: `normalizePathKey`. */
  readonly normalizeKey?: (key: unknown) => Promise<string> | string;
  /** Cross-process exclusivity per key with proper-lockfile (off by default). */
  readonly lock?: boolean | LockOptions;
  /**
   * Record where each lease is acquired, for the leak warning. Costs a few µs per acquire, so it is
   * off unless set here or by `LEASEHOLD_TRACE_LEASES=1`.
   */
  readonly captureStacks?: boolean;
  /** Receives errors that have no caller to go to: failed or hung stops, lock release failures. */
  readonly onError?: (error: unknown, context: StopContext) => void;
}

export interface FilledOptions<R> {
  readonly start: LeasePoolOptions<R>['start'];
  readonly stop: NonNullable<LeasePoolOptions<R>['stop']> | undefined;
  readonly idleTimeoutMs: number;
  readonly maxResources: number;
  readonly maxIdle: number;
  readonly stopTimeoutMs: number;
  readonly normalizeKey: NonNullable<LeasePoolOptions<R>['normalizeKey']>;
  readonly lock: Required<Pick<LockOptions, 'staleMs'>> & LockOptions | undefined;
  readonly onError: NonNullable<LeasePoolOptions<R>['onError']>;
}

const kDefaults = Object.freeze({
  idleTimeoutMs: 0,
  maxResources: Infinity,
  maxIdle: Infinity,
  stopTimeoutMs: 30_000,
  staleMs: 10_000,
});

function reportStopError(error: unknown, { key, reason }: StopContext): void {
  process.emitWarning(`leasehold: stopping ${key} (${reason}) failed: ${error instanceof Error ? error.message : String(error)}`, {
    code: 'LEASEHOLD_STOP_FAILED',
  });
}

function nonNegative(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${name} must be a number, got ${String(value)}`);
  if (value < 0) throw new RangeError(`${name} must be ≥ 0, got ${value}`);
  return value;
}

// Node's timers hold at most 2^31 - 1 ms (~24.8 days); a longer delay fires after 1 ms with only a warning.
const kMaxTimerMs = 2 ** 31 - 1;

/** A delay that a timer will wait out: a number ≥ 0, at most kMaxTimerMs, or Infinity (never). */
function timerMs(name: string, value: unknown, fallback: number): number {
  const ms = nonNegative(name, value, fallback);
  if (ms > kMaxTimerMs && ms !== Infinity) throw new RangeError(`${name} must be at most ${kMaxTimerMs} ms (Node's timer limit, ~24.8 days) or Infinity, got ${ms}`);
  return ms;
}

function optionalFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`${name} must be a function, got ${typeof value}`);
}

/** Merges options with the defaults once, validating each; throws TypeError/RangeError naming the option. */
export function fillOptions<R>(options: LeasePoolOptions<R>): FilledOptions<R> {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object, got ${String(options)}`);
  if (typeof options.start !== 'function') throw new TypeError(`start must be a function, got ${typeof options.start}`);
  optionalFunction('stop', options.stop);
  optionalFunction('normalizeKey', options.normalizeKey);
  optionalFunction('onError', options.onError);
  const maxResources = options.maxResources ?? kDefaults.maxResources;
  if (typeof maxResources !== 'number' || !(maxResources >= 1) || (Number.isFinite(maxResources) && !Number.isInteger(maxResources))) {
    throw new RangeError(`maxResources must be an integer ≥ 1 or Infinity, got ${String(maxResources)}`);
  }
  const maxIdle = options.maxIdle ?? kDefaults.maxIdle;
  if (typeof maxIdle !== 'number' || !(maxIdle >= 0) || (Number.isFinite(maxIdle) && !Number.isInteger(maxIdle))) {
    throw new RangeError(`maxIdle must be an integer ≥ 0 or Infinity, got ${String(maxIdle)}`);
  }
  let lock: FilledOptions<R>['lock'];
  if (options.lock !== undefined && options.lock !== false) {
    const given: LockOptions = options.lock === true ? {} : options.lock;
    if (given === null || typeof given !== 'object') throw new TypeError(`lock must be a boolean or an object, got ${String(options.lock)}`);
    const staleMs = nonNegative('lock.staleMs', given.staleMs, kDefaults.staleMs);
    if (staleMs < 2000) throw new RangeError(`lock.staleMs must be ≥ 2000, got ${staleMs}`);
    optionalFunction('lock.lockfilePath', given.lockfilePath);
    optionalFunction('lock.appliesTo', given.appliesTo);
    lock = { ...given, staleMs, updateMs: nonNegative('lock.updateMs', given.updateMs, staleMs / 2) };
  }
  return Object.freeze({
    start: options.start,
    stop: options.stop,
    idleTimeoutMs: timerMs('idleTimeoutMs', options.idleTimeoutMs, kDefaults.idleTimeoutMs),
    maxResources,
    maxIdle,
    stopTimeoutMs: timerMs('stopTimeoutMs', options.stopTimeoutMs, kDefaults.stopTimeoutMs),
    normalizeKey: options.normalizeKey ?? normalizePathKey,
    lock,
    onError: options.onError ?? reportStopError,
  });
}
