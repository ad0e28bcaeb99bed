import { setMaxListeners } from 'node:events';
import {
  AcquireTimeoutError,
  KeyLockedError,
  LeaseRevokedError,
  PoolClosedError,
  StartError,
  StopTimeoutError,
} from './errors.js';
import { lockKey, type Unlock } from './key-lock.js';
import { Lease, leakMessage, type LeaseOwner } from './lease.js';
import { fillOptions, type FilledOptions, type LeasePoolOptions, type StopReason } from './options.js';

/** Options of one `acquire`. */
export interface AcquireOptions {
  /** Aborting it rejects this acquire at once with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Rejects with `AcquireTimeoutError` if the lease is not held by then. */
  readonly timeoutMs?: number;
}

/** What `acquire` returns: a promise of the lease that is itself `AsyncDisposable`. */
export type Acquisition<R> = Promise<Lease<R>> & AsyncDisposable;

/** Counters and gauges of a pool; see `LeasePool.stats()`. */
export interface LeasePoolStats {
  /** Resources up or going down (ready + stopping). */
  readonly resources: number;
  readonly starting: number;
  /** Leases held now. */
  readonly leases: number;
  /** Ready resources that nobody leases. */
  readonly idle: number;
  /** Acquires waiting for a start, a stop or capacity. */
  readonly waiting: number;
  readonly started: number;
  readonly stopped: number;
  readonly failedStarts: number;
  readonly lost: number;
  readonly leaked: number;
}

interface Waiter {
  readonly raw: unknown;
  readonly trace: Error | undefined;
  readonly resolve: (lease: Lease<never>) => void;
  readonly reject: (error: unknown) => void;
}

// Per-key state. A 'starting' entry with `doom` set will stop its resource as soon as it arrives.
interface Entry<R> {
  readonly key: string;
  state: 'starting' | 'ready' | 'stopping';
  resource: R | undefined;
  leases: number;
  lastUsed: number;
  readonly controller: AbortController;
  readonly waiters: Set<Waiter>;
  readonly aliases: Set<unknown>;
  idleTimer: NodeJS.Timeout | undefined;
  doom: { reason: StopReason; cause?: unknown } | undefined;
  unlock: Unlock | undefined;
  stopping: Promise<void> | undefined;
  readonly settled: Promise<void>;
  resolveSettled: () => void;
}

const RESOLVED = Promise.resolve();

async function disposeAcquisition(this: Promise<Lease<unknown>>): Promise<void> {
  let lease: Lease<unknown>;
  try {
    lease = await this;
  } catch {
    return; // the caller saw this rejection when it awaited the acquisition
  }
  await lease.release();
}

function asAcquisition<R>(promise: Promise<Lease<R>>): Acquisition<R> {
  const acquisition = promise as Acquisition<R>;
  acquisition[Symbol.asyncDispose] = disposeAcquisition;
  return acquisition;
}

/**
 * Keyed, reference-counted leases on resources that start on first use and stop when unused.
 * Concurrent acquires of a key share one `start`; the last release stops the resource at once or
 * after `idleTimeoutMs`. A hot acquire (the key's resource is up) is a map lookup: no filesystem,
 * no lock.
 *
 * @example
 * const pool = new LeasePool({ start: (key) => openServer(key), stop: (s) => s.close() });
 * await using lease = await pool.acquire('./tenant-a.db');
 * lease.resource; // shared by every lease on that path
 */
export class LeasePool<R> implements AsyncDisposable, LeaseOwner {
  readonly #options: FilledOptions<R>;
  readonly #entries = new Map<string, Entry<R>>();
  // Raw key -> ready entry: the hot path, filled only once a key has been normalized.
  readonly #hot = new Map<unknown, Entry<R>>();
  readonly #capacityQueue: Array<() => void> = [];
  readonly #closeController = new AbortController();
  // Concurrent cold acquires of one raw key share one normalization (realpath) instead of a herd of them.
  readonly #normalizing = new Map<unknown, Promise<string>>();
  readonly #captureStacks: boolean;
  #closing: Promise<void> | undefined;
  #tick = 0;
  #waiting = 0;
  #started = 0;
  #stopped = 0;
  #failedStarts = 0;
  #lost = 0;
  #leaked = 0;

