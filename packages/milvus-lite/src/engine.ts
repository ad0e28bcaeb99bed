/**
 * The public facts about an engine and its runs, shared by every layer. The contract between the
 * server and the two ways of running milvus-lite is in `server/engines/contract.ts`.
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
