import { closeSync, lstatSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MilvusLiteError } from '../errors.js';
import { kMaxSocketPath } from './socket-dir.js';

/** The rendezvous directory is unsafe to use (wrong owner or mode, a symlink, not a directory); nothing was changed. */
export class RendezvousError extends MilvusLiteError {
  readonly dir: string;
  constructor(dir: string, problem: string, fix: string) {
    super(`the shared-server directory ${dir} ${problem}; leasehold changed nothing: ${fix}`);
    this.dir = dir;
  }
}

/**
 * Where shared servers meet their clients, one per user: `$LEASEHOLD_SHARE_DIR`, else
 * `$XDG_RUNTIME_DIR/leasehold` (a per-user tmpfs on systemd machines), else `/tmp/leasehold-<uid>`.
 * Short on purpose: socket paths must fit 107 bytes.
 */
export function rendezvousDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['LEASEHOLD_SHARE_DIR'];
  if (explicit) return explicit;
  const runtime = env['XDG_RUNTIME_DIR'];
  const uid = process.getuid?.() ?? 0;
  if (runtime && socketBytesIn(join(runtime, 'leasehold')) <= kMaxSocketPath) return join(runtime, 'leasehold');
  return `/tmp/leasehold-${uid}`;
}

// Longer than any `<key>.sock` (a key, `keyOfStats`, is two hex numbers below 2^53: at most 29 characters).
const kLongestSocketName = `${'f'.repeat(40)}.sock`;

/** The bytes of the longest socket path in `dir`. */
function socketBytesIn(dir: string): number {
  return Buffer.byteLength(join(dir, kLongestSocketName));
}

/**
 * A directory whose sockets fit a unix socket path (107 bytes): Node's `listen()` shortens a
 * longer path without a word, which would put the socket outside the directory and leave a
 * supervisor that never finds its own socket.
 */
function checkSocketRoom(dir: string): void {
  const bytes = socketBytesIn(dir);
  const longestDir = kMaxSocketPath - Buffer.byteLength(`/${kLongestSocketName}`);
  if (bytes > kMaxSocketPath) throw new RendezvousError(dir, `is too long: its sockets' paths would take ${bytes} bytes, and a unix socket path holds at most ${kMaxSocketPath}`, `set LEASEHOLD_SHARE_DIR to a directory of at most ${longestDir} bytes`);
}

/**
 * Creates the rendezvous directory 0700 if it is missing, then checks (lstat, never following a
 * symlink) that it is a directory owned by this user with no group or other permission. Anything
 * else is a RendezvousError naming it and what to do; an existing directory is never chmod-ed.
 */
export async function ensureRendezvousDir(dir: string = rendezvousDir()): Promise<string> {
  checkSocketRoom(dir);
  try {
    // Synchronous, here and below: a few metadata calls of microseconds each, on a cold open's
    // critical path, where each promise form waited ~1 ms for the thread pool (issue 24).
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RendezvousError(dir, 'cannot be created because its parent does not exist', 'create the parent, or set LEASEHOLD_SHARE_DIR to a private directory');
    if (code !== 'EEXIST') throw new RendezvousError(dir, `cannot be created (${String(code)})`, 'set LEASEHOLD_SHARE_DIR to a private directory of yours');
  }
  await checkRendezvousDir(dir);
  return dir;
}

/** The checks of `ensureRendezvousDir`, without creating anything. */
export async function checkRendezvousDir(dir: string): Promise<void> {
  checkSocketRoom(dir);
  const stats = lstatSync(dir);
  if (stats.isSymbolicLink()) throw new RendezvousError(dir, 'is a symbolic link, which is never followed', `remove it if you did not put it there (rm ${dir}); leasehold recreates it as a private directory`);
  if (!stats.isDirectory()) throw new RendezvousError(dir, 'is not a directory', `remove it if you did not put it there, or set LEASEHOLD_SHARE_DIR to a private directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) throw new RendezvousError(dir, `belongs to uid ${stats.uid}, not to you (uid ${uid})`, 'set LEASEHOLD_SHARE_DIR to a directory of yours (mode 0700)');
  const mode = stats.mode & 0o777;
  if ((mode & 0o077) !== 0) throw new RendezvousError(dir, `has mode ${mode.toString(8).padStart(4, '0')}, so other users can reach it`, `make it private yourself (chmod 700 ${dir}) if you trust its contents, or remove it`);
}

/**
 * A database's identity across processes: its device and inode, however it is spelled. A native
 * database that does not exist yet is first created empty (as milvus-lite itself would, and an
 * empty file is what it accepts as new), so that every process agrees on one inode from the start;
 * an existing file is never written. For the python engine the database is a directory.
 */
export async function databaseKey(dbPath: string, kind: 'file' | 'directory'): Promise<string> {
  let stats = statSync(dbPath, { throwIfNoEntry: false });
  if (stats === undefined) {
    // Exclusive create: a racing process's file (or a dangling symlink) is left as it is.
    try {
      if (kind === 'file') closeSync(openSync(dbPath, 'wx', 0o644));
      else mkdirSync(dbPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    stats = statSync(dbPath);
  }
  return keyOfStats(stats);
}

/** The key of a database already stat-ed: `<dev>-<ino>` in hex, the name of its rendezvous files. */
export function keyOfStats(stats: { readonly dev: number; readonly ino: number }): string {
  return `${stats.dev.toString(16)}-${stats.ino.toString(16)}`;
}

/** The rendezvous files of one database key. */
export function rendezvousPaths(dir: string, key: string) {
  return {
    socket: join(dir, `${key}.sock`),
    lock: join(dir, `${key}.lock`),
    log: join(dir, `${key}.log`),
    info: join(dir, `${key}.json`),
    /** The supervisor's secret (0600): a client proves it is this user's by presenting it. */
    token: join(dir, `${key}.token`),
  };
}
