import type { ServerErrorLog } from './server/server-error-log.js';

/**
 * The contract between `MilvusLiteServer` and the two ways of running milvus-lite.
 * `engines/native.ts` runs the 2.4/2.5 binary; `engines/python.ts` runs milvus-lite 3.x in leasehold's wrapper
 * (`engines/python-wrapper.ts`), which builds its gRPC server from milvus-lite's own classes.
 * Neither knows about pools or reference counts.
 */

/** Which milvus-lite server implementation runs a database. `'remote'` is a pass-through URI. */
export type EngineName = 'native' | 'python';

/** Where milvus-lite was found, as reported by `findMilvusLite()`. */
export interface Installation {
  readonly engine: EngineName;
  /** milvus-lite's version as installed, e.g. `'2.5.1'` or `'3.2.2'`. */
  readonly version: string;
  /**
   * The Python interpreter of the environment that holds milvus-lite: always set for the python
   * engine; for the native engine only when it was found inside a Python environment (a venv, or
   * `MILVUS_LITE_PYTHON`). A native install from the wheel (leasehold's cache) has none, and native
   * code never needs it.
   */
  readonly python?: string;
  /** native: the `milvus` binary; python: the `milvus-lite` console script (or python itself). */
  readonly binary: string;
  /** native only: the directory of the binary's shared libraries. */
  readonly libDir?: string;
  /** Which search step found it, e.g. `'option'`, `'MILVUS_LITE_PYTHON'`, `'VIRTUAL_ENV'`, `'cache'`, `'PATH'`. */
  readonly source: string;
}

/** How a server process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  /** The last lines of the server's stderr (and stdout where that is where it writes). */
  readonly stderrTail: string;
}

/**
 * The named steps of a start, in order. native: lock, socket-dir, spawn, ready; python: socket-dir,
 * spawn, first-line (the wrapper printed where it listens), ready (a gRPC call answered).
 */
export type StartStep = 'lock' | 'socket-dir' | 'spawn' | 'first-line' | 'ready';

/**
 * Called, and awaited, before each named step runs; `info.pid` is set once the process exists,
 * `info.uri` (what clients will connect to, not listening yet) from the `'spawn'` step on.
 */
export type StartStepHook = (step: StartStep, info: { readonly pid?: number; readonly uri?: string }) => void | Promise<void>;

export interface EngineStartOptions {
  readonly installation: Installation;
  /** Absolute, normalized path of the database (a file for native, a directory for python). */
  readonly dbPath: string;
  readonly signal?: AbortSignal;
  /** One deadline for the whole start, in ms: every step, and a stall at any of them. */
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A test hook for fault injection, awaited before each named step; a throw fails the start as that step would. */
  readonly onStep?: StartStepHook;
  /**
   * Called (once) if the running server is lost without exiting first, e.g. native: another holder
   * got the lock file at the path after it was deleted or replaced; the engine stops the server.
   */
  readonly onLost?: (reason: Error) => void;
  /** python engine only: serve on this TCP port of 127.0.0.1 instead of a private unix socket. */
  readonly port?: number;
}

/** One running server process, ready: a real gRPC call has answered. */
export interface EngineProcess {
  /** What the Node SDK connects to: `unix:/abs/sock`, or `http://127.0.0.1:PORT` (python engine with `port`). */
  readonly uri: string;
  readonly pid: number;
  /** Settles once when the process is gone, however it went. Never rejects. */
  readonly exited: Promise<ExitInfo>;
  /** native only: the server's runtime ERROR lines (glog's file in the private socket directory). */
  readonly errorLog?: ServerErrorLog;
  /** Graceful stop, then SIGKILL after stopTimeoutMs; removes sockets and lock files, never the database. Idempotent. */
  stop(): Promise<ExitInfo>;
}

export interface Engine {
  readonly name: EngineName;
  start(options: EngineStartOptions): Promise<EngineProcess>;
}
