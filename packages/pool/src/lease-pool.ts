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

// One cold acquire: a plain object, no AbortController and no listener on any shared signal.
// It is an EventListener object (`handleEvent`) on its caller's own signal, so it needs no closure.
interface Waiter {
  readonly pool: { abandon(waiter: Waiter, reason: unknown): void };
  readonly raw: unknown;
  readonly trace: Error | undefined;
  resolve: (lease: Lease<never>) => void;
  reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The normalized key, once known. */
  key: string | undefined;
  /** The entry whose start it waits for. */
  at: object | undefined;
  done: boolean;
  handleEvent(): void;
}

function handleAbort(this: Waiter): void {
  this.pool.abandon(this, this.signal!.reason);
}

function onAcquireTimeout(waiter: Waiter, timeoutMs: number): void {
  waiter.pool.abandon(waiter, new AcquireTimeoutError(waiter.raw, timeoutMs));
}

// Per-key state. A 'starting' entry with `doom` set will stop its resource as soon as it arrives.
// What only some entries need is made on first use, so an idle entry is a handful of fields.
interface Entry<R> {
  readonly key: string;
  state: 'starting' | 'ready' | 'stopping';
  resource: R | undefined;
  leases: number;
  lastUsed: number;
  /** Made when a lease's or the start's signal is first read. */
  controller: AbortController | undefined;
  /** Set once the entry's signal must be aborted, with the reason, whether or not it exists yet. */
  revoked: { readonly reason: unknown } | undefined;
  /** Waiters of the start. */
  waiters: Set<Waiter> | undefined;
  /** Waiters that arrived while it was stopping or doomed; they go again once it has gone. */
  after: Waiter[] | undefined;
  /** Raw keys that reach it on the hot path: the first one inline (kNoAlias until then), any others in a set. */
  alias: unknown;
  aliases: Set<unknown> | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  doom: { reason: StopReason; cause?: unknown } | undefined;
  unlock: Unlock | undefined;
  stopping: Promise<void> | undefined;
  settled: { readonly promise: Promise<void>; readonly resolve: () => void } | undefined;
}

