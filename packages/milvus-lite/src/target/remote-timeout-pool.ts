import { LeasePool, type AcquireOptions, type Acquisition } from '@leasehold/pool';
import type { MilvusLiteServer } from './milvus-lite-server.js';
import { explainRemoteTimeout } from './remote-probe.js';
import { isRemoteUri } from './remote-uri.js';

/**
 * The adapter's `LeasePool`: an acquire of a remote URI that gives up on its `timeoutMs` rejects
 * with a `RemoteUnreachableError` naming the remote and what its probe met (refused, no TLS
 * handshake, no reply…), its `cause` the pool's `AcquireTimeoutError`. Every other acquire, the hot
 * path included, is the pool's own.
 */
export class MilvusLiteLeasePool extends LeasePool<MilvusLiteServer> {
  override acquire(key: unknown, options?: AcquireOptions): Acquisition<MilvusLiteServer> {
    const acquisition = super.acquire(key, options);
    if (options?.timeoutMs === undefined || typeof key !== 'string' || !isRemoteUri(key)) return acquisition;
    const explained = acquisition.catch((error: unknown) => {
      throw explainRemoteTimeout(key, error);
    }) as Acquisition<MilvusLiteServer>;
    explained[Symbol.asyncDispose] = () => acquisition[Symbol.asyncDispose]();
    return explained;
  }
}
