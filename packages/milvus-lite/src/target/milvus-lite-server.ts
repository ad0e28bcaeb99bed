// The target layer: what a path or URI names. A local path gets a server of server/ with the
// installation found (or installed) by install/; a remote URI (`http://…`, `host:port`) is passed
// through. It may import server/, install/ and the shared root files only.
import type { EngineName, Installation } from '../engine.js';
import { findOrInstall } from '../install/find-or-install.js';
import { LocalServer, type MilvusLiteServerOptions } from '../server/local-server.js';
import { awaitRemote } from './remote-probe.js';
import { checkRemoteScheme, isRemoteUri } from './remote-uri.js';

export type { MilvusLiteServerOptions };

// A remote Milvus is either up or not: no server of ours to wait for, so a shorter default.
const kRemoteStartTimeoutMs = 10_000;

/**
 * One milvus-lite server for one database, without a pool: `start()` runs it and resolves once a
 * real gRPC call answers; `stop()` stops it gracefully and removes its socket and lock file, never
 * the database. Without `options.installation` it finds milvus-lite, or installs it (see
 * `findMilvusLite`, `install`). A remote URI (`http://…`, `host:port`) is kept as is: `start()`
 * only checks that it answers (`RemoteUnreachableError` after `startTimeoutMs`, default 10000 ms).
 *
 * @example
 * await using server = await new MilvusLiteServer('./app.db').start();
 * const client = new MilvusClient({ address: server.uri });
 */
export class MilvusLiteServer extends LocalServer {
  readonly #options: MilvusLiteServerOptions;
  readonly #remote: boolean;

  constructor(pathOrUri: string, options: MilvusLiteServerOptions = {}) {
    super(pathOrUri, options);
    this.#options = options;
    this.#remote = isRemoteUri(pathOrUri);
  }

  /** `'native'` (2.x binary), `'python'` (3.x) or `'remote'`; undefined until known. */
  override get engine(): EngineName | 'remote' | undefined {
    return this.#remote ? 'remote' : super.engine;
  }

  /** What the Node SDK connects to: `unix:/…/x.sock`, `http://127.0.0.1:PORT` (python with `port`), or the remote URI. */
  override get uri(): string {
    return this.#remote ? this.target : super.uri;
  }

  protected override findInstallation(): Promise<Installation> {
    return this.#options.installation === undefined ? findOrInstall(this.#options) : super.findInstallation();
  }

  protected override async run(signal: AbortSignal | undefined): Promise<void> {
    if (this.#remote) {
      // Used directly (not through a pool, whose keys normalizeTarget checks): the same refusal.
      checkRemoteScheme(this.target);
      await awaitRemote(this.target, this.#options.startTimeoutMs ?? kRemoteStartTimeoutMs, signal);
    }
    else await super.run(signal);
  }
}
