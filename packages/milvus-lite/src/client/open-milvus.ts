// The client layer: openMilvus (a leased MilvusClient per database), the SDK compatibility layer
// (milvus-client-config.ts, call-guard.ts, request-shapes.ts) and load-collection.ts. It may import
// share/, pool/, options.ts, target/, server/, install/ and the shared root files, never cli/ or testing/.
import type { MilvusClient, ClientConfig } from '@zilliz/milvus2-sdk-node';
import type { Lease, LeasePool } from '@leasehold/pool';
import { loadWithoutSleep } from './load-collection.js';
import { loadSdk, type Sdk } from './sdk.js';
import { goneError, handleOf, type LeasedMilvusClient } from './handle.js';
import { milvusClientConfig } from './milvus-client-config.js';
import { createRegisteredPool } from '../pool/milvus-lite-pool.js';
import { kPoolOptions, rejectUnknownOptions } from '../options.js';
import { createSharedPool, shareRequested } from '../share/shared-pool.js';
import type { MilvusLiteServer } from '../target/milvus-lite-server.js';
import { attachToServer, onServerAddress } from '../server/server-attachments.js';
import { isRemoteUri, normalizeTarget } from '../target/remote-uri.js';
import { checkRemoteTrust, explainRemoteTimeout, useRemoteTrust } from '../target/remote-probe.js';

// How long the TLS handshake that checks a remote's certificate against the client's trust may take.
const kTrustCheckMs = 10_000;

/** Options of `openMilvus`. */
export interface OpenMilvusOptions {
  /**
   * The pool to lease from (it keeps its own `idleTimeoutMs`). Default: a process-wide pool shared
   * by every `openMilvus` call, which keeps a server and its client warm for
   * `LEASEHOLD_IDLE_TIMEOUT_MS` (default 30 000 ms) after its last handle is released, so a
   * handle per request costs microseconds at any concurrency; at most 8 servers stay idle (the
   * least recently released stops first). Its timer never keeps the process alive. Meanwhile the
   * database stays locked: another process (Python's `MilvusClient("./app.db")` included) gets
   * "in use" until the idle time ends. `LEASEHOLD_IDLE_TIMEOUT_MS=0`, or a pool of your own with
   * `idleTimeoutMs: 0`, stops the server at the last release.
   */
  readonly pool?: LeasePool<MilvusLiteServer>;
  /**
   * Passed to `new MilvusClient` through `milvusClientConfig` besides `address`. The client is
   * shared by every handle of a server, so the options of the open that created it apply.
   */
  readonly client?: Omit<ClientConfig, 'address'>;
  /** Aborts the open (the pool's acquire `signal`): it rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * How long to wait for the server, in ms: the pool's acquire `timeoutMs` (an `AcquireTimeoutError`;
   * for a remote URI a `RemoteUnreachableError` saying what its probe met). Not bounded by it: the
   * SDK's load and the client's connect once the server answers. The timer runs on the event loop,
   * which a cold open's own SDK load (synchronous, ~0.2–0.7 s on a 2-core machine) blocks: a start
   * that completes meanwhile is returned, even if the timer's time passed. Default: none.
   */
  readonly timeoutMs?: number;
  /**
   * Attach to the database's server shared with other processes (see `createMilvusLitePool`'s
   * `share`); ignored when `pool` is given. Default `LEASEHOLD_SHARE=1`, else false.
   */
  readonly share?: boolean;
}

// Checked against OpenMilvusOptions at compile time (a missing or extra key is a type error).
const kOpenMilvusOptionKeys: Readonly<Record<keyof OpenMilvusOptions, true>> = { pool: true, client: true, signal: true, timeoutMs: true, share: true };
const kOpenMilvusOptions: ReadonlySet<string> = new Set(Object.keys(kOpenMilvusOptionKeys));
/** Where a pool's own option, passed to openMilvus, goes instead. */
const poolOptionHint = (key: string): string | undefined => (kPoolOptions.has(key) ? `${key} is an option of the pool: openMilvus(path, { pool: createMilvusLitePool({ ${key}: … }) })` : undefined);

export type { LeasedMilvusClient } from './handle.js';

/** How long the default pool keeps a server after its last handle's release, in ms, unless `LEASEHOLD_IDLE_TIMEOUT_MS` says otherwise. */
export const kDefaultIdleTimeoutMs = 30_000;
/** At most this many servers of the default pool stay idle: one more stops the least recently released. */
export const kMaxIdleServers = 8;

