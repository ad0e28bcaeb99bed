import type { ExitInfo } from './engine.js';

/** Base class of the adapter's errors; `name` is the subclass's name. */
export class MilvusLiteError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** milvus-lite is not installed anywhere leasehold looked. `tried` lists each place and why it failed. */
export class MilvusLiteNotFoundError extends MilvusLiteError {
  readonly tried: readonly string[];
  constructor(what: string, tried: readonly string[], fix: string) {
    super(`${what} was not found. Tried:\n${tried.map((t) => `  - ${t}`).join('\n')}\nFix: ${fix}`);
    this.tried = tried;
  }
}

/** A database path milvus-lite cannot use; nothing on disk was changed. */
export class InvalidDatabaseError extends MilvusLiteError {
  readonly dbPath: string;
  constructor(dbPath: string, problem: string, fix: string) {
    super(`cannot open ${dbPath}: ${problem}; ${fix}`);
    this.dbPath = dbPath;
  }
}

/** The server exited or never answered while starting. Carries its exit code, signal and stderr tail. */
export class ServerStartError extends MilvusLiteError {
  readonly dbPath: string;
  readonly exit: ExitInfo | undefined;
  constructor(dbPath: string, problem: string, exit?: ExitInfo, options?: ErrorOptions) {
    super(`milvus-lite for ${dbPath} ${problem}${exit ? ` (${describeExit(exit)})` : ''}${tail(exit)}`, options);
    this.dbPath = dbPath;
    this.exit = exit;
  }
}

/** The server of a leased database died on its own; the abort reason given to `lost`. */
export class ServerExitedError extends MilvusLiteError {
  readonly dbPath: string;
  readonly exit: ExitInfo;
  constructor(dbPath: string, exit: ExitInfo) {
    super(`milvus-lite for ${dbPath} exited unexpectedly (${describeExit(exit)})${tail(exit)}`);
    this.dbPath = dbPath;
    this.exit = exit;
  }
}

export function describeExit(exit: ExitInfo): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${String(exit.code)}`;
}

function tail(exit: ExitInfo | undefined): string {
  const text = exit?.stderrTail.trim();
  return text ? `\n--- server output (tail) ---\n${text}` : '';
}

/** The database file (native) or directory (python) was deleted or replaced under its running server; the abort reason given to `lost`. */
export class DatabaseReplacedError extends MilvusLiteError {
  readonly dbPath: string;
  readonly change: 'deleted' | 'replaced';
  constructor(dbPath: string, change: 'deleted' | 'replaced') {
    super(
      `the database ${dbPath} was ${change === 'deleted' ? 'deleted' : 'replaced by another file'} while its milvus-lite server was running; ` +
        'the server was stopped (what it held after that is gone), and the next acquire serves the database now at that path',
    );
    this.dbPath = dbPath;
    this.change = change;
  }
}

/** A remote Milvus URI (`http://…`, `host:port`) did not answer a gRPC call within `startTimeoutMs`. */
export class RemoteUnreachableError extends MilvusLiteError {
  readonly uri: string;
  constructor(uri: string, waitedMs: number) {
    super(`Milvus at ${uri} does not answer (no gRPC reply in ${waitedMs} ms); check that the server is up and the address is right`);
    this.uri = uri;
  }
}

/**
 * The lock file of a running native server was deleted or replaced, and another holder locked the
 * file now at its path before leasehold could make it again: rather than two servers on one
 * database, this one was stopped. The abort reason given to `lost`; `cause` says who holds it now.
 */
export class LockLostError extends MilvusLiteError {
  readonly dbPath: string;
  readonly lockPath: string;
  constructor(dbPath: string, lockPath: string, cause: Error) {
    super(
      `the lock file ${lockPath} of ${dbPath} was deleted or replaced while its milvus-lite server ran, and ${cause.message.replace(/^\S+ is locked by /, '')} locked the file now there; ` +
        'this server was stopped so that two servers never run on one database (its leases are revoked); the next acquire is refused while the other holds it',
      { cause },
    );
    this.dbPath = dbPath;
    this.lockPath = lockPath;
  }
}

/**
 * This process already runs the server of a database with other terms than an open asks for
 * (`share`, `engine`, `version` or `lock`): one server per database file per process, so the open
 * is refused rather than a second server started. Names the option, both values and the holders.
 */
export class ServerConflictError extends MilvusLiteError {
  readonly dbPath: string;
  readonly option: string;
  constructor(dbPath: string, option: string, wanted: string, held: string, holder: string, holders: string) {
    super(
      `${dbPath} is already served in this process by ${holders} with ${option} ${held}; ${holder} asks for ${option} ${wanted}, ` +
        `and one database file has one server per process: open it with the same ${option} as ${holders}, or release theirs first`,
    );
    this.dbPath = dbPath;
    this.option = option;
  }
}