  constructor(options: LeasePoolOptions<R>) {
    this.#options = fillOptions(options);
    // Every cold acquire listens for close; a herd of them is not a listener leak.
    setMaxListeners(0, this.#closeController.signal);
    // Off by default: a captured stack costs ~3-10 µs, many times the rest of a hot acquire.
    this.#captureStacks = options.captureStacks ?? process.env['LEASEHOLD_TRACE_LEASES'] === '1';
  }

  /**
   * Leases the resource of `key`, starting it if nobody holds it. The result is a promise that is
   * also `AsyncDisposable`, so `await using lease = pool.acquire(key)` releases it once acquired.
   */
  acquire(key: unknown, options?: AcquireOptions): Acquisition<R> {
    const trace = this.#captureStacks ? this.#trace() : undefined;
    const entry = this.#hot.get(key);
    if (entry !== undefined && (options === undefined || options.signal?.aborted !== true)) return asAcquisition(Promise.resolve(this.#lease(entry, trace)));
    return asAcquisition(this.#acquireCold(key, options, trace));
  }

  /** Stops the resource of `key` now, whoever leases it; their signals abort. Resolves after the stop. */
  async evict(key: unknown): Promise<void> {
    const entry = this.#entries.get(await this.#options.normalizeKey(key));
    if (entry === undefined) return;
    if (entry.state === 'ready') return this.#stop(entry, 'evict');
    if (entry.state === 'starting') this.#doom(entry, 'evict', undefined);
    return entry.settled;
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
    for (const entry of this.#entries.values()) if (entry.state !== 'stopping') keys.push(entry.key);
    return keys;
  }

  /** A snapshot of the pool's gauges and counters. */
  stats(): LeasePoolStats {
    let resources = 0;
    let starting = 0;
    let leases = 0;
    let idle = 0;
    for (const entry of this.#entries.values()) {
      if (entry.state === 'starting') starting++;
      else resources++;
      if (entry.state === 'ready' && entry.leases === 0) idle++;
      leases += entry.leases;
    }
    return {
      resources,
      starting,
      leases,
      idle,
      waiting: this.#waiting,
      started: this.#started,
      stopped: this.#stopped,
      failedStarts: this.#failedStarts,
      lost: this.#lost,
      leaked: this.#leaked,
    };
  }

  /** @internal */
  releaseLease(slot: object): Promise<void> {
    return this.#drop(slot as Entry<R>);
  }

  /** @internal called when a lease was garbage-collected unreleased */
  leaseLeaked(slot: object, key: string, trace: Error | undefined): void {
    const entry = slot as Entry<R>;
    // A lease whose resource is already gone held nothing; only one that kept a resource up leaked.
    if (entry.state !== 'ready') {
      entry.leases--;
      return;
    }
    this.#leaked++;
    process.emitWarning(leakMessage(key, trace), { code: 'LEASEHOLD_LEASE_LEAKED' });
    void this.#drop(entry);
  }

  #drop(entry: Entry<R>): Promise<void> {
    if (--entry.leases > 0 || entry.state !== 'ready') return RESOLVED;
    const { idleTimeoutMs } = this.#options;
    if (idleTimeoutMs === 0) return this.#stop(entry, 'idle');
    if (idleTimeoutMs !== Infinity) {
      entry.idleTimer = setTimeout(() => {
        entry.idleTimer = undefined;
        // Re-checked: a lease may have come and gone, or the entry may be stopping already.
        if (entry.state === 'ready' && entry.leases === 0) void this.#stop(entry, 'idle');
      }, idleTimeoutMs);
      entry.idleTimer.unref();
    }
    return RESOLVED;
  }

  #trace(): Error {
    const trace = new Error('the lease was acquired here');
    Error.captureStackTrace(trace, this.acquire);
    return trace;
  }

  #lease(entry: Entry<R>, trace: Error | undefined): Lease<R> {
    entry.leases++;
    entry.lastUsed = ++this.#tick;
    if (entry.idleTimer !== undefined) {
      clearTimeout(entry.idleTimer);
      entry.idleTimer = undefined;
    }
    return new Lease<R>(this, entry, entry.key, entry.resource as R, entry.controller.signal, trace);
  }

  async #acquireCold(raw: unknown, options: AcquireOptions | undefined, trace: Error | undefined): Promise<Lease<R>> {
    if (this.#closing !== undefined) throw new PoolClosedError();
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be ≥ 0, got ${String(timeoutMs)}`);
    const userSignal = options?.signal;
    userSignal?.throwIfAborted();
    // One signal for everything this acquire may wait on: the caller's, its timeout, the pool closing.
    const controller = new AbortController();
    const abort = (reason: unknown): void => controller.abort(reason);
    const onUserAbort = (): void => abort(userSignal?.reason);
    const onClose = (): void => abort(new PoolClosedError());
    userSignal?.addEventListener('abort', onUserAbort, { once: true });
    this.#closeController.signal.addEventListener('abort', onClose, { once: true });
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => abort(new AcquireTimeoutError(raw, timeoutMs)), timeoutMs);
    try {
      const key = await this.#wait(this.#normalize(raw), controller.signal);
      controller.signal.throwIfAborted();
      return await this.#acquireKey(raw, key, controller.signal, trace);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      userSignal?.removeEventListener('abort', onUserAbort);
      this.#closeController.signal.removeEventListener('abort', onClose);
    }
  }

  #normalize(raw: unknown): Promise<string> {
    let pending = this.#normalizing.get(raw);
    if (pending === undefined) {
      pending = Promise.resolve()
        .then(() => this.#options.normalizeKey(raw))
        .finally(() => this.#normalizing.delete(raw));
      this.#normalizing.set(raw, pending);
    }
    return pending;
  }

  async #acquireKey(raw: unknown, key: string, signal: AbortSignal, trace: Error | undefined): Promise<Lease<R>> {
    let queued = false;
    for (;;) {
      signal.throwIfAborted();
      const entry = this.#entries.get(key);
      if (entry === undefined) {
        if (this.#entries.size >= this.#options.maxResources) {
          const victim = this.#leastRecentlyUsedIdle();
          if (victim !== undefined) await this.#wait(this.#stop(victim, 'capacity'), signal);
          else {
            // A waiter that was woken but lost the race keeps its place at the head of the queue.
            await this.#waitForCapacity(signal, queued);
            queued = true;
          }
          continue;
        }
        const fresh = this.#startEntry(key);
        return this.#waitForStart(fresh, raw, signal, trace);
      }
      if (entry.state === 'ready') {
        this.#hot.set(raw, entry);
        entry.aliases.add(raw);
        return this.#lease(entry, trace);
      }
      if (entry.state === 'starting' && entry.doom === undefined) return this.#waitForStart(entry, raw, signal, trace);
      // Stopping, or a start that will be stopped: never two resources for one key, so wait it out.
      await this.#wait(entry.settled, signal);
    }
  }

  #startEntry(key: string): Entry<R> {
    let resolveSettled!: () => void;
    const settled = new Promise<void>((resolve) => (resolveSettled = resolve));
    const entry: Entry<R> = {
      key,
      state: 'starting',
      resource: undefined,
      leases: 0,
      lastUsed: ++this.#tick,
      controller: new AbortController(),
      waiters: new Set(),
      aliases: new Set(),
      idleTimer: undefined,
      doom: undefined,
      unlock: undefined,
      stopping: undefined,
      settled,
      resolveSettled,
    };
    this.#entries.set(key, entry);
    void this.#runStart(entry);
    return entry;
  }

  async #runStart(entry: Entry<R>): Promise<void> {
    const { key } = entry;
    let resource: R;
    try {
      if (this.#options.lock !== undefined && (this.#options.lock.appliesTo?.(key) ?? true)) {
        entry.unlock = await lockKey(key, this.#options.lock, (error) => this.#onLost(entry, error));
      }
      entry.controller.signal.throwIfAborted();
      // Called now, but a synchronous throw becomes a rejection: handling it here synchronously would
      // run before the acquire that created this entry has registered as a waiter, leaving it hanging.
      resource = await new Promise<R>((resolve) =>
        resolve(
          this.#options.start(key, {
            signal: entry.controller.signal,
            lost: (reason?: unknown) => this.#onLost(entry, reason),
          }),
        ),
      );
    } catch (error) {
      this.#failedStarts++;
      const failure = entry.doom !== undefined ? this.#doomError(entry) : error instanceof KeyLockedError ? error : new StartError(key, error);
      // Until #remove (after the unlock) the entry stays 'starting': doomed, a late acquire waits for it
      // to settle and starts afresh instead of joining a start that has already failed.
      entry.doom ??= { reason: 'abandoned', cause: error };
      for (const waiter of entry.waiters) waiter.reject(failure);
      entry.waiters.clear();
      await this.#unlock(entry, 'abandoned');
      this.#remove(entry);
      return;
    }
    entry.resource = resource;
    this.#started++;
    if (entry.doom !== undefined) {
      const failure = this.#doomError(entry);
      for (const waiter of entry.waiters) waiter.reject(failure);
      entry.waiters.clear();
      entry.state = 'ready';
      if (entry.doom.reason === 'lost') this.#lost++;
      await this.#stop(entry, entry.doom.reason);
      return;
    }
    entry.state = 'ready';
    for (const waiter of entry.waiters) {
      this.#hot.set(waiter.raw, entry);
      entry.aliases.add(waiter.raw);
      waiter.resolve(this.#lease(entry, waiter.trace) as Lease<never>);
    }
    entry.waiters.clear();
  }

  #doomError(entry: Entry<R>): Error {
    const doom = entry.doom!;
    if (doom.reason === 'close') return new PoolClosedError();
    return new StartError(entry.key, doom.cause ?? new Error(`the start was ${doom.reason === 'evict' ? 'evicted' : doom.reason}`));
  }

  #waitForStart(entry: Entry<R>, raw: unknown, signal: AbortSignal, trace: Error | undefined): Promise<Lease<R>> {
    return new Promise<Lease<R>>((resolve, reject) => {
      const onAbort = (): void => {
        entry.waiters.delete(waiter);
        this.#waiting--;
        reject(signal.reason);
        // When every waiter has left, nobody wants this start any more.
        if (entry.waiters.size === 0 && entry.state === 'starting' && entry.doom === undefined) this.#doom(entry, 'abandoned', undefined);
      };
      const settle = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.#waiting--;
      };
      const waiter: Waiter = {
        raw,
        trace,
        resolve: (lease) => {
          settle();
          resolve(lease);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      this.#waiting++;
      entry.waiters.add(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #wait<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiting--;
        reject(signal.reason);
      };
      this.#waiting++;
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          if (signal.aborted) return;
          signal.removeEventListener('abort', onAbort);
          this.#waiting--;
          resolve(value);
        },
        (error: unknown) => {
          if (signal.aborted) return;
          signal.removeEventListener('abort', onAbort);
          this.#waiting--;
          reject(error);
        },
      );
    });
  }

  #waitForCapacity(signal: AbortSignal, atFront: boolean): Promise<void> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    if (atFront) this.#capacityQueue.unshift(wake);
    else this.#capacityQueue.push(wake);
    signal.addEventListener(
      'abort',
      () => {
        const at = this.#capacityQueue.indexOf(wake);
        if (at !== -1) this.#capacityQueue.splice(at, 1);
      },
      { once: true },
    );
    return this.#wait(woken, signal);
  }

  #wakeNextForCapacity(): void {
    if (this.#entries.size < this.#options.maxResources) this.#capacityQueue.shift()?.();
  }

  #leastRecentlyUsedIdle(): Entry<R> | undefined {
    let victim: Entry<R> | undefined;
    for (const entry of this.#entries.values()) {
      if (entry.state === 'ready' && entry.leases === 0 && (victim === undefined || entry.lastUsed < victim.lastUsed)) victim = entry;
    }
    return victim;
  }

  #doom(entry: Entry<R>, reason: StopReason, cause: unknown): void {
    entry.doom ??= { reason, cause };
    if (reason === 'close') {
      const failure = new PoolClosedError();
      for (const waiter of entry.waiters) waiter.reject(failure);
      entry.waiters.clear();
    }
    if (!entry.controller.signal.aborted) entry.controller.abort(cause ?? new LeaseRevokedError(entry.key, reason === 'abandoned' || reason === 'idle' || reason === 'capacity' ? 'evict' : reason));
  }

  #onLost(entry: Entry<R>, reason: unknown): void {
    if (this.#entries.get(entry.key) !== entry) return;
    if (entry.state === 'starting') {
      if (entry.doom === undefined) this.#doom(entry, 'lost', reason ?? new Error('lost while starting'));
      return;
    }
    if (entry.state !== 'ready') return;
    this.#lost++;
    void this.#stop(entry, 'lost', reason);
  }

  #stop(entry: Entry<R>, reason: StopReason, cause?: unknown): Promise<void> {
    if (entry.stopping !== undefined) return entry.stopping;
    entry.state = 'stopping';
    if (entry.idleTimer !== undefined) clearTimeout(entry.idleTimer);
    for (const raw of entry.aliases) if (this.#hot.get(raw) === entry) this.#hot.delete(raw);
    if (!entry.controller.signal.aborted && (reason === 'evict' || reason === 'close' || reason === 'lost')) {
      entry.controller.abort(new LeaseRevokedError(entry.key, reason, cause));
    }
    entry.stopping = this.#runStop(entry, reason);
    return entry.stopping;
  }

  async #runStop(entry: Entry<R>, reason: StopReason): Promise<void> {
    const { stop, stopTimeoutMs } = this.#options;
    if (stop !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      try {
        const stopped = Promise.resolve().then(() => stop(entry.resource as R, { key: entry.key, reason }));
        if (stopTimeoutMs === Infinity) await stopped;
        else {
          const timedOut = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new StopTimeoutError(entry.key, stopTimeoutMs)), stopTimeoutMs);
          });
          await Promise.race([stopped, timedOut]);
        }
      } catch (error) {
        this.#report(error, entry.key, reason);
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
    }
    this.#stopped++;
    await this.#unlock(entry, reason);
    this.#remove(entry);
  }

  async #unlock(entry: Entry<R>, reason: StopReason): Promise<void> {
    const unlock = entry.unlock;
    entry.unlock = undefined;
    if (unlock === undefined) return;
    try {
      await unlock();
    } catch (error) {
      // A compromised lock is already reported through `lost`; releasing it then fails by design.
      if ((error as NodeJS.ErrnoException).code !== 'ERELEASED' && (error as NodeJS.ErrnoException).code !== 'ENOTACQUIRED') {
        this.#report(error, entry.key, reason);
      }
    }
  }

  #report(error: unknown, key: string, reason: StopReason): void {
    try {
      this.#options.onError(error, { key, reason });
    } catch (thrown) {
      process.emitWarning(`leasehold: onError threw: ${String(thrown)}`, { code: 'LEASEHOLD_ON_ERROR_THREW' });
    }
  }

  #remove(entry: Entry<R>): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    for (const raw of entry.aliases) if (this.#hot.get(raw) === entry) this.#hot.delete(raw);
    entry.resolveSettled();
    this.#wakeNextForCapacity();
  }

  async #close(): Promise<void> {
    const settled: Promise<void>[] = [];
    // Doom starts before waiters are rejected, so their leaving does not read as 'abandoned'.
    for (const entry of this.#entries.values()) {
      if (entry.state === 'starting') this.#doom(entry, 'close', undefined);
      else if (entry.state === 'ready') void this.#stop(entry, 'close');
      settled.push(entry.settled);
    }
    this.#closeController.abort(new PoolClosedError());
    await Promise.all(settled);
  }
}
