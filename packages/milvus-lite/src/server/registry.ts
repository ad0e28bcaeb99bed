import { fileURLToPath } from 'node:url';
import type { Installation } from '../engine.js';
import { ServerConflictError } from '../errors.js';
import { packageRoot, packageVersion } from './package-root.js';

/**
 * One registry of running servers per process (per thread: `globalThis` is a thread's), shared by
 * `openMilvus`, `ServerManager`, `serverManagerInstance`, every `createMilvusLitePool` pool and every
 * copy of this package that speaks the same registry protocol: one server per database file, each
 * caller holding its own reference; the last reference stops it. The registry lives on `globalThis`
 * under a versioned `Symbol.for` key; a copy with another protocol has its own registry, and is
 * listed under an unversioned key so that an "in use" error can name it.
 */
const kRegistryKey = Symbol.for('@leasehold/milvus-lite:registry@1');
const kCopiesKey = Symbol.for('@leasehold/milvus-lite:copies');

/** What every copy of the package finds of the others (an unversioned shape: keep it stable). */
interface CopyRecord {
  readonly version: string;
  readonly path: string;
  readonly registry: symbol;
  /** Who in that copy holds the lock file at this path, if it does. */
  readonly holds: (lockPath: string) => string | undefined;
}

/** What a registered server was opened with; a later open must agree. */
export interface ServerTerms {
  readonly engine: string;
  readonly version: string;
  readonly lock: boolean;
  readonly share: boolean;
}

/**
 * What the registry needs of a server it holds (a `MilvusLiteServer` or a `SharedServer`): an
 * interface, so that the registry sits below the server classes (the native engine notes its locks here).
 */
export interface RegisteredServer {
  onLost(listener: (reason: Error) => void): unknown;
  readonly exited: Promise<unknown>;
  stop(): Promise<unknown>;
  verifyDatabase(): boolean;
}

interface Entry {
  readonly key: string;
  readonly terms: ServerTerms;
  readonly holders: Map<string, number>;
  refs: number;
  server: RegisteredServer | undefined;
  starting: Promise<RegisteredServer>;
  stopping: Promise<unknown> | undefined;
  readonly abort: AbortController;
}

interface Registry {
  readonly servers: Map<string, Entry>;
  /** Lock files this thread holds (native engine), by path: who holds each. */
  readonly locks: Map<string, () => string>;
  /** What lives and dies with a server (openMilvus's shared client), for every copy. */
  readonly attachments: WeakMap<object, Array<() => Promise<void>>>;
}

// A copy bundled into an application has no package directory: the module's own URL names it then.
const kPackage = { version: packageVersion(), path: packageRoot ?? fileURLToPath(new URL('.', import.meta.url)) };

let mine: Registry | undefined;

/** This thread's registry, made (and this copy listed) on first use. */
export function registry(): Registry {
  if (mine !== undefined) return mine;
  const global = globalThis as Record<symbol, unknown>;
  mine = (global[kRegistryKey] ??= { servers: new Map(), locks: new Map(), attachments: new WeakMap() }) as Registry;
  const copies = (global[kCopiesKey] ??= []) as CopyRecord[];
  const locks = mine.locks;
  if (!copies.some((c) => c.path === kPackage.path)) copies.push({ ...kPackage, registry: kRegistryKey, holds: (lockPath) => locks.get(lockPath)?.() });
  return mine;
}

/**
 * Who in this thread holds the lock file at `lockPath` (a copy of the package with another registry,
 * with its version and path; a `MilvusLiteServer` used directly), or undefined.
 */
export function heldInThisProcess(lockPath: string): string | undefined {
  const copies = ((globalThis as Record<symbol, unknown>)[kCopiesKey] ?? []) as CopyRecord[];
  for (const copy of copies) {
    const who = copy.holds(lockPath);
    if (who === undefined) continue;
    if (copy.registry === kRegistryKey) return who;
    return `${who}, in another copy of @leasehold/milvus-lite (version ${copy.version} at ${copy.path}) whose registry this copy (version ${kPackage.version} at ${kPackage.path}) cannot share`;
  }
  return undefined;
}

/** The running server of `key` in this process, if any (to check its database on a cold acquire). */
export function registeredServer(key: string): RegisteredServer | undefined {
  return registry().servers.get(key)?.server;
}

/** One reference to a registered server; `release()` (once) stops it if it was the last. */
export interface ServerRef<S extends RegisteredServer = RegisteredServer> {
  readonly server: S;
  release(): Promise<void>;
}

