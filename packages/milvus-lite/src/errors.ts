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

/**
 * A remote Milvus URI (`http://…`, `https://…`, `host:port`) did not answer a gRPC call within the
 * start's `startTimeoutMs` or the acquire's `timeoutMs`; `problem` says what the last try met
 * (connection refused, a TLS handshake that never completed, an untrusted certificate, no reply…).
 * With `answered`, it did answer, but cannot be used as it is (a certificate the client's trust
 * does not verify): the message says so, and no wait.
 */
export class RemoteUnreachableError extends MilvusLiteError {
  readonly uri: string;
  readonly problem: string;
  constructor(uri: string, waitedMs: number, problem = 'no gRPC reply', options?: ErrorOptions & { readonly fix?: string; readonly answered?: boolean }) {
    // One line: OpenSSL's messages (a TLS alert, a handshake failure) end in a newline of their own.
    const said = problem.replace(/\s*\n\s*/g, ' ').trim();
    const fix = options?.fix ?? 'check that the server is up and the address is right';
    super(options?.answered === true ? `Milvus at ${uri} answers, but ${said}; ${fix}` : `Milvus at ${uri} does not answer: ${said} (waited ${waitedMs} ms); ${fix}`, options);
    this.uri = uri;
    this.problem = said;
  }
}

/**
 * A call to a Milvus server failed, with what leasehold knows of why. `method` is the RPC (e.g.
 * `'Insert'`), `code` and `details` are the gRPC status (as on grpc-js's errors), `dbPath` the local
 * database (undefined for a remote URI), and `serverLog` the server's own ERROR lines about it.
 */
export class MilvusCallError extends MilvusLiteError {
  readonly method: string;
  readonly code: number;
  readonly details: string;
  readonly dbPath: string | undefined;
  readonly serverLog: readonly string[];
  constructor(method: string, message: string, facts: { code: number; details?: string; dbPath?: string | undefined; serverLog?: readonly string[] }, options?: ErrorOptions) {
    const log = facts.serverLog ?? [];
    super(`${method}${facts.dbPath === undefined ? '' : ` on ${facts.dbPath}`}: ${message}${log.length === 0 ? '' : `\n--- server log ---\n${log.join('\n')}`}`, options);
    this.method = method;
    this.code = facts.code;
    this.details = facts.details ?? '';
    this.dbPath = facts.dbPath;
    this.serverLog = log;
  }
}

/** The server does not implement this RPC (gRPC UNIMPLEMENTED): milvus-lite lacks it. The SDK alone would answer `{}`. */
export class UnsupportedMethodError extends MilvusCallError {}

/** A write failed because the disk (file system) that holds the database is full. */
export class DiskFullError extends MilvusCallError {}

/**
 * A request that would crash milvus-lite (SIGSEGV, taking every handle of the database down) was
 * refused before it was sent; `field` names the field it is about.
 */
export class RefusedRequestError extends MilvusLiteError {
  readonly method: string;
  readonly collection: string;
  readonly field: string;
  constructor(method: string, collection: string, field: string, message: string) {
    super(message);
    this.method = method;
    this.collection = collection;
    this.field = field;
  }
}

/** The SDK threw a status object (`{ error_code, reason, code }`), not an Error; `status` is that object. */
export class MilvusStatusError extends MilvusLiteError {
  readonly status: Readonly<Record<string, unknown>>;
  constructor(method: string, status: Readonly<Record<string, unknown>>) {
    const reason = typeof status['reason'] === 'string' && status['reason'] !== '' ? status['reason'] : 'no reason given';
    super(`${method} failed: ${reason} (error_code ${String(status['error_code'])}, code ${String(status['code'])})`);
    this.status = status;
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
 * Installing milvus-lite failed: the index, the download, a hash, the disk. The message names the
 * URL or path, what went wrong and what to do; nothing half-installed is left where
 * `findMilvusLite` looks.
 */
export class MilvusLiteInstallError extends MilvusLiteError {}

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

/** The input cannot be migrated (missing source, same database twice, unknown or existing collection); nothing was written. */
export class MigrateInputError extends MilvusLiteError {}

/** The target's row count of a collection differs from the source's after the copy. */
export class MigrationCountMismatchError extends MilvusLiteError {
  readonly summary: MigrateSummary;
  constructor(summary: MigrateSummary) {
    const bad = summary.collections.filter((c) => c.sourceRows - c.duplicateKeyRows !== c.targetRows);
    super(`row counts differ after migrating to ${summary.target}: ${bad.map((c) => `${c.name}: ${c.sourceRows} in the source${c.duplicateKeyRows ? ` (${c.duplicateKeyRows} of them repeating another row's primary key)` : ''}, ${c.targetRows} in the target`).join('; ')}`);
    this.summary = summary;
  }
}

// The migration's result types live here, below every layer, because MigrationCountMismatchError carries one.
/** What was copied for one collection. */
export interface MigratedCollection {
  readonly name: string;
  /** Rows counted in the source before the copy, and in the target after it. */
  readonly sourceRows: number;
  readonly targetRows: number;
  /**
   * Rows of the source whose primary key an earlier row also has: milvus-lite keeps such rows
   * (an insert does not replace) and `count(*)` counts them, but a query returns one row per key,
   * so the copy has one. The check is then `sourceRows - duplicateKeyRows === targetRows`; 0 when
   * every key is distinct, or the key is auto_id.
   */
  readonly duplicateKeyRows: number;
  readonly partitions: readonly string[];
  /** `index_name: index_type/metric_type` of each index created in the target. */
  readonly indexes: readonly string[];
  /** The primary key is auto_id: the target generated new ids, so ids differ from the source's. */
  readonly primaryKeysRegenerated: boolean;
  /** A same-name collection of the target was dropped first (`replace`). */
  readonly replaced: boolean;
}

/** What `migrateDatabase` did. */
export interface MigrateSummary {
  readonly source: string;
  readonly target: string;
  readonly collections: readonly MigratedCollection[];
  readonly rows: number;
  readonly elapsedMs: number;
  readonly rowsPerSecond: number;
}
