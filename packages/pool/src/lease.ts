/** What a lease needs from its pool; internal. */
export interface LeaseOwner {
  releaseLease(slot: object): Promise<void>;
  leaseSignal(slot: object): AbortSignal;
  leaseLeaked(slot: object, key: string, trace: Error | undefined): void;
}

interface LeakRecord {
  readonly owner: LeaseOwner;
  readonly slot: object;
  readonly key: string;
  readonly trace: Error | undefined;
}

const registry = new FinalizationRegistry<LeakRecord>(({ owner, slot, key, trace }) => owner.leaseLeaked(slot, key, trace));

// Leases are registered for leak detection one macrotask after they are taken: a lease released
// before then (most of them) never pays for the registry. Until then this array keeps it alive; a
// lease released while it is still the newest one pending (acquire, use, release) leaves it at once,
// so the common loop keeps the array empty and its leases die young.
const pending: Lease<unknown>[] = [];
const kFlushAt = 1024;
let flushScheduled = false;

function flushPending(): void {
  flushScheduled = false;
  for (const lease of pending.splice(0)) lease[kTrack]();
}

const kTrack = Symbol('track');

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
  #owner: LeaseOwner;
  #slot: object;
  #trace: Error | undefined;
  #tracked = false;
  #released: Promise<void> | undefined;

  /** @internal leases come from `LeasePool.acquire` */
  constructor(owner: LeaseOwner, slot: object, key: string, resource: R, trace: Error | undefined) {
    this.#owner = owner;
    this.#slot = slot;
    this.key = key;
    this.resource = resource;
    this.#trace = trace;
    if (pending.push(this as Lease<unknown>) >= kFlushAt) flushPending();
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushPending).unref();
    }
  }

  /** Aborted (with a `LeaseRevokedError`) when the resource is lost, evicted, or the pool closes. Made on first read. */
  get signal(): AbortSignal {
    return this.#owner.leaseSignal(this.#slot);
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
    if (this.#released !== undefined) return this.#released;
    if (this.#tracked) registry.unregister(this);
    else if (pending[pending.length - 1] === this) pending.pop();
    return (this.#released = this.#owner.releaseLease(this.#slot));
  }

  /** Same as `release()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  /** @internal */
  [kTrack](): void {
    if (this.#released !== undefined) return;
    this.#tracked = true;
    registry.register(this, { owner: this.#owner, slot: this.#slot, key: this.key, trace: this.#trace }, this);
  }
}

/** The leak warning text for a lease that was garbage-collected unreleased. */
export function leakMessage(key: string, trace: Error | undefined): string {
  // The stack is formatted only now: reading it at acquire time would cost ~10 µs per lease.
  const stack = trace?.stack;
  const where = stack === undefined ? 'Set captureStacks: true (or LEASEHOLD_TRACE_LEASES=1) to see where it was acquired.' : `Acquired at:\n${stack}`;
  return `leasehold: a lease on ${key} was garbage-collected without release(); it is released now. ${where}`;
}
