import { asAcquisition, type Acquisition } from './acquisition.js';
import { CapacityQueue } from './capacity-queue.js';
import { ColdAcquires, type AcquireOptions, type Waiter } from './cold-acquire.js';
import { KeyLockedError, LeaseRevokedError, PoolClosedError, StartError } from './errors.js';
import { lockKey, unlockKey } from './key-lock.js';
import {
  alias,
  doom,
  doomError,
  idleCount,
  leastRecentlyUsedIdle,
  ready,
  revoke,
  signalOf,
  starting,
  stopping,
  unalias,
  whenGone,
  type Doomed,
  type Ready,
  type Slot,
  type Starting,
  type Stopping,
} from './key-state.js';
import { Lease, leakMessage, type LeaseOwner } from './lease.js';
import { fillOptions, type FilledOptions, type LeasePoolOptions, type StopReason } from './options.js';
import { gauges, type LeasePoolStats } from './stats.js';
import { stopResource } from './stop-resource.js';

const RESOLVED = Promise.resolve();

/**
 * Keyed, reference-counted leases on resources that start on first use and stop when unused.
 * Concurrent acquires of a key share one `start`; the last release stops the resource at once or
 * after `idleTimeoutMs`. A hot acquire (the key's resource is up) is a map lookup: no filesystem,
 * no lock.
 *
 * This class ties together each key's state (key-state.ts), the cold acquires and their shared
 * normalization (cold-acquire.ts) and the capacity queue (capacity-queue.ts).
 *
 * @example
 * const pool = new LeasePool({ start: (key) => openServer(key), stop: (s) => s.close() });
 * await using lease = await pool.acquire('./tenant-a.db');
 * lease.resource; // shared by every lease on that path
 */
export class LeasePool<R> implements AsyncDisposable, LeaseOwner {
  readonly #options: FilledOptions<R>;
  readonly #slots = new Map<string, Slot<R>>();
  // Raw key -> ready slot: the hot path, filled only once a key has been normalized.
  readonly #hot = new Map<unknown, Slot<R>>();
  readonly #cold: ColdAcquires;
  readonly #queue: CapacityQueue;
  readonly #captureStacks: boolean;
  #closing: Promise<void> | undefined;
  #stoppingCount = 0;
  #tick = 0;
  #started = 0;
  #stopped = 0;
  #failedStarts = 0;
  #lost = 0;
  #leaked = 0;

