import type { Lease, LeasePool } from '@leasehold/pool';
import { createMilvusLitePool, type MilvusLitePoolOptions } from './milvus-lite-pool.js';
import type { MilvusLiteServer } from './milvus-lite-server.js';
import { normalizeTarget } from './remote-uri.js';

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
  readonly #leases = new Map<string, Promise<Lease<MilvusLiteServer> | null>>();
  // Paths as callers spelled them → servers already running: a warm call resolves no path.
  readonly #ready = new Map<string, Lease<MilvusLiteServer>>();
  readonly #log: (message: string) => void;

  constructor(options: ServerManagerOptions = {}) {
    const { log, ...poolOptions } = options;
    this.#poolOptions = poolOptions;
    this.#log = log ?? ((message) => console.error(message));
  }

  /**
   * Starts the server of `path` (once) and resolves its URI, or `null` with the reason logged.
   * `args` is the Python API's server address; leasehold always serves on a private unix socket
   * (or 127.0.0.1 for milvus-lite 3.x), so a given address is refused with a logged reason.
   */
  // Created on first use, so constructing a manager (or importing the instance) starts nothing.
  get #pool(): LeasePool<MilvusLiteServer> {
    return (this.#poolInstance ??= createMilvusLitePool(this.#poolOptions));
  }

  async startAndGetUri(path: string, args?: string): Promise<string | null> {
    if (args !== undefined) {
      this.#log(`leasehold: startAndGetUri(${JSON.stringify(path)}): a server address (${String(args)}) is not supported; leasehold serves on a private socket`);
      return null;
    }
    const ready = this.#ready.get(path);
    if (ready !== undefined && !ready.signal.aborted) return ready.resource.uri;
    let key: string;
    try {
      key = await normalizeTarget(path);
    } catch (error) {
      this.#log(`leasehold: cannot start milvus-lite for ${String(path)}: ${(error as Error).message}`);
      return null;
    }
    let pending = this.#leases.get(key);
    if (pending === undefined) {
      pending = this.#pool.acquire(key).then(
        (lease) => {
          lease.signal.addEventListener('abort', () => {
            if (this.#leases.get(key) === pending) this.#leases.delete(key);
            this.#forget(lease);
            void lease.release();
          });
          return lease;
        },
        (error: unknown) => {
          this.#leases.delete(key);
          this.#log(`leasehold: cannot start milvus-lite for ${key}: ${(error as Error).message}`);
          return null;
        },
      );
      this.#leases.set(key, pending);
    }
    const lease = await pending;
    if (lease === null) return null;
    if (this.#leases.get(key) === pending) this.#ready.set(path, lease);
    return lease.resource.uri;
  }

  #forget(lease: Lease<MilvusLiteServer>): void {
    for (const [path, held] of this.#ready) if (held === lease) this.#ready.delete(path);
  }

  /** Stops the server of `path`; logs a warning if there is none. */
  async releaseServer(path: string): Promise<void> {
    const key = await normalizeTarget(path).catch(() => String(path));
    const pending = this.#leases.get(key);
    if (pending === undefined) {
      this.#log(`leasehold: no local milvus for ${key}`);
      return;
    }
    this.#leases.delete(key);
    const lease = await pending;
    if (lease === null) return;
    this.#forget(lease);
    await lease.release();
  }

  /** Stops every server this manager started. */
  async releaseAll(): Promise<void> {
    const pending = [...this.#leases.values()];
    this.#leases.clear();
    this.#ready.clear();
    await Promise.all(pending.map(async (p) => (await p)?.release()));
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
