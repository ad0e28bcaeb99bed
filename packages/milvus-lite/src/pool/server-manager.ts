import type { Mutex } from 'async-mutex';
import type { Lease, LeasePool } from '@leasehold/pool';
import { createRegisteredPool, type MilvusLitePoolOptions } from './milvus-lite-pool.js';
import type { MilvusLiteServer } from '../target/milvus-lite-server.js';
import { normalizeTarget } from '../target/remote-uri.js';

// Imported with a manager's first call, beside its first path resolution: importing the package does not load it.
let asyncMutex: Promise<typeof import('async-mutex')> | undefined;
let MutexClass: typeof Mutex | undefined;
async function loadMutex(): Promise<void> {
  MutexClass ??= (await (asyncMutex ??= import('async-mutex'))).Mutex;
}

/** Options of `ServerManager`: those of `createMilvusLitePool`, plus where failures are logged. */
export interface ServerManagerOptions extends MilvusLitePoolOptions {
  /** Receives the reason when `startAndGetUri` returns null. Default: `console.error`. */
  readonly log?: (message: string) => void;
}

/**
 * milvus-lite's Python `ServerManager`, in TypeScript: one server per database path, the same URI
 * for the same path, `null` (and the reason logged) on failure. Servers stop on `releaseServer`,
 * `releaseAll`, disposal, or when the process exits. Built on `createMilvusLitePool`, so a path
 * opened here is also refused to other processes, and Python's ServerManager and this one exclude
 * each other.
 *
 * @example
 * const manager = new ServerManager();
 * const uri = await manager.startAndGetUri('./app.db'); // 'unix:/tmp/lh-…/app.db.sock'
 * await manager.releaseServer('./app.db');
 */
export class ServerManager implements AsyncDisposable {
  readonly #poolOptions: MilvusLitePoolOptions;
  #poolInstance: LeasePool<MilvusLiteServer> | undefined;
  // Normalized path → the one lease this manager holds on its server.
  readonly #leases = new Map<string, Lease<MilvusLiteServer>>();
  // Paths as callers spelled them → servers already running: a warm call resolves no path and takes no mutex.
  readonly #ready = new Map<string, Lease<MilvusLiteServer>>();
  // One mutex per normalized path, as Python's ServerManager holds its lock around each operation.
  readonly #mutexes = new Map<string, Mutex>();
  // Starts not yet finished, per path: a release called after them aborts them (a release wins).
  readonly #pending = new Map<string, Set<AbortController>>();
  // Calls are normalized one after another, so each path's mutex is queued for in call order.
  #order: Promise<unknown> = Promise.resolve();
  readonly #log: (message: string) => void;

  constructor(options: ServerManagerOptions = {}) {
    const { log, ...poolOptions } = options;
    this.#poolOptions = poolOptions;
    this.#log = log ?? ((message) => console.error(message));
  }

  // Created on first use, so constructing a manager (or importing the instance) starts nothing.
  get #pool(): LeasePool<MilvusLiteServer> {
    return (this.#poolInstance ??= createRegisteredPool(this.#poolOptions, this === serverManagerInstance ? 'serverManagerInstance' : 'a ServerManager'));
  }

