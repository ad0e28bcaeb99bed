import { AcquireTimeoutError } from './errors.js';
import type { Lease } from './lease.js';

/** Options of one `acquire`. */
export interface AcquireOptions {
  /** Aborting it rejects this acquire at once with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Rejects with `AcquireTimeoutError` if the lease is not held by then. */
  readonly timeoutMs?: number;
}

/** What the pool does with a cold acquire once its key is known, and when it leaves on its own. */
export interface WaiterOwner {
  /** Sends a waiter whose key is known where it belongs. */
  route(waiter: Waiter, key: string): void;
  /** The waiter's signal aborted or its timeout passed: it rejects with `reason`, wherever it waits. */
  leave(waiter: Waiter, reason: unknown): void;
}

/**
 * One cold acquire: a plain object, no AbortController and no listener on any shared signal. It is
 * an EventListener object (`handleEvent`) on its caller's own signal, so it needs no closure.
 */
export interface Waiter {
  readonly owner: WaiterOwner;
  readonly raw: unknown;
  readonly trace: Error | undefined;
  resolve: (lease: Lease<never>) => void;
  reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The normalized key, once known. */
  key: string | undefined;
  /** The slot whose start it waits for (a `Slot` of key-state.ts). */
  at: object | undefined;
  done: boolean;
  handleEvent(): void;
}

function handleAbort(this: Waiter): void {
  this.owner.leave(this, this.signal!.reason);
}

function onAcquireTimeout(waiter: Waiter, timeoutMs: number): void {
  waiter.owner.leave(waiter, new AcquireTimeoutError(waiter.raw, timeoutMs));
}

/**
 * The cold acquires of one pool: each one's promise, signal and timeout, and one normalization
 * (realpath) shared by every concurrent acquire of one raw key instead of a herd of them.
 */
export class ColdAcquires {
  readonly #owner: WaiterOwner;
  readonly #normalizeKey: (key: unknown) => Promise<string> | string;
  // Every unsettled cold acquire, so close() reaches each without a listener per waiter.
  readonly #pending = new Set<Waiter>();
  readonly #normalizing = new Map<unknown, Waiter[]>();

  constructor(owner: WaiterOwner, normalizeKey: (key: unknown) => Promise<string> | string) {
    this.#owner = owner;
    this.#normalizeKey = normalizeKey;
  }

  /** Cold acquires not settled yet. */
  get size(): number {
    return this.#pending.size;
  }

  /** A new cold acquire of `raw`, routed once its key is normalized. */
  wait<R>(raw: unknown, options: AcquireOptions | undefined, trace: Error | undefined): Promise<Lease<R>> {
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) return Promise.reject(new RangeError(`timeoutMs must be ≥ 0, got ${String(timeoutMs)}`));
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    const waiter: Waiter = {
      owner: this.#owner,
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
    signal?.addEventListener('abort', waiter); // no `once`: settle removes it, and `once` costs ~0.3 µs more
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
      .then(() => this.#normalizeKey(raw))
      .then(
        (key) => {
          this.#normalizing.delete(raw);
          for (const w of waiters) if (!w.done) this.#owner.route(w, key);
        },
        (error: unknown) => {
          this.#normalizing.delete(raw);
          for (const w of waiters) this.settle(w, undefined, error);
        },
      );
  }

  /** Settles a waiter once: with a lease, or with an error. */
  settle(waiter: Waiter, lease: Lease<unknown> | undefined, error: unknown): void {
    if (waiter.done) return;
    waiter.done = true;
    waiter.at = undefined;
    this.#pending.delete(waiter);
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.signal?.removeEventListener('abort', waiter);
    if (lease !== undefined) waiter.resolve(lease as Lease<never>);
    else waiter.reject(error);
  }

  /** Rejects each of a start's waiters with `error`, and empties the set. */
  rejectEach(waiters: Set<Waiter>, error: unknown): void {
    for (const waiter of waiters) this.settle(waiter, undefined, error);
    waiters.clear();
  }

  /** Rejects every waiting acquire, each with its own error. */
  rejectAll(error: () => unknown): void {
    for (const waiter of this.#pending) this.settle(waiter, undefined, error());
  }
}
