// The server layer: one milvus-lite server for one local database file, run by an engine (engines/),
// with its lock, private socket directory, identity watch and readiness check. It is given its
// installation and never finds or installs milvus-lite, nor knows remote URIs: target/ above it
// (the public MilvusLiteServer) does both. It may import install/ and the shared root files only.
import { normalizePathKey } from '@leasehold/pool';
import type { EngineName, ExitInfo, Installation, StartStepHook } from '../engine.js';
import type { Engine, EngineProcess } from './engines/contract.js';
import { DatabaseIdentity } from './database-identity.js';
import { nativeEngine } from './engines/native.js';
import { pythonEngine } from './engines/python.js';
import type { FindMilvusLiteOptions } from '../install/find-milvus-lite.js';
import { explainStartFailure } from '../install/diagnose.js';
import { announceServerAddress, closeAttachments } from './server-attachments.js';
import { DatabaseReplacedError, LockLostError, MilvusCallError, MilvusLiteError, ServerExitedError } from '../errors.js';
import { registerServed } from './served-servers.js';

/** Options of `MilvusLiteServer` (and of `createMilvusLitePool`, which passes them on). */
export interface MilvusLiteServerOptions extends FindMilvusLiteOptions {
  /** Use this installation instead of searching (see `findMilvusLite`). */
  readonly installation?: Installation;
  /**
   * When milvus-lite is not found, install it into leasehold's cache venv on first start (one
   * notice on stderr). Default true; `false`, or `LEASEHOLD_NO_INSTALL=1`, gives the
   * `MilvusLiteNotFoundError` instead.
   */
  readonly install?: boolean;
  /**
   * One deadline for the whole start (spawn, the server's first line, its first gRPC answer), in ms.
   * Default 60000; for a remote URI, how long to wait for it to answer (default 10000 ms) before a
   * `RemoteUnreachableError`.
   */
  readonly startTimeoutMs?: number;
  /** How long a graceful stop may take before SIGKILL. Default 10000 ms. */
  readonly stopTimeoutMs?: number;
  /**
   * python engine only: serve on this TCP port of 127.0.0.1 (`http://127.0.0.1:PORT`), for clients
   * that cannot use unix sockets; SO_REUSEPORT is off, so a port in use (by anyone, another
   * leasehold server too) is a ServerStartError. Default: a private unix socket, as with native.
   */
  readonly port?: number;
  /**
   * A test hook for fault injection: awaited before each named step of a start (`'lock'`,
   * `'socket-dir'`, `'spawn'`, `'first-line'`, `'ready'`), with the pid once the process exists.
   * A throw there fails the start as that step would.
   */
  readonly onStartStep?: StartStepHook;
}

const engines: Record<EngineName, Engine> = { native: nativeEngine, python: pythonEngine };

/**
 * One milvus-lite server for one local database, without a pool: `start()` runs it and resolves once a
 * real gRPC call answers; `stop()` stops it gracefully and removes its socket and lock file, never
 * the database. It runs `options.installation`, or the one `findInstallation()` gives (the public
 * subclass `MilvusLiteServer` in target/ finds or installs one, and passes remote URIs through).
 */
export class LocalServer implements AsyncDisposable {
  /** What was passed in (a path or a remote URI). */
  readonly target: string;
  readonly #options: MilvusLiteServerOptions;
  #dbPath: string | null = null;
  #engine: EngineName | undefined;
  #process: EngineProcess | undefined;
  #starting: Promise<this> | undefined;
  #stopped = false;
  #identity: DatabaseIdentity | undefined;
  #lostReason: MilvusLiteError | undefined;
  readonly #lostListeners = new Set<(reason: MilvusLiteError) => void>();

