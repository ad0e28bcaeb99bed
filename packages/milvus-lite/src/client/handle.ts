// An openMilvus handle: a view of the server's shared MilvusClient that belongs to one lease
// (open-milvus.ts makes them). It may import what client/ may.
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import type { Lease } from '@leasehold/pool';
import { MilvusLiteError, MilvusStatusError } from '../errors.js';
import type { MilvusLiteServer } from '../target/milvus-lite-server.js';

/**
 * A handle on the one `MilvusClient` shared by every `openMilvus` handle of a server, bound to its
 * own lease. Disposing it, or its `closeConnection()`, releases that lease only; the shared client
 * closes when the server stops. Any use after release throws a `MilvusLiteError` naming the path.
 */
export type LeasedMilvusClient = MilvusClient & AsyncDisposable & { readonly lease: Lease<MilvusLiteServer> };

/** The error of a handle (or an open: `opening`) whose server is gone: what happened (the LeaseRevokedError's cause), and what to do. */
export function goneError(target: string, lease: Lease<MilvusLiteServer>, cause: unknown = lease.signal.reason, opening = false): MilvusLiteError {
  const reason: unknown = lease.signal.reason;
  const why = reason instanceof Error ? (reason.cause instanceof Error ? reason.cause : reason).message.split('\n')[0] : String(reason);
  const what = opening ? `the server of ${target} went away while openMilvus connected to it` : `the server of this openMilvus handle of ${target} is gone`;
  return new MilvusLiteError(`${what} (${why}); call openMilvus(${JSON.stringify(target)}) again`, { cause });
}

/**
 * `method`, whose rejections are Errors: a status object the SDK throws (quick createCollection
 * does) becomes a `MilvusStatusError` carrying it, and a call that fails because the lease's server
 * went away while it was in flight (the SDK's raw UNAVAILABLE) says so, as a call made after does.
 */
function errorsAsErrors(name: string, method: (...args: unknown[]) => unknown, lease: Lease<MilvusLiteServer>, target: string): (...args: unknown[]) => unknown {
  const asError = (thrown: unknown): unknown => {
    // Only the SDK's raw error: leasehold's own (MilvusCallError …) may be what ended the lease.
    if (lease.signal.aborted && !(thrown instanceof MilvusLiteError)) return goneError(target, lease, thrown);
    if (thrown instanceof Error || typeof thrown !== 'object' || thrown === null) return thrown;
    // A whole response (insert throws its failed DescribeCollection answer) or a bare status.
    const status = (thrown as { status?: unknown }).status;
    return new MilvusStatusError(name, (typeof status === 'object' && status !== null ? status : thrown) as Record<string, unknown>);
  };
  return (...args) => {
    const result = method(...args);
    return result instanceof Promise ? result.catch((thrown: unknown) => Promise.reject(asError(thrown))) : result;
  };
}

/**
 * A delegating view of `client` that belongs to one lease. Its methods are the client's, bound to
 * it, under their own names; an object a method returns that holds the client as its `parent` (SDK
 * 3.x's `session(clusterId)`) gets this handle instead, so that it, too, ends with the lease.
 */
export function handleOf(client: MilvusClient, lease: Lease<MilvusLiteServer>, target: string): LeasedMilvusClient {
  let released = false;
  const release = async (): Promise<void> => {
    released = true;
    await lease.release();
  };
  const usable = (): void => {
    if (released) throw new MilvusLiteError(`this openMilvus handle of ${target} was released; call openMilvus(${JSON.stringify(target)}) again`);
    // Its server is gone (it died, its file was replaced, a write failed inside it): say why, not the closed client's "pool is draining".
    if (lease.signal.aborted) throw goneError(target, lease);
  };
  const bound = new Map<PropertyKey, unknown>();
  const handle: LeasedMilvusClient = new Proxy(client, {
    get(shared, property) {
      if (property === 'lease') return lease;
      if (property === Symbol.asyncDispose || property === 'closeConnection') return release;
      if (property === 'then') return undefined; // not a thenable: `await openMilvus()` yields the handle
      // The class itself, not a bound wrapper: `client.constructor === MilvusClient`, as for the SDK's own client.
      if (property === 'constructor') return Reflect.get(shared, property, shared);
      usable();
      const value: unknown = Reflect.get(shared, property, shared);
      if (typeof value !== 'function') return value;
      let method = bound.get(property);
      if (method === undefined) {
        const call = errorsAsErrors(String(property), (value as (...args: unknown[]) => unknown).bind(shared), lease, target);
        const wrapped = (...args: unknown[]): unknown => {
          const result = call(...args);
          if (typeof result === 'object' && result !== null && (result as { parent?: unknown }).parent === shared) (result as { parent: unknown }).parent = handle;
          return result;
        };
        bound.set(property, (method = Object.defineProperty(wrapped, 'name', { value: (value as { name: string }).name })));
      }
      return method;
    },
    has(shared, property) {
      return property === 'lease' || property === Symbol.asyncDispose || Reflect.has(shared, property);
    },
    set(shared, property, value) {
      usable();
      return Reflect.set(shared, property, value, shared);
    },
    defineProperty(shared, property, descriptor) {
      usable();
      return Reflect.defineProperty(shared, property, descriptor);
    },
  }) as LeasedMilvusClient;
  return handle;
}
