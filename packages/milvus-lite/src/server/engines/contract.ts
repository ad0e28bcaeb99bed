import type { EngineName, ExitInfo, Installation, StartStepHook } from '../../engine.js';
import type { ServerErrorLog } from '../server-error-log.js';

/**
 * The contract between the server (`server/local-server.ts`) and the two ways of running milvus-lite.
 * `native.ts` runs the 2.4/2.5 binary; `python.ts` runs milvus-lite 3.x in leasehold's wrapper
 * (`python-wrapper.ts`), which builds its gRPC server from milvus-lite's own classes.
 * Neither knows about pools or reference counts.
 */
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