  constructor(pathOrUri: string, options: MilvusLiteServerOptions = {}) {
    if (typeof pathOrUri !== 'string' || pathOrUri === '') throw new TypeError(`pathOrUri must be a non-empty string, got ${JSON.stringify(pathOrUri)}`);
    for (const name of ['startTimeoutMs', 'stopTimeoutMs'] as const) {
      const value = options[name];
      if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) throw new RangeError(`${name} must be a number ≥ 0, got ${String(value)}`);
    }
    if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535)) {
      throw new RangeError(`port must be an integer from 1 to 65535, got ${String(options.port)}`);
    }
    this.target = pathOrUri;
    this.#options = options;
  }

  /** The normalized database path (null for a remote URI). Known after `start()`. */
  get dbPath(): string | null {
    return this.#dbPath;
  }

  /** `'native'` (2.x binary), `'python'` (3.x) or `'remote'`; undefined until known. */
  get engine(): EngineName | 'remote' | undefined {
    return this.#engine;
  }

  /** What the Node SDK connects to: `unix:/…/x.sock`, `http://127.0.0.1:PORT` (python with `port`), or the remote URI. */
  get uri(): string {
    if (this.#process === undefined) throw new MilvusLiteError(`the server of ${this.target} is not running; await start() first`);
    return this.#process.uri;
  }

  /** The server's process id (null for a remote URI or before start). */
  get pid(): number | null {
    return this.#process?.pid ?? null;
  }

  /** Settles when the server process is gone, however it went (never for a remote URI). */
  get exited(): Promise<ExitInfo> {
    if (this.#process === undefined) throw new MilvusLiteError(`the server of ${this.target} has not started`);
    return this.#process.exited;
  }

  /**
   * Calls `listener` once (synchronously) if the server is lost: it exited on its own
   * (`ServerExitedError`), its database was deleted or replaced (`DatabaseReplacedError`), or its lock
   * file was, and someone else locked the new one (`LockLostError`); in the last two the server is stopped. Never after `stop()`. Returns a function that removes the listener.
   */
  onLost(listener: (reason: MilvusLiteError) => void): () => void {
    if (this.#lostReason !== undefined) listener(this.#lostReason);
    else this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /**
   * Whether the database at `dbPath` is still the file (native) or directory (python) the server
   * opened: one stat, comparing device and inode. If not, the server is lost (see `onLost`) and
   * stopped. A watch on the parent directory runs the same check within milliseconds of a change.
   */
  verifyDatabase(): boolean {
    return this.#identity?.check() ?? true;
  }

  #lose(reason: MilvusLiteError): void {
    if (this.#stopped || this.#lostReason !== undefined) return;
    this.#lostReason = reason;
    this.#identity?.close();
    for (const listener of this.#lostListeners) listener(reason);
    this.#lostListeners.clear();
    // A server whose memory no longer matches its file (a write that failed inside it), or whose lock
    // another holder took, stops too.
    if (reason instanceof DatabaseReplacedError || reason instanceof MilvusCallError || reason instanceof LockLostError) void this.stop();
  }

  /** Starts the server and resolves once it answers. Calling it again returns the same start. */
  start(options: { readonly signal?: AbortSignal } = {}): Promise<this> {
    if (this.#stopped) return Promise.reject(new MilvusLiteError(`the server of ${this.target} was stopped; create a new MilvusLiteServer`));
    return (this.#starting ??= this.run(options.signal).then(() => this));
  }

  /**
   * The installation to run: `options.installation`; without one, a `MilvusLiteError` (a server of
   * this layer is given its installation; the public `MilvusLiteServer` overrides this to find or
   * install one).
   */
  protected findInstallation(): Promise<Installation> {
    const { installation } = this.#options;
    if (installation !== undefined) return Promise.resolve(installation);
    return Promise.reject(new MilvusLiteError(`no milvus-lite installation was given for ${this.target}; pass options.installation (see findMilvusLite), or use MilvusLiteServer, which finds one`));
  }

  /** Starts the server; resolves once it answers (a subclass may run something else, e.g. a remote check). */
  protected async run(signal: AbortSignal | undefined): Promise<void> {
    const installation = await this.findInstallation();
    const dbPath = await normalizePathKey(this.target);
    this.#dbPath = dbPath;
    if (this.#options.port !== undefined && installation.engine !== 'python') {
      throw new MilvusLiteError(`port applies to the python engine (milvus-lite ≥ 3) only; the native engine serves ${dbPath} on a private unix socket, so leave port unset`);
    }
    this.#engine = installation.engine;
    const starting = engines[installation.engine].start({
      installation,
      dbPath,
      ...(signal ? { signal } : {}),
      startTimeoutMs: this.#options.startTimeoutMs ?? 60_000,
      stopTimeoutMs: this.#options.stopTimeoutMs ?? 10_000,
      ...(this.#options.port === undefined ? {} : { port: this.#options.port }),
      onLost: (reason) => this.#lose(reason instanceof MilvusLiteError ? reason : new MilvusLiteError(reason.message, { cause: reason })),
      onStep: (step, info) => {
        if (step === 'spawn' && info.uri !== undefined) announceServerAddress(dbPath, info.uri);
        return this.#options.onStartStep?.(step, info);
      },
    });
    // A server that exited while starting: its install's hashes are checked (only then) and named.
    this.#process = await starting.catch(async (error: unknown) => {
      throw await explainStartFailure(error, installation);
    });
    this.#identity = new DatabaseIdentity(dbPath, (change) => this.#lose(new DatabaseReplacedError(dbPath, change)));
    void this.#process.exited.then((exit) => this.#lose(new ServerExitedError(dbPath, exit)));
    // For the client layer (call-guard.ts): the database, the server's ERROR lines, and a way to restart it.
    const running = this.#process;
    registerServed(running.uri, { dbPath, engine: installation.engine, exited: running.exited, errorLog: running.errorLog, lose: (reason) => this.#lose(reason) });
  }

  /** Stops the server (graceful, then SIGKILL after `stopTimeoutMs`); resolves its exit. Idempotent. */
  async stop(): Promise<ExitInfo | undefined> {
    this.#stopped = true;
    this.#identity?.close();
    await this.#starting?.catch(() => {});
    await closeAttachments(this);
    return this.#process?.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
