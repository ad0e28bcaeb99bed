import { basename, dirname, join } from 'node:path';
import { LeasePool, type LeasePoolOptions, type LockOptions } from '@leasehold/pool';
import { findOrInstall } from './find-or-install.js';
import { MilvusLiteServer, type MilvusLiteServerOptions } from './milvus-lite-server.js';
import { isRemoteUri, normalizeTarget } from './remote-uri.js';
import { createSharedPool, shareRequested } from './share/shared-pool.js';
import { kPoolOptions, rejectUnknownOptions } from './options.js';

/** Options of `createMilvusLitePool`: where milvus-lite is, timeouts, and the pool's own knobs. */
export interface MilvusLitePoolOptions
  extends MilvusLiteServerOptions,
    Pick<LeasePoolOptions<MilvusLiteServer>, 'idleTimeoutMs' | 'maxResources' | 'maxIdle' | 'captureStacks' | 'onError'> {
  /**
   * Add proper-lockfile's lock (`.<name>.leasehold` beside the database) to the engine's own.
   * Default false: milvus-lite's kernel lock (fcntl on `.<name>.lock` for 2.x, flock on `LOCK` for
   * 3.x) already excludes other processes, Python's ServerManager included, and the kernel drops it
   * the moment its owner dies, where a proper-lockfile lock left by a SIGKILLed owner blocks for
   * `staleMs`. Turn it on for network filesystems, where fcntl locks may not reach other hosts.
   */
  readonly lock?: boolean | LockOptions;
  /**
   * Share each database's server with the other processes of this user that open it (same device
   * and inode), through a per-database supervisor process, instead of `KeyLockedError`. Default:
   * `LEASEHOLD_SHARE=1` in the environment, else false. See docs/sharing.md.
   */
  readonly share?: boolean;
}

/**
 * A `LeasePool` of milvus-lite servers, one per database path: the first `acquire(path)` starts a
 * server, concurrent acquires share it, the last release stops it (at once, or after
 * `idleTimeoutMs`). `lease.resource` is a started `MilvusLiteServer` (`uri`, `pid`, `dbPath`,
 * `engine`). Remote URIs (`http://…`, `host:port`) pass through untouched. A server that dies while
 * leased aborts its leases' signals with a `ServerExitedError`, one whose database file is deleted or
 * replaced with a `DatabaseReplacedError` (and is stopped); the next acquire starts a new one.
 *
 * @example
 * const pool = createMilvusLitePool({ idleTimeoutMs: 30_000 });
 * await using lease = await pool.acquire('./tenants/acme.db');
 * const client = new MilvusClient({ address: lease.resource.uri });
 */
export function createMilvusLitePool(options: MilvusLitePoolOptions = {}): LeasePool<MilvusLiteServer> {
  rejectUnknownOptions('createMilvusLitePool', options, kPoolOptions);
  if (shareRequested(options.share)) return createSharedPool(options);
  const { idleTimeoutMs, maxResources, maxIdle, captureStacks, onError, lock = false, share: _share, ...serverOptions } = options;
  const stopTimeoutMs = serverOptions.stopTimeoutMs ?? 10_000;
  const running = new Map<string, MilvusLiteServer>();
  return new LeasePool<MilvusLiteServer>({
    ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
    ...(maxResources === undefined ? {} : { maxResources }),
    ...(maxIdle === undefined ? {} : { maxIdle }),
    ...(captureStacks === undefined ? {} : { captureStacks }),
    ...(onError === undefined ? {} : { onError }),
    // The server's own SIGKILL fallback comes first; the pool only gives up after it.
    stopTimeoutMs: stopTimeoutMs + 5000,
    // A cold acquire compares the running server's database with the file now at its path, so a
    // database deleted or replaced under it is never served (the watch usually noticed already).
    normalizeKey: async (raw: unknown) => {
      const key = await normalizeTarget(raw);
      running.get(key)?.verifyDatabase();
      return key;
    },
    ...(lock
      ? {
          lock: {
            lockfilePath: (key: string) => join(dirname(key), `.${basename(key)}.leasehold`),
            ...(lock === true ? {} : lock),
            appliesTo: (key: string) => !isRemoteUri(key),
          },
        }
      : {}),
    async start(key, { signal, lost }) {
      const installation = serverOptions.installation ?? (isRemoteUri(key) ? undefined : await findOrInstall(serverOptions));
      const server = new MilvusLiteServer(key, { ...serverOptions, ...(installation ? { installation } : {}) });
      await server.start({ signal });
      if (server.engine !== 'remote') {
        running.set(key, server);
        server.onLost(lost);
      }
      return server;
    },
    async stop(server, { key }) {
      if (running.get(key) === server) running.delete(key);
      await server.stop();
    },
  });
}
