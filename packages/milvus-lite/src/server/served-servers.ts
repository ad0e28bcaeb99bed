import type { EngineName, ExitInfo } from '../engine.js';
import type { MilvusLiteError } from '../errors.js';
import type { ServerErrorLog } from './server-error-log.js';

/** What the client layer knows of a milvus-lite server this process runs, by the URI it serves. */
export interface ServedServer {
  readonly dbPath: string;
  readonly engine: EngineName;
  readonly exited: Promise<ExitInfo>;
  /** native only: the server's ERROR lines. */
  readonly errorLog: ServerErrorLog | undefined;
  /** Revokes the server's leases with `reason` and stops it (what it holds in memory goes). */
  lose(reason: MilvusLiteError): void;
}

// Process-wide (a global symbol), like the server registry: every copy of the package sees one map.
const kRegistry = Symbol.for('leasehold.milvus-lite.served-servers');
const registry: Map<string, ServedServer> = ((globalThis as Record<symbol, unknown>)[kRegistry] as Map<string, ServedServer> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[kRegistry] = new Map<string, ServedServer>());

/** Records `server` under `uri` until it exits. */
export function registerServed(uri: string, server: ServedServer): void {
  registry.set(uri, server);
  void server.exited.then(() => {
    if (registry.get(uri) === server) registry.delete(uri);
  });
}

/** The milvus-lite server this process serves at `uri`, if any. */
export function servedAt(uri: string): ServedServer | undefined {
  return registry.get(uri);
}
