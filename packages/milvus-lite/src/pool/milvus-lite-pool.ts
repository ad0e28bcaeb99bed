// The pool layer: createMilvusLitePool (one server per database path, reference counted) and
// ServerManager (server-manager.ts). It chooses local or remote and hands the installation down
// (through target/), and turns to share/ for `share: true`. It may import share/, options.ts,
// target/, server/, install/ and the shared root files, never testing/, client/ or cli/.
import { basename, dirname, join } from 'node:path';
import type { LeasePool } from '@leasehold/pool';
import { findOrInstall } from '../install/find-or-install.js';
import { MilvusLiteServer } from '../target/milvus-lite-server.js';
import { MilvusLiteLeasePool } from '../target/remote-timeout-pool.js';
import { isRemoteUri, normalizeTarget } from '../target/remote-uri.js';
import { createSharedPool, shareRequested } from '../share/shared-pool.js';
import { acquireServer, registeredServer, termsOf, type ServerRef } from '../server/registry.js';
import { kPoolOptions, rejectUnknownOptions, type MilvusLitePoolOptions } from '../options.js';

export type { MilvusLitePoolOptions };

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
  return createRegisteredPool(options, 'a createMilvusLitePool pool');
}

/**
 * `createMilvusLitePool`, for a caller named `holder` in "in use" and conflict errors ('openMilvus',
 * 'serverManagerInstance', …). Its servers are references into the process-wide registry.
 */
export function createRegisteredPool(options: MilvusLitePoolOptions, holder: string): LeasePool<MilvusLiteServer> {
  rejectUnknownOptions('createMilvusLitePool', options, kPoolOptions);
  if (shareRequested(options.share)) return createSharedPool(options, holder);
  const { idleTimeoutMs, maxResources, maxIdle, captureStacks, onError, lock = false, share: _share, ...serverOptions } = options;
  const stopTimeoutMs = serverOptions.stopTimeoutMs ?? 10_000;
  // This pool's reference to each server it holds, and the removal of its lost listener.
  const refs = new Map<string, { ref: ServerRef; unlisten: () => void }>();
  return new MilvusLiteLeasePool({
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
      registeredServer(key)?.verifyDatabase();
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
      if (isRemoteUri(key)) return new MilvusLiteServer(key, serverOptions).start({ signal });
      const installation = serverOptions.installation ?? (await findOrInstall(serverOptions));
      const ref = await acquireServer(key, termsOf(installation, { lock }), holder, (startSignal) => new MilvusLiteServer(key, { ...serverOptions, installation }).start({ signal: startSignal }), signal);
      refs.set(key, { ref, unlisten: ref.server.onLost(lost) });
      return ref.server;
    },
    async stop(server, { key }) {
      const held = refs.get(key);
      if (held === undefined || held.ref.server !== server) return void (await server.stop()); // a remote URI's
      refs.delete(key);
      held.unlisten();
      await held.ref.release();
    },
  });
}