/** `LEASEHOLD_IDLE_TIMEOUT_MS` (ms, ≥ 0), else kDefaultIdleTimeoutMs; a bad value is a RangeError naming it. */
function defaultIdleTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['LEASEHOLD_IDLE_TIMEOUT_MS'];
  if (raw === undefined || raw === '') return kDefaultIdleTimeoutMs;
  const ms = Number(raw);
  // Node's timers hold at most 2^31 - 1 ms; past it the pool refuses the option (a timer would fire at once).
  if (!(ms >= 0) || (ms > 2 ** 31 - 1 && ms !== Infinity)) {
    throw new RangeError(`LEASEHOLD_IDLE_TIMEOUT_MS must be a number of milliseconds from 0 to 2147483647 (~24.8 days), or Infinity, got ${JSON.stringify(raw)}`);
  }
  return ms;
}

/** openMilvus's default pools, without and with `share`, each made on first use. */
const defaultPools: { own?: LeasePool<MilvusLiteServer> | undefined; shared?: LeasePool<MilvusLiteServer> | undefined } = {};

/**
 * openMilvus's default pool (`shared`: of `share: true` opens), made on first use: idle servers
 * stay warm for `LEASEHOLD_IDLE_TIMEOUT_MS`, at most 8. With `share` it is this process's
 * attachment to each shared server, and the client on it, that stays warm (a handle per request
 * re-attached and built a new client each time: ~0.3-1 s per request); the supervisor's own idle
 * wait stays 0, so once no process is attached the server stops.
 */
function theDefaultPool(shared: boolean): LeasePool<MilvusLiteServer> {
  const slot = shared ? 'shared' : 'own';
  const made = defaultPools[slot];
  if (made !== undefined) return made;
  const warm = { idleTimeoutMs: defaultIdleTimeoutMs(), maxIdle: kMaxIdleServers };
  const pool = shared ? createSharedPool({}, 'openMilvus', warm) : createRegisteredPool({ share: false, ...warm }, 'openMilvus');
  // The idle timers are unref'd, so a script's work done means exit now; when nothing is leased,
  // stop the idle servers first, as a stop at the last release did (their lock files go with them).
  // process.exit() and signals skip this: the servers die with this process's lock, as always.
  process.on('beforeExit', () => {
    if (defaultPools[slot] !== pool || pool.stats().resources === 0 || pool.stats().leases > 0) return;
    defaultPools[slot] = undefined;
    void pool.close();
  });
  return (defaultPools[slot] = pool);
}
const sharedClients = new WeakMap<MilvusLiteServer, Promise<MilvusClient>>();
/** A client of `uri` built (protobufs loaded) but not connected: `connect()` once the server answers. */
type EarlyClient = Promise<{ readonly uri: string; readonly client: MilvusClient }>;

function buildClient(sdk: Sdk, uri: string, config: OpenMilvusOptions['client'], milvusLite: boolean): MilvusClient {
  // __SKIP_CONNECT__ (SDK 2.4 to 3.x): the constructor loads protobufs only; nothing dials a socket
  // that is not listening yet, so grpc-js never enters its reconnect backoff.
  return new sdk.MilvusClient({ ...milvusClientConfig(uri, { ...config, milvusLite }), __SKIP_CONNECT__: true } as ClientConfig);
}

/** Early clients by address, one per start however many opens wait for it, until adopted or dropped. */
const earlyClients = new Map<string, EarlyClient>();

/** Closes `early` unless it was adopted (a start that failed, or a server whose client exists already). */
function dropEarly(early: EarlyClient | undefined): void {
  void early?.then(({ uri, client }) => {
    if (earlyClients.get(uri) !== early) return;
    earlyClients.delete(uri);
    return client.closeConnection();
  }).catch(() => {});
}

/**
 * The server's shared client: made once (concurrent opens wait for the same one), closed when the
 * server stops. An `early` client built for this server's address while it started is adopted and
 * connected now that the server answers; otherwise one is built now.
 */
function sharedClient(server: MilvusLiteServer, config: OpenMilvusOptions['client'], early: EarlyClient | undefined): Promise<MilvusClient> {
  let client = sharedClients.get(server);
  if (client === undefined) {
    client = (async () => {
      // An https remote whose certificate the client would not trust: said now, not as the SDK's DEADLINE_EXCEEDED.
      if (server.engine === 'remote') await checkRemoteTrust(server.uri, config?.tls, kTrustCheckMs);
      const loaded = await loadSdk('openMilvus');
      const built = await early?.catch(() => undefined);
      let made: MilvusClient;
      if (built !== undefined && built.uri === server.uri && earlyClients.get(built.uri) === early) {
        earlyClients.delete(built.uri);
        made = built.client;
      } else {
        dropEarly(early);
        made = buildClient(loaded, server.uri, config, server.engine !== 'remote');
      }
      loadWithoutSleep(made);
      attachToServer(server, async () => {
        await made.closeConnection();
      });
      made.connect(loaded.MilvusClient.sdkInfo.version);
      await made.connectPromise;
      return made;
    })();
    sharedClients.set(server, client);
    // A failed connect is not remembered: the next open tries again.
    client.catch(() => sharedClients.delete(server));
  } else if (early !== undefined) {
    // Once the client's maker has decided whether it adopts this very early client.
    void client.catch(() => {}).then(() => dropEarly(early));
  }
  return client;
}

