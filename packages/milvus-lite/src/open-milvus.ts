import type { MilvusClient, ClientConfig } from '@zilliz/milvus2-sdk-node';
import type { Lease, LeasePool } from '@leasehold/pool';
import { MilvusLiteError } from './errors.js';
import { createMilvusLitePool } from './milvus-lite-pool.js';
import type { MilvusLiteServer } from './milvus-lite-server.js';
import { shareRequested } from './share/shared-pool.js';

/** Options of `openMilvus`. */
export interface OpenMilvusOptions {
  /** The pool to lease from; default a process-wide pool shared by every `openMilvus` call. */
  readonly pool?: LeasePool<MilvusLiteServer>;
  /** Passed to `new MilvusClient` besides `address`. */
  readonly client?: Omit<ClientConfig, 'address'>;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /**
   * Attach to the database's server shared with other processes (see `createMilvusLitePool`'s
   * `share`); ignored when `pool` is given. Default `LEASEHOLD_SHARE=1`, else false.
   */
  readonly share?: boolean;
}

/** A `MilvusClient` bound to a lease; disposing it closes the client, then releases the lease. */
export type LeasedMilvusClient = MilvusClient & AsyncDisposable & { readonly lease: Lease<MilvusLiteServer> };

let defaultPool: LeasePool<MilvusLiteServer> | undefined;
let defaultSharedPool: LeasePool<MilvusLiteServer> | undefined;

/**
 * Opens a Milvus database the way Python's `MilvusClient("./app.db")` does: leases the server of
 * a local path (started if needed; remote URIs pass through), then creates a `MilvusClient` of
 * `@zilliz/milvus2-sdk-node` once the server answers.
 *
 * @example
 * await using client = await openMilvus('./app.db');
 * await client.createCollection({ collection_name: 'docs', dimension: 8 });
 */
export async function openMilvus(pathOrUri: string, options: OpenMilvusOptions = {}): Promise<LeasedMilvusClient> {
  let sdk: typeof import('@zilliz/milvus2-sdk-node');
  try {
    sdk = await import('@zilliz/milvus2-sdk-node');
  } catch (error) {
    throw new MilvusLiteError('openMilvus needs @zilliz/milvus2-sdk-node: npm install @zilliz/milvus2-sdk-node', { cause: error });
  }
  const pool = options.pool ?? (shareRequested(options.share) ? (defaultSharedPool ??= createMilvusLitePool({ share: true })) : (defaultPool ??= createMilvusLitePool({ share: false })));
  const lease = await pool.acquire(pathOrUri, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  try {
    const client = new sdk.MilvusClient({ ...options.client, address: lease.resource.uri });
    await client.connectPromise;
    return Object.assign(client, {
      lease,
      async [Symbol.asyncDispose]() {
        try {
          await client.closeConnection();
        } finally {
          await lease.release();
        }
      },
    });
  } catch (error) {
    await lease.release();
    throw error;
  }
}
