import { constants } from 'node:fs';
import { access, lstat, open, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { InvalidDatabaseError } from '../errors.js';
import { sqliteTableNames } from './sqlite-schema.js';

// NAME_MAX (255 bytes) bounds the files milvus-lite keeps beside the database: SQLite's
// `<name>-journal` (a start with a 248-byte name exits at once) and the lock `.<name>.lock`. No
// other rule on the name: the binary serves any file name (Python's 2.x wrapper refuses more, see
// the README), and the socket path does not carry it.
const kMaxNameBytes = 255 - Math.max('-journal'.length, '..lock'.length);
// SQLite's unix VFS holds a path in 512 bytes (SQLITE_MAX_PATHNAME); milvus-lite's `<db>-journal` must fit.
const kMaxNativePath = 512 - '-journal'.length;

/**
 * Checks that `dbPath`, a database that `command` (migrate's source, dump's) only reads, is there
 * and is not an empty file: milvus-lite would make an empty file a database as it opened it, and
 * such a command never writes what it reads. What the file holds is the start's check.
 * @throws InvalidDatabaseError naming the path, what is wrong and what to do
 */
export async function checkSourceDatabase(dbPath: string, command: string): Promise<void> {
  const found = await stat(dbPath).catch(() => undefined);
  if (found === undefined) throw new InvalidDatabaseError(dbPath, 'it does not exist', `check the path; ${command} never creates what it reads`);
  if (found.isFile() && found.size === 0) throw new InvalidDatabaseError(dbPath, 'it is empty (0 bytes), not a database', `check the path; ${command} never writes what it reads`);
}

/**
 * Checks, without changing anything, that the native engine can use `dbPath` as its database file:
 * a name whose `-journal` and `.lock` fit beside it (at most 247 bytes), a path SQLite can hold, a
 * writable directory, and a file that is absent, or writable and empty or a milvus-lite SQLite
 * database (not another program's: one whose tables do not include `collection_meta`). Throws an `InvalidDatabaseError` naming the path, what is wrong and what to do.
 */
export async function checkNativeDatabase(dbPath: string): Promise<void> {
  const nameBytes = Buffer.byteLength(basename(dbPath));
  if (nameBytes > kMaxNameBytes) {
    throw new InvalidDatabaseError(dbPath, `the file name is ${nameBytes} bytes, and SQLite's <name>-journal beside it must fit the file system's 255, so a name holds at most ${kMaxNameBytes}`, 'use a shorter file name');
  }
  const bytes = Buffer.byteLength(dbPath);
  if (bytes > kMaxNativePath) {
    throw new InvalidDatabaseError(dbPath, `the path is ${bytes} bytes, and milvus-lite 2.x opens at most ${kMaxNativePath} (SQLite's paths hold 512 bytes, and its -journal file takes 8 more)`, 'move the database to a shorter path');
  }
  await checkWritableDir(dbPath, dirname(dbPath));
  let stats;
  try {
    stats = await lstat(dbPath);
  } catch {
    return; // Absent: milvus-lite creates it.
  }
  if (stats.isDirectory()) {
    throw new InvalidDatabaseError(dbPath, 'it is a directory, not a database file', 'pass the path of a .db file (milvus-lite 3.x takes a directory; use engine "python" for that)');
  }
  if (!stats.isFile() && !stats.isSymbolicLink()) throw new InvalidDatabaseError(dbPath, 'it is not a regular file', 'pass the path of a .db file');
  await checkWritableFile(dbPath);
  if (stats.isFile() && stats.size === 0) return;
  const header = Buffer.alloc(16);
  // O_NONBLOCK: a symbolic link to a FIFO would block a plain open in a thread-pool thread for good.
  const handle = await open(dbPath, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new InvalidDatabaseError(dbPath, 'it is a symbolic link to nothing (its target does not exist)', 'remove the link, or pass the path of the database itself');
    if (error.code === 'ELOOP') throw new InvalidDatabaseError(dbPath, 'it is a symbolic link that leads back to itself', 'remove the link, or pass the path of the database itself');
    throw new InvalidDatabaseError(dbPath, `it cannot be read (${String(error.code)})`, 'check its permissions');
  });
  let tables: string[] | undefined;
  try {
    if (!(await handle.stat()).isFile()) throw new InvalidDatabaseError(dbPath, 'it is not a regular file', 'pass the path of a .db file');
    await handle.read(header, 0, 16, 0);
    if (header.toString('latin1') !== 'SQLite format 3\0') {
      throw new InvalidDatabaseError(dbPath, 'it is not a milvus-lite database (no SQLite header); it was left untouched', 'pass a milvus-lite .db file or a path that does not exist yet');
    }
    tables = await sqliteTableNames(handle);
  } finally {
    await handle.close();
  }
  // Another program's SQLite database: milvus-lite would add its own tables to it (newcomer). One
  // with no tables yet, or whose schema cannot be read here, is left to milvus-lite as before.
  const own = tables?.filter((name) => !name.startsWith('sqlite_')) ?? [];
  if (own.length > 0 && !own.includes(kMilvusLiteTable)) {
    const listed = own.length > 5 ? `${own.slice(0, 5).join(', ')} and ${own.length - 5} more` : own.join(', ');
    throw new InvalidDatabaseError(dbPath, `it is an SQLite database of another program (its tables: ${listed}; a milvus-lite database has ${kMilvusLiteTable}), and milvus-lite would add its own tables to it; it was left untouched`, 'pass a milvus-lite .db file or a path that does not exist yet');
  }
}

/** The table every milvus-lite 2.x database has (its collections' metadata; milvus-lite's storage/collection_meta). */
const kMilvusLiteTable = 'collection_meta';

/**
 * `dir` must be writable, and not read-only by its mode either: root passes `access(W_OK)` anywhere,
 * but a directory with no write bit was made read-only on purpose.
 */
export async function checkWritableDir(dbPath: string, dir: string): Promise<void> {
  const writable = await access(dir, constants.W_OK | constants.X_OK).then(
    async () => ((await stat(dir)).mode & 0o222) !== 0,
    () => false,
  );
  if (!writable) throw new InvalidDatabaseError(dbPath, `its directory ${dir} is not writable`, 'make the directory writable or choose another path');
}

/**
 * An existing database file must be writable by this user, and not read-only by its mode either.
 * milvus-lite 2.5 opens a file it cannot write without complaint, acknowledges inserts it keeps
 * only in memory (lost at its stop), and fails deletes with a bare "internal error".
 */
async function checkWritableFile(dbPath: string): Promise<void> {
  const problem = await access(dbPath, constants.W_OK).then(
    async () => (((await stat(dbPath)).mode & 0o222) === 0 ? 'the file is read-only (its mode has no write bit)' : undefined),
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : `this user cannot write the file (${String(error.code)})`),
  );
  if (problem !== undefined) {
    throw new InvalidDatabaseError(dbPath, `${problem}, and milvus-lite would acknowledge writes it cannot keep`, 'make it writable (chmod u+w, or chown it to this user), or open a writable copy of it');
  }
}
