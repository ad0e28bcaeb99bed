/** What a lease needs from its pool; internal. */
export interface LeaseOwner {
  releaseLease(lease: Lease<unknown>, slot: object): Promise<void>;
}

const kNoStack = '(acquiring stack not captured: set captureStacks)';

/**
 * One holder's share of a running resource. Release it exactly when done (idempotent), or let
 * `await using` do it. Its `signal` aborts when the resource goes away underneath it.
 *
 * @example
 * await using lease = await pool.acquire('./tenant-a.db');
 * await query(lease.resource, { signal: lease.signal });
 */
export class Lease<R> implements AsyncDisposable {
  /** The normalized key (absolute, symlinks resolved). */
  readonly key: string;
  /** What `start` returned; shared by every lease on this key. */
  readonly resource: R;
  /** Aborted (with a `LeaseRevokedError`) when the resource is lost, evicted, or the pool closes. */
  readonly signal: AbortSignal;
  /** @internal where the lease was taken, for the leak warning */
  readonly stack: string | undefined;
  #owner: LeaseOwner;
  #slot: object;
  #released: Promise<void> | undefined;

  /** @internal leases come from `LeasePool.acquire` */
  constructor(owner: LeaseOwner, slot: object, key: string, resource: R, signal: AbortSignal, stack: string | undefined) {
    this.#owner = owner;
    this.#slot = slot;
    this.key = key;
    this.resource = resource;
    this.signal = signal;
    this.stack = stack;
  }

  /** Whether `release()` has been called. */
  get released(): boolean {
    return this.#released !== undefined;
  }

  /**
   * Gives the lease back. The last release stops the resource (with idleTimeoutMs 0 this resolves
   * after the stop) or arms the idle timer. Never rejects; calling it again returns the same promise.
   */
  release(): Promise<void> {
    return (this.#released ??= this.#owner.releaseLease(this as Lease<unknown>, this.#slot));
  }

  /** Same as `release()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

/** The leak warning text for a lease that was garbage-collected unreleased. */
export function leakMessage(key: string, stack: string | undefined): string {
  return `leasehold: a lease on ${key} was garbage-collected without release(); its resource was kept up until now. Acquired at:\n${stack ?? kNoStack}`;
}
