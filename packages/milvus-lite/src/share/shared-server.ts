import type { Socket } from 'node:net';
import type { EngineName, ExitInfo } from '../engine.js';
import { MilvusLiteError } from '../errors.js';
import { MilvusLiteServer } from '../target/milvus-lite-server.js';
import { closeAttachments } from '../server/server-attachments.js';
import type { ServerInfo } from './protocol.js';

/** The shared server of a leased database went away (supervisor killed or stopped, server died). */
export class SharedServerLostError extends MilvusLiteError {
  readonly dbPath: string;
  /** True when someone stopped it on purpose (`leasehold-milvus stop`, `stopSharedServer`), not a failure. */
  readonly stopRequested: boolean;
  /** The supervisor's own words (e.g. `stopped by process 123 (leasehold-milvus stop)`). */
  readonly reason: string;
  constructor(dbPath: string, reason: string, stopRequested = false) {
    super(`the shared milvus-lite server of ${dbPath} is gone: ${reason}; the next acquire starts a new one`);
    this.dbPath = dbPath;
    this.stopRequested = stopRequested;
    this.reason = reason;
  }
}

/**
 * This process's attachment to a database's shared server: what `lease.resource` is with `share`.
 * It reads like a `MilvusLiteServer` (`uri`, `pid` of the server, `dbPath`, `engine`), plus the
 * supervisor's pid. Its one supervisor connection is the process's lease; `stop()` closes it
 * (the supervisor stops the server once no process is attached and the idle timeout passed).
 */
export class SharedServer extends MilvusLiteServer {
  #stopRequested = false;
  readonly #socket: Socket;
  readonly #info: ServerInfo;
  readonly #closed: Promise<ExitInfo>;
  #reason = 'its supervisor closed the connection (killed or crashed)';
  #detaching = false;

  /** @internal Made by the share client once the supervisor said `ready`. */
  constructor(socket: Socket, info: ServerInfo) {
    super(info.dbPath);
    this.#socket = socket;
    this.#info = info;
    this.#closed = new Promise<ExitInfo>((resolve) => {
      socket.once('close', () => resolve({ code: null, signal: null, stderrTail: this.#reason }));
    });
  }

  /** @internal The supervisor's `bye` reason, kept for the lease's abort reason. */
  setReason(reason: string, requested = false): void {
    this.#reason = reason;
    this.#stopRequested = requested;
  }

  /** Why the connection ended, once it has. */
  get lostReason(): SharedServerLostError {
    return new SharedServerLostError(this.#info.dbPath, this.#reason, this.#stopRequested);
  }

  /** Whether this side closed the connection (a release), as opposed to losing it. */
  get detaching(): boolean {
    return this.#detaching;
  }

  override get uri(): string {
    return this.#info.uri;
  }

  override get pid(): number {
    return this.#info.serverPid;
  }

  override get dbPath(): string {
    return this.#info.dbPath;
  }

  override get engine(): EngineName {
    return this.#info.engine as EngineName;
  }

  /** The supervisor process that owns the server. */
  get supervisorPid(): number {
    return this.#info.supervisorPid;
  }

  /** Settles when this process's connection to the supervisor is gone. */
  override get exited(): Promise<ExitInfo> {
    return this.#closed;
  }

  override start(): Promise<this> {
    return Promise.resolve(this);
  }

  /** Detaches this process (closes its supervisor connection); the server stays for the others. */
  override async stop(): Promise<ExitInfo | undefined> {
    this.#detaching = true;
    // openMilvus's shared client of this attachment goes first, as with a server of our own.
    await closeAttachments(this);
    this.#socket.destroy();
    return this.#closed;
  }
}
