/** Base class of every error the pool throws; `name` is the subclass's name. */
export class LeasePoolError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The pool is closed: no new acquires, and waiting ones are rejected with this. */
export class PoolClosedError extends LeasePoolError {
  constructor() {
    super('the lease pool is closed; create a new pool to acquire again');
  }
}

/** An acquire did not get its lease within its `timeoutMs`. */
export class AcquireTimeoutError extends LeasePoolError {
  readonly key: unknown;
  readonly timeoutMs: number;
  constructor(key: unknown, timeoutMs: number) {
    super(`acquire of ${String(key)} timed out after ${timeoutMs} ms; raise timeoutMs or free capacity`);
    this.key = key;
    this.timeoutMs = timeoutMs;
  }
}

/** The factory's `start` failed (or the resource was lost or evicted while starting); `cause` says why. */
export class StartError extends LeasePoolError {
  readonly key: string;
  constructor(key: string, cause: unknown) {
    super(`starting ${key} failed: ${describe(cause)}`, { cause });
    this.key = key;
  }
}

/** A key that cannot name a resource: empty, not a string, containing NUL, or under a missing directory. */
export class InvalidKeyError extends LeasePoolError {
  readonly key: unknown;
  constructor(key: unknown, problem: string, options?: ErrorOptions) {
    super(`invalid key ${JSON.stringify(typeof key === 'string' ? key : String(key))}: ${problem}`, options);
    this.key = key;
  }
}

/**
 * Another process holds this key (the pool's `lock` option, or an adapter's own lock). `options.fix`
 * replaces the default advice ("stop the other process or use another path") where the adapter knows better.
 */
export class KeyLockedError extends LeasePoolError {
  readonly key: string;
  constructor(key: string, detail = 'another process holds its lock', options?: ErrorOptions & { readonly fix?: string }) {
    super(`${key} is in use: ${detail}; ${options?.fix ?? 'stop the other process or use another path'}`, options);
    this.key = key;
  }
}

/** The abort reason of a lease's `signal`: its resource went away (`reason` says how). */
export class LeaseRevokedError extends LeasePoolError {
  readonly key: string;
  readonly reason: 'evict' | 'close' | 'lost';
  constructor(key: string, reason: 'evict' | 'close' | 'lost', cause?: unknown) {
    super(`the resource of ${key} is gone (${reason})${cause === undefined ? '' : `: ${describe(cause)}`}`, cause === undefined ? undefined : { cause });
    this.key = key;
    this.reason = reason;
  }
}

/** A `stop` that did not finish within `stopTimeoutMs`; reported, never thrown at a caller. */
export class StopTimeoutError extends LeasePoolError {
  readonly key: string;
  constructor(key: string, timeoutMs: number) {
    super(`stopping ${key} took longer than ${timeoutMs} ms; it was given up on`);
    this.key = key;
  }
}

export function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