  constructor(options: LeasePoolOptions<R>) {
    this.#options = fillOptions(options);
    // Off by default: a captured stack costs ~3-10 µs, many times the rest of a hot acquire.
    this.#captureStacks = options.captureStacks ?? process.env['LEASEHOLD_TRACE_LEASES'] === '1';
    this.#cold = new ColdAcquires(
      { route: (waiter, key) => this.#route(waiter, key), leave: (waiter, reason) => this.#leave(waiter, reason) },
      this.#options.normalizeKey,
    );
    this.#queue = new CapacityQueue({
      maxResources: this.#options.maxResources,
      slots: () => this.#slots.size,
      stopping: () => this.#stoppingCount,
      place: (waiter, key) => {
        const slot = this.#slots.get(key);
        return slot === undefined ? undefined : this.#offer(slot, waiter) === undefined;
      },
      start: (key, waiter) => this.#start(key, waiter),
      evictIdle: () => this.#evictIdle(),
    });
  }

  /**
   * Leases the resource of `key`, starting it if nobody holds it. The result is a promise that is
   * also `AsyncDisposable`, so `await using lease = pool.acquire(key)` releases it once acquired.
   */
  acquire(key: unknown, options?: AcquireOptions): Acquisition<R> {
    const trace = this.#captureStacks ? this.#trace() : undefined;
    const slot = this.#hot.get(key);
    // Only ready slots are in the hot map.
    if (slot !== undefined && (options === undefined || options.signal?.aborted !== true)) return asAcquisition(Promise.resolve(this.#lease(slot, slot.state as Ready<R>, trace)));
    if (this.#closing !== undefined) return asAcquisition(Promise.reject(new PoolClosedError()));
    return asAcquisition(this.#cold.wait<R>(key, options, trace));
  }

  /** Stops the resource of `key` now, whoever leases it; their signals abort. Resolves after the stop. */
  async evict(key: unknown): Promise<void> {
    const slot = this.#slots.get(await this.#options.normalizeKey(key));
    if (slot === undefined) return;
    const { state } = slot.state;
    if (state === 'ready') return this.#stop(slot, 'evict');
    if (state !== 'stopping') this.#doom(slot, 'evict', undefined);
    return whenGone(slot);
  }

  /**
   * Refuses new acquires, rejects waiting ones with `PoolClosedError`, aborts every lease's signal and
   * stops everything. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  /** Same as `close()`, for `await using pool = new LeasePool(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Keys whose resource is starting or up. */
  keys(): string[] {
    const keys: string[] = [];
    for (const slot of this.#slots.values()) if (slot.state.state !== 'stopping') keys.push(slot.key);
    return keys;
  }

  /** A snapshot of the pool's gauges and counters. */
  stats(): LeasePoolStats {
    return {
      ...gauges(this.#slots.values()),
      waiting: this.#cold.size,
      started: this.#started,
      stopped: this.#stopped,
      failedStarts: this.#failedStarts,
      lost: this.#lost,
      leaked: this.#leaked,
    };
  }

  /** @internal */
  releaseLease(slot: object): Promise<void> {
    return this.#drop(slot as Slot<R>);
  }

  /** @internal the signal of a lease on this slot, made on first read */
  leaseSignal(slot: object): AbortSignal {
    return signalOf(slot as Slot<R>);
  }

  /** @internal called when a lease was garbage-collected unreleased */
  leaseLeaked(slot: object, key: string, trace: Error | undefined): void {
    const leased = slot as Slot<R>;
    // A lease whose resource is already gone held nothing; only one that kept a resource up leaked.
    if (leased.state.state !== 'ready') {
      leased.leases--;
      return;
    }
    this.#leaked++;
    process.emitWarning(leakMessage(key, trace), { code: 'LEASEHOLD_LEASE_LEAKED' });
    void this.#drop(leased);
  }

  #drop(slot: Slot<R>): Promise<void> {
    const current = slot.state;
    if (--slot.leases > 0 || current.state !== 'ready') return RESOLVED;
    const { idleTimeoutMs } = this.#options;
    if (idleTimeoutMs === 0) return this.#stop(slot, 'idle');
    // No re-check when it fires: every way out of idle (a lease, a stop) clears it.
    if (idleTimeoutMs !== Infinity) current.idleTimer = setTimeout(() => void this.#stop(slot, 'idle'), idleTimeoutMs).unref();
    // Past maxIdle, the least recently used idle resources stop now (this one too, if it is the oldest).
    for (let idle = idleCount(this.#slots.values()); idle > this.#options.maxIdle; idle--) void this.#stop(leastRecentlyUsedIdle(this.#slots.values())!, 'capacity');
    // An idle resource is evictable: a cold acquire waiting for capacity takes its slot now.
    this.#queue.pump();
    return RESOLVED;
  }

  #trace(): Error {
    const trace = new Error('the lease was acquired here');
    Error.captureStackTrace(trace, this.acquire);
    return trace;
  }

  #lease(slot: Slot<R>, current: Ready<R>, trace: Error | undefined): Lease<R> {
    slot.leases++;
    current.lastUsed = ++this.#tick;
    if (current.idleTimer !== undefined) {
      clearTimeout(current.idleTimer);
      current.idleTimer = undefined;
    }
    return new Lease<R>(this, slot, slot.key, current.resource, trace);
  }

  /** Sends a waiter whose key is known where it belongs: a lease, a start, the wait for a stop, or the capacity queue. */
  #route(waiter: Waiter, key: string): void {
    waiter.key = key;
    const slot = this.#slots.get(key);
    if (slot === undefined) {
      if (this.#slots.size < this.#options.maxResources) this.#start(key, waiter);
      else this.#queue.push(waiter);
      return;
    }
    const going = this.#offer(slot, waiter);
    // Never two resources for one key: wait for this one to go, then start afresh.
    if (going !== undefined) (going.after ??= []).push(waiter);
  }

  /** A lease on a ready slot, or a place among a start's waiters; else the going slot's state. */
  #offer(slot: Slot<R>, waiter: Waiter): Doomed | Stopping | undefined {
    const current = slot.state;
    if (current.state === 'ready') this.#grant(slot, current, waiter);
    else if (current.state === 'starting') {
      waiter.at = slot;
      current.waiters.add(waiter);
    } else return current;
    return undefined;
  }

  #grant(slot: Slot<R>, current: Ready<R>, waiter: Waiter): void {
    alias(this.#hot, slot, current, waiter.raw);
    this.#cold.settle(waiter, this.#lease(slot, current, waiter.trace), undefined);
  }

  /** A waiter leaves on its own (its signal or its timeout): it rejects at once, wherever it waits. */
  #leave(waiter: Waiter, reason: unknown): void {
    const slot = waiter.at as Slot<R> | undefined;
    this.#cold.settle(waiter, undefined, reason);
    if (slot === undefined) return;
    // A waiter is at a slot only while its start runs; settling it cleared `at`.
    const { waiters } = slot.state as Starting | Doomed;
    waiters.delete(waiter);
    // When every waiter has left, nobody wants this start any more (a doomed one keeps its reason).
    if (waiters.size === 0) this.#doom(slot, 'abandoned', undefined);
  }

  #start(key: string, first: Waiter): void {
    const slot = starting<R>(key, first);
    this.#slots.set(key, slot);
    void this.#runStart(slot);
  }

  async #runStart(slot: Slot<R>): Promise<void> {
    const { key } = slot;
    const { lock } = this.#options;
    let resource: R;
    try {
      if (lock !== undefined && (lock.appliesTo?.(key) ?? true)) slot.unlock = await lockKey(key, lock, (error) => this.#onLost(slot, error));
      if (slot.revoked !== undefined) throw slot.revoked.reason;
      // The start's signal (and its AbortController) is made only if `start` reads it.
      const context = {
        get signal(): AbortSignal {
          return signalOf(slot);
        },
        lost: (reason?: unknown) => this.#onLost(slot, reason),
      };
      // Called now, but a synchronous throw becomes a rejection, handled like any failed start.
      resource = await new Promise<R>((resolve) => resolve(this.#options.start(key, context)));
    } catch (error) {
      this.#failedStarts++;
      const current = slot.state as Starting | Doomed;
      const failure = current.state === 'doomed' ? doomError(key, current) : error instanceof KeyLockedError ? error : new StartError(key, error);
      // Doomed until it has gone (after the unlock): a late acquire waits for it and starts afresh
      // instead of joining a start that has already failed.
      this.#cold.rejectEach(doom(slot, 'abandoned', error).waiters, failure);
      await unlockKey(slot.unlock, this.#options, key, 'abandoned');
      this.#remove(slot);
      return;
    }
    this.#started++;
    const current = slot.state as Starting | Doomed;
    if (current.state === 'doomed') {
      this.#cold.rejectEach(current.waiters, doomError(key, current));
      if (current.reason === 'lost') this.#lost++;
      stopping(slot, current.after);
      this.#stoppingCount++;
      await this.#runStop(slot, resource, current.reason);
      return;
    }
    const up = ready(slot, resource);
    for (const waiter of current.waiters) this.#grant(slot, up, waiter);
  }

  /** Stops the least recently used idle resource for a waiter at capacity; false when none is idle. */
  #evictIdle(): boolean {
    const victim = leastRecentlyUsedIdle(this.#slots.values());
    if (victim === undefined) return false;
    void this.#stop(victim, 'capacity');
    return true;
  }

  /** A start nobody will use: its resource stops as soon as it arrives, and the slot's signal aborts. */
  #doom(slot: Slot<R>, reason: StopReason, cause: unknown): void {
    const doomed = doom(slot, reason, cause);
    if (reason === 'close') this.#cold.rejectEach(doomed.waiters, new PoolClosedError());
    revoke(slot, cause ?? new LeaseRevokedError(slot.key, reason === 'abandoned' ? 'evict' : (reason as 'evict' | 'close' | 'lost')));
  }

  #onLost(slot: Slot<R>, reason: unknown): void {
    const { state } = slot.state;
    if (state === 'starting') this.#doom(slot, 'lost', reason ?? new Error('lost while starting'));
    else if (state === 'ready') {
      this.#lost++;
      void this.#stop(slot, 'lost', reason);
    }
  }

  /** ready → stopping: its raw keys leave the hot path, its leases' signals abort for evict, close and lost. */
  #stop(slot: Slot<R>, reason: StopReason, cause?: unknown): Promise<void> {
    // Every caller has found the slot ready.
    const current = slot.state as Ready<R>;
    stopping(slot, undefined);
    this.#stoppingCount++;
    clearTimeout(current.idleTimer);
    unalias(this.#hot, slot, current);
    if (reason === 'evict' || reason === 'close' || reason === 'lost') revoke(slot, new LeaseRevokedError(slot.key, reason, cause));
    return this.#runStop(slot, current.resource, reason);
  }

  async #runStop(slot: Slot<R>, resource: R, reason: StopReason): Promise<void> {
    await stopResource(this.#options, resource, slot.key, reason);
    this.#stopped++;
    await unlockKey(slot.unlock, this.#options, slot.key, reason);
    // Counted until the slot is free: a waiter at capacity counts on it until then.
    this.#stoppingCount--;
    this.#remove(slot);
  }

  /** The slot is gone (stopped, or its start failed): it is free, and whoever waited for it goes again. */
  #remove(slot: Slot<R>): void {
    this.#slots.delete(slot.key);
    slot.settled?.resolve();
    // The queue first (FIFO), then the acquires that waited for this very slot to go.
    this.#queue.pump();
    const { after } = slot.state as Doomed | Stopping;
    if (after !== undefined) for (const waiter of after) if (!waiter.done) this.#route(waiter, waiter.key!);
  }

  async #close(): Promise<void> {
    // Doom starts before waiters are rejected, so their leaving does not read as 'abandoned'.
    const gone = Array.from(this.#slots.values(), (slot) => {
      const { state } = slot.state;
      if (state === 'ready') void this.#stop(slot, 'close');
      else if (state !== 'stopping') this.#doom(slot, 'close', undefined);
      return whenGone(slot);
    });
    // Queued ones too; the queue skips them when it next moves (on the stops' ends).
    this.#cold.rejectAll(() => new PoolClosedError());
    await Promise.all(gone);
  }
}
