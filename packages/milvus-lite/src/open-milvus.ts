import type { MilvusClient, ClientConfig } from '@zilliz/milvus2-sdk-node';
import type { Lease, LeasePool } from '@leasehold/pool';
import { MilvusLiteError } from './errors.js';
import { milvusClientConfig } from './milvus-client-config.js';
import { createMilvusLitePool } from './milvus-lite-pool.js';
import { shareRequested } from './share/shared-pool.js';
import type { MilvusLiteServer } from './milvus-lite-server.js';
import { attachToServer } from './server-attachments.js';

/** Options of `openMilvus`. */
export interface OpenMilvusOptions {
  /**
   * The pool to lease from; default a process-wide pool shared by every `openMilvus` call, whose
   * servers stop when their last handle is released. For a handle per request, pass a pool with an
   * `idleTimeoutMs` (or hold one handle for the app's life) so the server and client stay warm.
   */
  readonly pool?: LeasePool<MilvusLiteServer>;
  /**
   * Passed to `new MilvusClient` through `milvusClientConfig` besides `address`. The client is
   * shared by every handle of a server, so the options of the open that created it apply.
   */
  readonly client?: Omit<ClientConfig, 'address'>;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /**
   * Attach to the database's server shared with other processes (see `createMilvusLitePool`'s
   * `share`); ignored when `pool` is given. Default `LEASEHOLD_SHARE=1`, else false.
   */
  readonly share?: boolean;
}

/**
 * A handle on the one `MilvusClient` shared by every `openMilvus` handle of a server, bound to its
 * own lease. Disposing it, or its `closeConnection()`, releases that lease only; the shared client
 * closes when the server stops. Any use after release throws a `MilvusLiteError` naming the path.
 */
export type LeasedMilvusClient = MilvusClient & AsyncDisposable & { readonly lease: Lease<MilvusLiteServer> };

type Sdk = typeof import('@zilliz/milvus2-sdk-node');

let defaultPool: LeasePool<MilvusLiteServer> | undefined;
let defaultSharedPool: LeasePool<MilvusLiteServer> | undefined;
let sdkLoading: Promise<Sdk> | undefined;
const sharedClients = new WeakMap<MilvusLiteServer, Promise<MilvusClient>>();

function loadSdk(): Promise<Sdk> {
  return (sdkLoading ??= import('@zilliz/milvus2-sdk-node').catch((error: unknown) => {
    sdkLoading = undefined;
    throw new MilvusLiteError('openMilvus needs @zilliz/milvus2-sdk-node: npm install @zilliz/milvus2-sdk-node', { cause: error });
  }));
}

/** The server's shared client: made once (concurrent opens wait for the same one), closed when the server stops. */
function sharedClient(server: MilvusLiteServer, sdk: Promise<Sdk>, config: OpenMilvusOptions['client']): Promise<MilvusClient> {
  let client = sharedClients.get(server);
  if (client === undefined) {
    client = (async () => {
      const made = new (await sdk).MilvusClient(milvusClientConfig(server.uri, config));
      attachToServer(server, async () => {
        await made.closeConnection();
      });
      await made.connectPromise;
      return made;
    })();
    sharedClients.set(server, client);
    // A failed connect is not remembered: the next open tries again.
    client.catch(() => sharedClients.delete(server));
  }
  return client;
}

/** A delegating view of `client` that belongs to one lease. */
function handleOf(client: MilvusClient, lease: Lease<MilvusLiteServer>, target: string): LeasedMilvusClient {
  let released = false;
  const release = async (): Promise<void> => {
    released = true;
    await lease.release();
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(client, {
    get(shared, property) {
      if (property === 'lease') return lease;
      if (property === Symbol.asyncDispose || property === 'closeConnection') return release;
      if (property === 'then') return undefined; // not a thenable: `await openMilvus()` yields the handle
      if (released) throw new MilvusLiteError(`this openMilvus handle of ${target} was released; call openMilvus(${JSON.stringify(target)}) again`);
      const value: unknown = Reflect.get(shared, property, shared);
      if (typeof value !== 'function') return value;
      let method = bound.get(property);
      if (method === undefined) bound.set(property, (method = (value as (...args: unknown[]) => unknown).bind(shared)));
      return method;
    },
    set(shared, property, value) {
      if (released) throw new MilvusLiteError(`this openMilvus handle of ${target} was released; call openMilvus(${JSON.stringify(target)}) again`);
      return Reflect.set(shared, property, value, shared);
    },
  }) as LeasedMilvusClient;
}

/**
 * Opens a Milvus database the way Python's `MilvusClient("./app.db")` does: leases the server of
 * a local path (started if needed, while the SDK loads; remote URIs pass through) and resolves a
 * handle on the one `MilvusClient` of `@zilliz/milvus2-sdk-node` that every handle of that server
 * shares, built with `milvusClientConfig` once the server answers. A warm open (server and client
 * up) costs a few microseconds, so a handle per request is fine. Rejects with what the pool's
 * `acquire` rejects with (`StartError`, `KeyLockedError`, …) or a `MilvusLiteError` when the SDK
 * is not installed.
 *
 * @example
 * await using client = await openMilvus('./app.db');
 * await client.createCollection({ collection_name: 'docs', dimension: 8 });
 */
export async function openMilvus(pathOrUri: string, options: OpenMilvusOptions = {}): Promise<LeasedMilvusClient> {
  const sdk = loadSdk();
  sdk.catch(() => {}); // observed below; never an unhandled rejection while the server starts
  const pool = options.pool ?? (shareRequested(options.share) ? (defaultSharedPool ??= createMilvusLitePool({ share: true })) : (defaultPool ??= createMilvusLitePool({ share: false })));
  const lease = await pool.acquire(
    pathOrUri,
    options.signal === undefined && options.timeoutMs === undefined
      ? undefined
      : { ...(options.signal ? { signal: options.signal } : {}), ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) },
  );
  try {
    const client = await sharedClient(lease.resource, sdk, options.client);
    return handleOf(client, lease, pathOrUri);
  } catch (error) {
    await lease.release();
    throw error;
  }
}