function describeHolders(entry: Entry): string {
  return [...entry.holders.keys()].join(', ');
}

function conflict(key: string, entry: Entry, terms: ServerTerms, holder: string): ServerConflictError | undefined {
  for (const option of ['share', 'engine', 'version', 'lock'] as const) {
    if (entry.terms[option] !== terms[option]) return new ServerConflictError(key, option, String(terms[option]), String(entry.terms[option]), holder, describeHolders(entry));
  }
  return undefined;
}

/** The terms a start with these options asks for. */
export function termsOf(installation: Installation | undefined, options: { readonly lock?: unknown; readonly share?: boolean }): ServerTerms {
  return { engine: installation?.engine ?? 'remote', version: installation?.version ?? '', lock: Boolean(options.lock), share: options.share ?? false };
}

/**
 * A reference to the server of `key` (normalized), started with `start` by the first caller; later
 * callers whose `terms` differ get a `ServerConflictError`. A caller that aborts while the server
 * starts gives its reference back; when none is left, the start is aborted.
 */
export async function acquireServer<S extends RegisteredServer>(
  key: string,
  terms: ServerTerms,
  holder: string,
  start: (signal: AbortSignal) => Promise<S>,
  signal?: AbortSignal,
): Promise<ServerRef<S>> {
  const { servers } = registry();
  for (;;) {
    signal?.throwIfAborted();
    const entry = servers.get(key);
    if (entry?.stopping !== undefined) {
      await entry.stopping; // never two servers for one key: a start waits for the stop
      continue;
    }
    const error = entry === undefined ? undefined : conflict(key, entry, terms, holder);
    if (error !== undefined) throw error;
    const taken = entry ?? newEntry(key, terms, start);
    taken.refs++;
    taken.holders.set(holder, (taken.holders.get(holder) ?? 0) + 1);
    const release = once(() => releaseRef(taken, holder));
    try {
      const server = await (signal === undefined ? taken.starting : raceAbort(taken.starting, signal));
      return { server: server as S, release };
    } catch (error) {
      await release();
      throw error;
    }
  }
}

function newEntry(key: string, terms: ServerTerms, start: (signal: AbortSignal) => Promise<RegisteredServer>): Entry {
  const { servers } = registry();
  const abort = new AbortController();
  const entry: Entry = { key, terms, holders: new Map(), refs: 0, server: undefined, starting: undefined as unknown as Promise<RegisteredServer>, stopping: undefined, abort };
  entry.starting = start(abort.signal).then(
    (server) => {
      entry.server = server;
      // A lost server (it exited, its database or lock file went) is forgotten at once: the next acquire starts afresh.
      const forget = (): void => void (servers.get(key) === entry && servers.delete(key));
      server.onLost(forget);
      void server.exited.then(forget);
      return server;
    },
    (error: unknown) => {
      if (servers.get(key) === entry) servers.delete(key);
      throw error;
    },
  );
  entry.starting.catch(() => {});
  servers.set(key, entry);
  return entry;
}

async function releaseRef(entry: Entry, holder: string): Promise<void> {
  entry.refs--;
  const count = (entry.holders.get(holder) ?? 1) - 1;
  if (count > 0) entry.holders.set(holder, count);
  else entry.holders.delete(holder);
  if (entry.refs > 0) return;
  if (entry.server === undefined) {
    entry.abort.abort(new Error('every caller of this start has left'));
    await entry.starting.catch(() => {});
  }
  const servers = registry().servers;
  const server = entry.server;
  entry.stopping = server === undefined ? Promise.resolve() : server.stop();
  try {
    await entry.stopping;
  } finally {
    if (servers.get(entry.key) === entry) servers.delete(entry.key);
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Notes that this thread holds the lock file of `dbPath` at `lockPath`, for "in use" errors (see
 * `heldInThisProcess`); returns the function that forgets it.
 */
export function noteLock(lockPath: string, dbPath: string): () => void {
  const { locks, servers } = registry();
  // A registry start made its entry before it took the lock; a MilvusLiteServer used directly has none.
  const entry = servers.get(dbPath);
  const who = (): string =>
    entry === undefined ? 'a MilvusLiteServer used directly, outside the registry' : `the server that ${describeHolders(entry)} hold${entry.holders.size === 1 ? 's' : ''}`;
  locks.set(lockPath, who);
  return () => {
    if (locks.get(lockPath) === who) locks.delete(lockPath);
  };
}