/**
 * While the server of `pathOrUri` starts, builds its client as soon as its address is known (the
 * SDK's import and constructor are ~0.5 s of CPU, the server's start mostly waits on other
 * processes). `off()` stops listening; `early()` gives the client, if one was begun. Listening
 * begins once the path is normalized, which is before any start reaches its spawn; if not, the
 * client is simply built after the start.
 */
function watchAddress(pathOrUri: string, config: OpenMilvusOptions['client']): { off: () => void; early: () => EarlyClient | undefined } {
  let early: EarlyClient | undefined;
  let off: (() => void) | undefined;
  let done = false;
  void normalizeTarget(pathOrUri).then(
    (key) => {
      if (done) return;
      off = onServerAddress(key, (uri) => {
        let made = earlyClients.get(uri);
        if (made === undefined) {
          // After the current step: the spawn goes first, then the SDK's CPU runs while the server boots.
          made = loadSdk('openMilvus').then((loaded) => new Promise((resolve, reject) => setImmediate(() => {
            try {
              resolve({ uri, client: buildClient(loaded, uri, config, true) });
            } catch (error) {
              reject(error as Error);
            }
          })));
          made.catch(() => earlyClients.get(uri) === made && earlyClients.delete(uri));
          earlyClients.set(uri, made);
        }
        early ??= made;
      });
    },
    () => {},
  );
  return {
    off: () => {
      done = true;
      off?.();
    },
    early: () => early,
  };
}

const kNotSettledValue: unique symbol = Symbol('not settled');
const kNotSettled = Promise.resolve(kNotSettledValue);

/**
 * Opens a Milvus database the way Python's `MilvusClient("./app.db")` does: leases the server of
 * a local path (started if needed, while the SDK loads; remote URIs pass through) and resolves a
 * handle on the one `MilvusClient` of `@zilliz/milvus2-sdk-node` that every handle of that server
 * shares, built with `milvusClientConfig` once the server answers. A warm open (server and client
 * up) costs a few microseconds, so a handle per request is fine: the default pool keeps a released
 * server warm for 30 s (see `OpenMilvusOptions.pool`). Its client's `loadCollection`,
 * `loadCollectionSync` and quick `createCollection` return as soon as the load is complete (the
 * SDK's sleep 400 ms after every progress poll; this one polls after 10, 20, 40 … up to 400 ms). Rejects with what the pool's
 * `acquire` rejects with (`StartError`, `KeyLockedError`, …), a `MilvusLiteError` when the SDK
 * is not installed, or a `TypeError` for an option it does not take (a pool's own option, such as
 * `engine`, goes to `createMilvusLitePool`).
 *
 * @example
 * await using client = await openMilvus('./app.db');
 * await client.createCollection({ collection_name: 'docs', dimension: 8 });
 */
export async function openMilvus(pathOrUri: string, options: OpenMilvusOptions = {}): Promise<LeasedMilvusClient> {
  rejectUnknownOptions('openMilvus', options, kOpenMilvusOptions, poolOptionHint);
  const shared = options.pool === undefined && shareRequested(options.share);
  const pool = options.pool ?? theDefaultPool(shared);
  const acquireOptions =
    options.signal === undefined && options.timeoutMs === undefined
      ? undefined
      : { ...(options.signal ? { signal: options.signal } : {}), ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) };
  let lease: Lease<MilvusLiteServer>;
  let watch: ReturnType<typeof watchAddress> | undefined;
  if (isRemoteUri(pathOrUri)) useRemoteTrust(pathOrUri, options.client?.tls);
  try {
    const acquisition = pool.acquire(pathOrUri, acquireOptions);
    // A warm acquire has settled already (it wins the race): nothing starts, so there is no
    // address to watch for, and no path to normalize again (a realpath, most of a warm open).
    const settled = await Promise.race([acquisition, kNotSettled]);
    if (settled !== kNotSettledValue) lease = settled;
    else {
      // Where this process starts the server, the SDK loads once the server is spawned (its ~0.25 s
      // of CPU would otherwise hold back the start's steps and the spawn); elsewhere, at once.
      watch = shared || isRemoteUri(pathOrUri) ? undefined : watchAddress(pathOrUri, options.client);
      if (watch === undefined) loadSdk('openMilvus').catch(() => {}); // observed below; never an unhandled rejection meanwhile
      lease = await acquisition;
    }
  } catch (error) {
    dropEarly(watch?.early());
    throw explainRemoteTimeout(pathOrUri, error);
  } finally {
    watch?.off();
  }
  try {
    const client = await sharedClient(lease.resource, options.client, watch?.early());
    return handleOf(client, lease, pathOrUri);
  } catch (error) {
    const failure = lease.signal.aborted ? goneError(pathOrUri, lease, error, true) : error;
    await lease.release();
    throw failure;
  }
}
