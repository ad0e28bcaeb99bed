import { join } from 'node:path';
import genericPool from 'generic-pool';
import { findMilvusLite } from '../install/find-milvus-lite.js';
import { MilvusLiteServer, type MilvusLiteServerOptions } from '../target/milvus-lite-server.js';
import { makeOwnedTempDir, removeSocketDir } from '../server/socket-dir.js';

/** A fresh, empty database with its server running, for one test. */
export interface ScratchDatabase {
  /** What the Node SDK connects to. */
  readonly uri: string;
  /** The database path, in a temporary directory of its own. */
  readonly dbPath: string;
  readonly server: MilvusLiteServer;
}

/** Options of `createScratchPool`: milvus-lite's, plus how many servers to keep warm. */
export interface ScratchPoolOptions extends MilvusLiteServerOptions {
  /** Servers kept started and waiting besides those in use (pre-warmed). Default 1; 0 starts each on demand. */
  readonly min?: number;
  /** At most this many scratch servers at once. Default 4. */
  readonly max?: number;
  /** How long `acquire` waits for a free scratch server. Default 60000 ms. */
  readonly acquireTimeoutMs?: number;
}

/** Pre-warmed scratch databases, borrowed one per test and destroyed after it. */
export interface ScratchPool {
  /** A fresh, empty, running database: at once when one is warm. */
  acquire(): Promise<ScratchDatabase>;
  /** Stops the server and removes its temporary directory; a new one is warmed in the background. */
  destroy(database: ScratchDatabase): Promise<void>;
  /** Stops every scratch server and removes their directories. */
  drain(): Promise<void>;
}

/**
 * A generic-pool of scratch milvus-lite servers on temporary paths. Scratch databases really are
 * interchangeable and borrowed exclusively, which is generic-pool's model (leases of named
 * databases are `createMilvusLitePool`'s). Each one is destroyed after use, never reused, so every
 * test starts from an empty database.
 *
 * @example
 * const scratch = createScratchPool({ min: 2 });
 * const db = await scratch.acquire(); // already running
 * try { ... new MilvusClient({ address: db.uri }) ... } finally { await scratch.destroy(db); }
 */
export function createScratchPool(options: ScratchPoolOptions = {}): ScratchPool {
  const { min = 1, max = 4, acquireTimeoutMs = 60_000, ...serverOptions } = options;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be an integer ≥ 1, got ${String(max)}`);
  if (!Number.isInteger(min) || min < 0 || min > max) throw new RangeError(`min must be an integer from 0 to max (${max}), got ${String(min)}`);
  // generic-pool's destroy() resolves before the factory's destroy has finished; this is what waits.
  const destroying = new WeakMap<ScratchDatabase, Promise<void>>();
  let installation = serverOptions.installation ? Promise.resolve(serverOptions.installation) : undefined;
  const pool = genericPool.createPool<ScratchDatabase>(
    {
      async create() {
        installation ??= findMilvusLite(serverOptions);
        const found = await installation;
        // Owner-marked: gone at exit, or swept by the next run if this process is killed.
        const dir = await makeOwnedTempDir('leasehold-scratch-');
        const dbPath = join(dir, found.engine === 'python' ? 'scratch' : 'scratch.db');
        const server = new MilvusLiteServer(dbPath, { ...serverOptions, installation: found });
        try {
          await server.start();
        } catch (error) {
          await removeSocketDir(dir);
          throw error;
        }
        return { uri: server.uri, dbPath, server };
      },
      destroy(database) {
        const destroyed = (async () => {
          await database.server.stop();
          await removeSocketDir(join(database.dbPath, '..'));
        })();
        destroying.set(database, destroyed);
        return destroyed;
      },
    },
    { min, max, acquireTimeoutMillis: acquireTimeoutMs, autostart: min > 0 },
  );
  // generic-pool's `min` counts borrowed resources too, so with one test running nothing would be
  // warming for the next. Borrowing and returning a spare makes the pool create it in the background.
  const topUp = (): void => {
    if (pool.available < min && pool.size < max) void pool.acquire().then((spare) => pool.release(spare), () => {});
  };
  return {
    async acquire() {
      const database = await pool.acquire();
      topUp();
      return database;
    },
    async destroy(database) {
      await pool.destroy(database);
      await destroying.get(database);
    },
    async drain() {
      await pool.drain();
      await pool.clear();
    },
  };
}