  #mutexOf(key: string): Mutex {
    let mutex = this.#mutexes.get(key);
    // MutexClass is loaded: every caller runs inside #inOrder, after loadMutex.
    if (mutex === undefined) this.#mutexes.set(key, (mutex = new MutexClass!()));
    return mutex;
  }

  /** Runs `atKey` once every earlier call has queued for its mutex; resolves what it returns. */
  #inOrder<T>(path: string, atKey: (key: string) => T, onInvalid: (error: Error) => T): Promise<T> {
    const step = this.#order.then(async () => (await Promise.all([normalizeTarget(path), loadMutex()]))[0]).then(atKey, onInvalid);
    this.#order = step.catch(() => {});
    return step;
  }

  /**
   * Starts the server of `path` (once) and resolves its URI, or `null` with the reason logged.
   * `args` is the Python API's server address; leasehold always serves on a private unix socket
   * (or 127.0.0.1 for milvus-lite 3.x), so a given address is refused with a logged reason.
   * A `releaseServer(path)` or `releaseAll()` called while this start is pending wins: it resolves null.
   */
  async startAndGetUri(path: string, args?: string): Promise<string | null> {
    if (args !== undefined) {
      this.#log(`leasehold: startAndGetUri(${JSON.stringify(path)}): a server address (${String(args)}) is not supported; leasehold serves on a private socket`);
      return null;
    }
    const ready = this.#ready.get(path);
    if (ready !== undefined && !ready.signal.aborted && ready.resource.verifyDatabase()) return ready.resource.uri;
    const queued = await this.#inOrder(
      path,
      (key) => {
        const controller = new AbortController();
        let pending = this.#pending.get(key);
        if (pending === undefined) this.#pending.set(key, (pending = new Set()));
        pending.add(controller);
        return { key, controller, acquired: { mutex: this.#mutexOf(key).acquire() } };
      },
      (error) => {
        this.#log(`leasehold: cannot start milvus-lite for ${String(path)}: ${error.message}`);
        return undefined;
      },
    );
    if (queued === undefined) return null;
    const { key, controller } = queued;
    const unlock = await queued.acquired.mutex;
    try {
      const lease = await this.#start(key, controller.signal);
      if (lease === null) return controller.signal.aborted ? this.#released(path, key) : null;
      // A release called meanwhile may still be resolving its path: let every call made so far arrive.
      for (let seen: unknown; seen !== this.#order; ) await (seen = this.#order);
      if (controller.signal.aborted) return this.#released(path, key); // that release, queued on this mutex, stops it
      this.#ready.set(path, lease);
      return lease.resource.uri;
    } finally {
      const pending = this.#pending.get(key);
      pending?.delete(controller);
      if (pending?.size === 0) this.#pending.delete(key);
      unlock();
    }
  }

  #released(path: string, key: string): null {
    this.#log(`leasehold: startAndGetUri(${JSON.stringify(path)}) returned null: the server of ${key} was released while it was starting`);
    return null;
  }

  /** Under `key`'s mutex: the lease this manager holds on `key`'s server, started if need be; null if that failed or was aborted. */
  async #start(key: string, signal: AbortSignal): Promise<Lease<MilvusLiteServer> | null> {
    if (signal.aborted) return null;
    let lease = this.#leases.get(key);
    if (lease !== undefined && (lease.signal.aborted || !lease.resource.verifyDatabase())) {
      this.#drop(key, lease);
      await lease.release();
      lease = undefined;
    }
    if (lease !== undefined) return lease;
    try {
      lease = await this.#pool.acquire(key, { signal });
    } catch (error) {
      if (!signal.aborted) this.#log(`leasehold: cannot start milvus-lite for ${key}: ${(error as Error).message}`);
      return null;
    }
    const held = lease;
    this.#leases.set(key, held);
    held.signal.addEventListener('abort', () => {
      this.#drop(key, held);
      void held.release();
    });
    return held;
  }

  #drop(key: string, lease: Lease<MilvusLiteServer>): void {
    if (this.#leases.get(key) === lease) this.#leases.delete(key);
    for (const [path, held] of this.#ready) if (held === lease) this.#ready.delete(path);
  }

  /** Under `key`'s mutex: stops its server and waits until nothing of it runs (a pending start included). */
  async #release(key: string, unlock: Promise<() => void>): Promise<boolean> {
    const release = await unlock;
    try {
      const lease = this.#leases.get(key);
      if (lease !== undefined) {
        this.#drop(key, lease);
        await lease.release();
      }
      // An aborted start may still be stopping its server, or an idle timer may keep it: evict waits for both.
      if (this.#poolInstance !== undefined) await this.#poolInstance.evict(key);
      return lease !== undefined;
    } finally {
      release();
    }
  }

  #abortPending(key: string): boolean {
    const pending = this.#pending.get(key);
    for (const controller of pending ?? []) controller.abort(new Error(`released while starting`));
    return pending !== undefined && pending.size > 0;
  }

  /**
   * Stops the server of `path` and resolves once it is gone and its lock free; a pending start of it
   * resolves null. Logs a warning if there was none.
   */
  async releaseServer(path: string): Promise<void> {
    // Warm calls made from now on take the ordered path, so they queue behind this release.
    this.#ready.clear();
    const queued = await this.#inOrder(
      path,
      (key) => ({ key, hadStart: this.#abortPending(key), unlock: { mutex: this.#mutexOf(key).acquire() } }),
      () => undefined,
    );
    if (queued === undefined) {
      this.#log(`leasehold: no local milvus for ${String(path)}`);
      return;
    }
    const hadServer = await this.#release(queued.key, queued.unlock.mutex);
    if (!hadServer && !queued.hadStart) this.#log(`leasehold: no local milvus for ${queued.key}`);
  }

  /** Stops every server this manager started (pending starts resolve null); resolves once all are gone. */
  async releaseAll(): Promise<void> {
    // Warm calls made from now on take the ordered path, so they queue behind this release.
    this.#ready.clear();
    const step = this.#order.then(() =>
      [...new Set([...this.#leases.keys(), ...this.#pending.keys()])].map((key) => {
        this.#abortPending(key);
        return this.#release(key, this.#mutexOf(key).acquire());
      }),
    );
    this.#order = step.catch(() => {});
    await Promise.all(await step);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.releaseAll();
    await this.#poolInstance?.close();
  }
}

/**
 * The process-wide `ServerManager`, like Python's `server_manager_instance`: an instance, so
 * `serverManagerInstance.startAndGetUri(path)` reads as the Python does. Importing it starts
 * nothing (no process, no timer); its pool is made on first use.
 */
export const serverManagerInstance: ServerManager = new ServerManager();
