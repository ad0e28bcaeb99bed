import type { MigrateSummary } from './migrate.js';
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

/** The input cannot be migrated (missing source, same database twice, unknown or existing collection); nothing was written. */
export class MigrateInputError extends MilvusLiteError {}

/** The target's row count of a collection differs from the source's after the copy. */
export class MigrationCountMismatchError extends MilvusLiteError {
  readonly summary: MigrateSummary;
  constructor(summary: MigrateSummary) {
    const bad = summary.collections.filter((c) => c.sourceRows !== c.targetRows);
    super(`row counts differ after migrating to ${summary.target}: ${bad.map((c) => `${c.name}: ${c.sourceRows} in the source, ${c.targetRows} in the target`).join('; ')}`);
    this.summary = summary;
  }
}
