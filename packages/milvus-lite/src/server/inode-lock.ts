import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyLockedError } from '@leasehold/pool';
import { LockBusyError, LockFile } from './lock-file.js';
import { heldInThisProcess } from './registry.js';
import { databaseKey, ensureRendezvousDir } from './rendezvous.js';

/**
 * The native engine's second lock: an OFD lock (the same `LockFile`) on `<rendezvous dir>/<dev>-<ino>.db.lock`,
 * keyed by the database file's identity, so that two hard links of one file (`ln h1.db h2.db`),
 * whose name locks `.h1.db.lock` and `.h2.db.lock` differ, still exclude each other. The directory
 * is this user's private (0700) rendezvous directory of `share/rendezvous.ts` (`$LEASEHOLD_SHARE_DIR`,
 * else `$XDG_RUNTIME_DIR/leasehold`, else `/tmp/leasehold-<uid>`): no other user can delete the
 * file, and a stale file is harmless (the lock dies with its process). Never a byte range of the
 * database (SQLite uses those). The file holds the path of its last holder's database (`<path>\n`),
 * read only to name it in a busy error. Other users' processes, and Python's milvus-lite (whose lock
 * is by name only), are not excluded by it: see docs/locking.md.
 */
export interface InodeLock {
  readonly lock: LockFile;
  readonly path: string;
}

/**
 * Takes the identity lock of the native database `dbPath` (an absolute path, already checked). A
 * missing database is first created empty (as milvus-lite would; see `databaseKey`), so every opener
 * agrees on one inode from the start.
 * @throws KeyLockedError when another server (this process, or another leasehold process of this
 *   user) runs on the same file through another name: the message names both paths and the holder.
 * @throws RendezvousError when the private directory is unsafe; LockFileError when the lock file cannot be locked.
 */
export async function takeInodeLock(dbPath: string): Promise<InodeLock> {
  const dir = await ensureRendezvousDir();
  const key = await databaseKey(dbPath, 'file');
  const path = join(dir, `${key}.db.lock`);
  let lock: LockFile;
  try {
    lock = LockFile.take(path);
  } catch (error) {
    if (error instanceof LockBusyError) throw inodeBusy(dbPath, path, error);
    throw error;
  }
  try {
    // Another descriptor, closed at once: an OFD lock is not dropped by that.
    writeFileSync(path, `${dbPath}\n`, { mode: 0o600 });
  } catch {
    // Only the busy error's words need it.
  }
  return { lock, path };
}

function inodeBusy(dbPath: string, path: string, error: LockBusyError): KeyLockedError {
  let other: string | undefined;
  try {
    other = readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    // unreadable: the holder's path is not named
  }
  const through = other === undefined || other === dbPath ? 'another hard link (another name of the same file)' : `another hard link, ${other}`;
  const holder = error.holder;
  const who = holder.kind === 'this-process' ? `this process (${heldInThisProcess(path) ?? 'another thread or copy of @leasehold/milvus-lite'})` : error.message.slice(`${path} is locked by `.length);
  const detail = `it is the same database file (device and inode ${path.slice(path.lastIndexOf('/') + 1, -'.db.lock'.length)}) as ${through}, on which ${who} runs a server; its lock is ${path}`;
  const instead =
    other === undefined || other === dbPath
      ? 'open it by the name the other holder uses'
      : holder.kind === 'this-process'
        ? `open ${other} instead (this process then shares its server)`
        : `open ${other} instead (with \`share: true\` in every process to share one server)`;
  const fix = `one file is served by one server at a time, whatever name opens it: ${instead}, or stop that server first`;
  return new KeyLockedError(dbPath, detail, { cause: error, fix });
}