const RESOLVED = Promise.resolve();
// An entry's first raw key before it has one. Not `undefined`: that is a raw key too (acquire(undefined)
// with normalizeKey: String), and a stop must then drop it from the hot map like any other.
const kNoAlias = Symbol('no alias');

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
  // Cold acquires that need a slot while the pool is at maxResources, FIFO; settled ones are skipped.
  #queue: Waiter[] = [];
  // Every unsettled cold acquire, so close() reaches each without a listener per waiter.
  readonly #pending = new Set<Waiter>();
  // Concurrent cold acquires of one raw key share one normalization (realpath) instead of a herd of them.
  readonly #normalizing = new Map<unknown, Waiter[]>();
  readonly #captureStacks: boolean;
  readonly #abandon = (waiter: Waiter, reason: unknown): void => this.#leave(waiter, reason);
  readonly #waiterOwner = { abandon: this.#abandon };
  #closing: Promise<void> | undefined;
  #pumping = false;
  #pumpAgain = false;
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
    return this.#settled(entry);
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
      waiting: this.#pending.size,
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

  /** @internal the signal of a lease on this slot, made on first read */
  leaseSignal(slot: object): AbortSignal {
    return this.#signalOf(slot as Entry<R>);
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
    if (this.#options.maxIdle !== Infinity) this.#capIdle();
    // An idle resource is evictable: a cold acquire waiting for capacity takes its slot now.
    this.#pump();
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
    return new Lease<R>(this, entry, entry.key, entry.resource as R, trace);
  }

  #signalOf(entry: Entry<R>): AbortSignal {
    let controller = entry.controller;
    if (controller === undefined) {
      controller = entry.controller = new AbortController();
      if (entry.revoked !== undefined) controller.abort(entry.revoked.reason);
    }
    return controller.signal;
  }

  /** Aborts the entry's signal (now, or when it is first made). */
  #revoke(entry: Entry<R>, reason: unknown): void {
    if (entry.revoked !== undefined) return;
    entry.revoked = { reason };
    entry.controller?.abort(reason);
  }

  #settled(entry: Entry<R>): Promise<void> {
    if (entry.settled === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      entry.settled = { promise, resolve };
    }
    return entry.settled.promise;
  }

  #acquireCold(raw: unknown, options: AcquireOptions | undefined, trace: Error | undefined): Promise<Lease<R>> {
    if (this.#closing !== undefined) return Promise.reject(new PoolClosedError());
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) return Promise.reject(new RangeError(`timeoutMs must be ≥ 0, got ${String(timeoutMs)}`));
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    const waiter: Waiter = {
      pool: this.#waiterOwner,
      raw,
      trace,
      resolve: undefined as never,
      reject: undefined as never,
      signal,
      timer: undefined,
      key: undefined,
      at: undefined,
      done: false,
      handleEvent: handleAbort,
    };
    const promise = new Promise<Lease<R>>((resolve, reject) => {
      waiter.resolve = resolve as (lease: Lease<never>) => void;
      waiter.reject = reject;
    });
    this.#pending.add(waiter);
    signal?.addEventListener('abort', waiter); // no `once`: #settle removes it, and `once` costs ~0.3 µs more
    if (timeoutMs !== undefined) waiter.timer = setTimeout(onAcquireTimeout, timeoutMs, waiter, timeoutMs);
    this.#normalize(waiter);
    return promise;
  }

  #normalize(waiter: Waiter): void {
    const { raw } = waiter;
    const herd = this.#normalizing.get(raw);
    if (herd !== undefined) {
      herd.push(waiter);
      return;
    }
    const waiters = [waiter];
    this.#normalizing.set(raw, waiters);
    Promise.resolve()
      .then(() => this.#options.normalizeKey(raw))
      .then(
        (key) => {
          this.#normalizing.delete(raw);
          for (const w of waiters) if (!w.done) this.#route(w, key);
        },
        (error: unknown) => {
          this.#normalizing.delete(raw);
          for (const w of waiters) this.#settle(w, undefined, error);
        },
      );
  }

  /** Sends a waiter whose key is known where it belongs: a lease, a start, the wait for a stop, or the capacity queue. */
  #route(waiter: Waiter, key: string): void {
    waiter.key = key;
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size < this.#options.maxResources) this.#startEntry(key, waiter);
      else {
        this.#queue.push(waiter);
        this.#pump();
      }
    } else if (entry.state === 'ready') this.#grant(entry, waiter);
    else if (entry.state === 'starting' && entry.doom === undefined) this.#join(entry, waiter);
    // Stopping, or a start that will be stopped: never two resources for one key, so wait it out.
    else (entry.after ??= []).push(waiter);
  }

  #grant(entry: Entry<R>, waiter: Waiter): void {
    this.#alias(entry, waiter.raw);
    this.#settle(waiter, this.#lease(entry, waiter.trace), undefined);
  }

  #alias(entry: Entry<R>, raw: unknown): void {
    this.#hot.set(raw, entry);
    if (entry.alias === kNoAlias) entry.alias = raw;
    else if (entry.alias !== raw) (entry.aliases ??= new Set()).add(raw);
  }

  #join(entry: Entry<R>, waiter: Waiter): void {
    waiter.at = entry;
    (entry.waiters ??= new Set()).add(waiter);
  }

  /** Settles a waiter once: a lease, or an error. */
  #settle(waiter: Waiter, lease: Lease<R> | undefined, error: unknown): void {
    if (waiter.done) return;
    waiter.done = true;
    waiter.at = undefined;
    this.#pending.delete(waiter);
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.signal?.removeEventListener('abort', waiter);
    if (lease !== undefined) waiter.resolve(lease as Lease<never>);
    else waiter.reject(error);
  }

  /** A waiter leaves on its own (its signal or its timeout): it rejects at once, wherever it waits. */
  #leave(waiter: Waiter, reason: unknown): void {
    if (waiter.done) return;
    const entry = waiter.at as Entry<R> | undefined;
    this.#settle(waiter, undefined, reason);
    if (entry?.waiters === undefined) return;
    entry.waiters.delete(waiter);
    // When every waiter has left, nobody wants this start any more.
    if (entry.waiters.size === 0 && entry.state === 'starting' && entry.doom === undefined) this.#doom(entry, 'abandoned', undefined);
  }

  /**
   * Lets the capacity queue move, head first: a waiter whose key has started (or is up) since it
   * queued joins it; one that needs a slot takes a free one, or counts on a stop under way, or has
   * the least recently used idle resource stopped for it. Called on every transition that frees a
   * slot or leaves a resource idle.
   */
  #pump(): void {
    if (this.#queue.length === 0) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        this.#pumpOnce();
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
  }

  #pumpOnce(): void {
    const queue = this.#queue;
    this.#queue = [];
    const kept: Waiter[] = [];
    // Slots that stops under way will free, each already promised to one waiter further up.
    let coming = this.#stoppingCount;
    let claimed: Set<string> | undefined;
    let victims = true;
    for (const waiter of queue) {
      if (waiter.done) continue;
      const key = waiter.key!;
      const entry = this.#entries.get(key);
      if (entry !== undefined) {
        if (entry.state === 'ready') this.#grant(entry, waiter);
        else if (entry.state === 'starting' && entry.doom === undefined) this.#join(entry, waiter);
        else kept.push(waiter); // its own key is going; the stop's end pumps again
        continue;
      }
      // A waiter of the same key further up already holds the slot this one will share.
      if (claimed?.has(key) === true) {
        kept.push(waiter);
        continue;
      }
      if (this.#entries.size < this.#options.maxResources) {
        this.#startEntry(key, waiter);
        continue;
      }
      (claimed ??= new Set()).add(key);
      kept.push(waiter);
      if (coming > 0) coming--;
      else if (victims) {
        const victim = this.#leastRecentlyUsedIdle();
        if (victim === undefined) victims = false;
        else void this.#stop(victim, 'capacity');
      }
    }
    this.#queue = kept.length === 0 ? this.#queue : kept.concat(this.#queue);
  }

  #startEntry(key: string, first: Waiter): Entry<R> {
    const entry: Entry<R> = {
      key,
      state: 'starting',
      resource: undefined,
      leases: 0,
      lastUsed: ++this.#tick,
      controller: undefined,
      revoked: undefined,
      waiters: undefined,
      after: undefined,
      alias: kNoAlias,
      aliases: undefined,
      idleTimer: undefined,
      doom: undefined,
      unlock: undefined,
      stopping: undefined,
      settled: undefined,
    };
    this.#entries.set(key, entry);
    // Joined before `start` runs: a synchronous start may call `lost` or settle at once.
    this.#join(entry, first);
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
      if (entry.revoked !== undefined) throw entry.revoked.reason;
      const signalOf = (): AbortSignal => this.#signalOf(entry);
      // The start's signal (and its AbortController) is made only if `start` reads it.
      const context = {
        get signal(): AbortSignal {
          return signalOf();
        },
        lost: (reason?: unknown) => this.#onLost(entry, reason),
      };
      // Called now, but a synchronous throw becomes a rejection, handled like any failed start.
      resource = await new Promise<R>((resolve) => resolve(this.#options.start(key, context)));
    } catch (error) {
      this.#failedStarts++;
      const failure = entry.doom !== undefined ? this.#doomError(entry) : error instanceof KeyLockedError ? error : new StartError(key, error);
      // Until #remove (after the unlock) the entry stays 'starting': doomed, a late acquire waits for it
      // to settle and starts afresh instead of joining a start that has already failed.
      entry.doom ??= { reason: 'abandoned', cause: error };
      this.#rejectWaiters(entry, failure);
      await this.#unlock(entry, 'abandoned');
      this.#remove(entry);
      return;
    }
    entry.resource = resource;
    this.#started++;
    if (entry.doom !== undefined) {
      this.#rejectWaiters(entry, this.#doomError(entry));
      entry.state = 'ready';
      if (entry.doom.reason === 'lost') this.#lost++;
      await this.#stop(entry, entry.doom.reason);
      return;
    }
    entry.state = 'ready';
    const waiters = entry.waiters;
    entry.waiters = undefined;
    if (waiters !== undefined) for (const waiter of waiters) this.#grant(entry, waiter);
  }

  #rejectWaiters(entry: Entry<R>, failure: unknown): void {
    const waiters = entry.waiters;
    entry.waiters = undefined;
    if (waiters !== undefined) for (const waiter of waiters) this.#settle(waiter, undefined, failure);
  }

  #doomError(entry: Entry<R>): Error {
    const doom = entry.doom!;
    if (doom.reason === 'close') return new PoolClosedError();
    return new StartError(entry.key, doom.cause ?? new Error(`the start was ${doom.reason === 'evict' ? 'evicted' : doom.reason}`));
  }

  /** Stops the least recently used idle resources beyond `maxIdle` (this entry among them, if it is the oldest). */
  #capIdle(): void {
    let idle = 0;
    for (const entry of this.#entries.values()) if (entry.state === 'ready' && entry.leases === 0) idle++;
    for (; idle > this.#options.maxIdle; idle--) void this.#stop(this.#leastRecentlyUsedIdle()!, 'capacity');
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
    if (reason === 'close') this.#rejectWaiters(entry, new PoolClosedError());
    this.#revoke(entry, cause ?? new LeaseRevokedError(entry.key, reason === 'abandoned' ? 'evict' : (reason as 'evict' | 'close' | 'lost')));
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
    this.#stoppingCount++;
    if (entry.idleTimer !== undefined) clearTimeout(entry.idleTimer);
    this.#unalias(entry);
    if (reason === 'evict' || reason === 'close' || reason === 'lost') this.#revoke(entry, new LeaseRevokedError(entry.key, reason, cause));
    entry.stopping = this.#runStop(entry, reason);
    return entry.stopping;
  }

  #unalias(entry: Entry<R>): void {
    if (this.#hot.get(entry.alias) === entry) this.#hot.delete(entry.alias);
    if (entry.aliases !== undefined) for (const raw of entry.aliases) if (this.#hot.get(raw) === entry) this.#hot.delete(raw);
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

  /** The entry is gone (stopped, or its start failed): its slot is free, and whoever waited for it goes again. */
  #remove(entry: Entry<R>): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    if (entry.state === 'stopping') this.#stoppingCount--;
    this.#unalias(entry);
    entry.settled?.resolve();
    // The queue first (FIFO), then the acquires that waited for this very entry to go.
    this.#pump();
    const after = entry.after;
    entry.after = undefined;
    if (after !== undefined) for (const waiter of after) if (!waiter.done) this.#route(waiter, waiter.key!);
  }

  async #close(): Promise<void> {
    const settled: Promise<void>[] = [];
    // Doom starts before waiters are rejected, so their leaving does not read as 'abandoned'.
    for (const entry of this.#entries.values()) {
      if (entry.state === 'starting') this.#doom(entry, 'close', undefined);
      else if (entry.state === 'ready') void this.#stop(entry, 'close');
      settled.push(this.#settled(entry));
    }
    for (const waiter of this.#pending) this.#settle(waiter, undefined, new PoolClosedError());
    this.#queue = [];
    await Promise.all(settled);
  }
}
