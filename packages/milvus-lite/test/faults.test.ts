// Fault injection against the real native server, one test per fault. After each: no server
// process left, no socket directory left (the empty lock file stays: see lock-file.ts), the
// database intact, every promise settled.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyLockedError, LeaseRevokedError, ServerExitedError, ServerStartError, type MilvusLiteServer } from '../src/index.js';
import { nativeEngine } from '../src/server/engines/native.js';
import { installationOf } from './support/installations.js';
import { freshDirs, poolsClosedAfterEach, withEnv } from './support/scratch-dirs.js';
import { connect, countRows, createDocs, insertRows } from './support/milvus-data.js';
import { holdFromNode, isAlive, processesMentioning, startOwner } from './support/processes.js';

const installation = installationOf('native');
const freshDir = freshDirs('lh-faults-');

/** The invariants every fault must leave behind. */
async function expectClean(dir: string, sockets: string[], dbFiles: string[]): Promise<void> {
  const leftovers = () => ({
    processes: processesMentioning(dir).map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')),
    socketDirs: sockets.filter((socket) => existsSync(dirname(socket))),
    // SQLite's -journal/-wal/-shm files belong to the database: they must be kept, never removed;
    // so does its (empty, unlocked) lock file `.<name>.lock`.
    files: readdirSync(dir).filter((f) => !dbFiles.includes(f.replace(/-(journal|wal|shm)$/, '').replace(/^\.(.+)\.lock$/, '$1'))),
  });
  await expect.poll(leftovers, { timeout: 10_000, interval: 20 }).toEqual({ processes: [], socketDirs: [], files: [] });
}

const socketOf = (server: MilvusLiteServer): string => server.uri.slice('unix:'.length);

describe.skipIf(installation === undefined)('fault injection, real native server', () => {
  const newPool = poolsClosedAfterEach(installation);

  it('the server SIGKILLed mid-request: the request fails, the lease is revoked, the data that was flushed survives', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'killed.db');
    const pool = newPool();
    const lease = await pool.acquire(dbPath);
    const socket = socketOf(lease.resource);
    const client = await connect(lease.resource.uri);
    await createDocs(client, 'docs');
    await insertRows(client, 'docs', 0, 50);
    await client.flush({ collection_names: ['docs'] });
    const requests = Array.from({ length: 20 }, (_, i) => insertRows(client, 'docs', 1000 + i * 10, 10).then(() => 'ok', () => 'failed'));
    process.kill(lease.resource.pid!, 'SIGKILL');
    const outcomes = await Promise.all(requests);
    expect(outcomes).toHaveLength(20);
    expect(outcomes).toContain('failed');
    await expect.poll(() => lease.signal.aborted).toBe(true);
    expect((lease.signal.reason as LeaseRevokedError).cause).toBeInstanceOf(ServerExitedError);
    await client.closeConnection();
    await lease.release();
    await expectClean(dir, [socket], ['killed.db']);
    await using again = await pool.acquire(dbPath);
    const reopened = await connect(again.resource.uri);
    await reopened.loadCollection({ collection_name: 'docs' });
    expect(await countRows(reopened, 'docs')).toBeGreaterThanOrEqual(50);
    await reopened.closeConnection();
  });

  it('a lock held by another program: KeyLockedError naming the database, its lock file and the holder with its pid, with LockBusyError as cause; nothing started', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'held.db');
    const lockPath = join(dir, '.held.db.lock');
    // Another process's lock on it (a leasehold one here; Python's holders: python-interop.test.ts).
    const holder = await holdFromNode(lockPath);
    try {
      const error = await newPool().acquire(dbPath).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyLockedError);
      const message = (error as Error).message;
      expect(message).toContain(dbPath);
      expect(message).toContain(`is in use: another leasehold process of this user (pid ${holder.pid}) runs its server; its lock is ${lockPath}`);
      expect(((error as Error).cause as Error).name).toBe('LockBusyError');
      expect(processesMentioning(dir).filter((pid) => pid !== holder.pid)).toEqual([]);
    } finally {
      await holder.release();
    }
  });

  it('a lock file that is a symbolic link: ServerStartError naming the database and the refusal (never followed), with the lock\'s refusal as cause; the link and its target untouched, nothing started', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'linked.db');
    const lockPath = join(dir, '.linked.db.lock');
    const target = join(dir, 'elsewhere');
    writeFileSync(target, 'not a lock');
    symlinkSync(target, lockPath);
    // The pool's StartError, whose cause is the engine's ServerStartError, whose cause is the lock's refusal.
    const error = await newPool().acquire(dbPath).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(KeyLockedError);
    const started = (error as Error).cause as Error;
    expect(started).toBeInstanceOf(ServerStartError);
    const message = started.message;
    expect(message).toContain(dbPath);
    expect(message).toContain(`was not started: cannot lock ${lockPath}: it is a symbolic link, which is never followed (remove it if you did not put it there)`);
    const refusal = started.cause as Error;
    expect(refusal).toBeInstanceOf(Error);
    expect(refusal.message).toMatch(/^cannot lock .*symbolic link/);
    expect(message).toContain(refusal.message);
    expect(lstatSync(lockPath).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('not a lock');
    expect(readdirSync(dir).sort()).toEqual(['.linked.db.lock', 'elsewhere']);
    expect(processesMentioning(dir)).toEqual([]);
  });

  it('a lock file that is a FIFO (anyone who can write the directory can make one): refused at once, the FIFO untouched, and other databases start right after', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'piped.db');
    const lockPath = join(dir, '.piped.db.lock');
    expect(spawnSync('mkfifo', [lockPath]).status).toBe(0);
    const started = performance.now();
    const error = await newPool().acquire(dbPath, { timeoutMs: 20_000 }).catch((e: unknown) => e);
    const refusal = (error as Error).cause as Error;
    expect(refusal).toBeInstanceOf(ServerStartError);
    expect(refusal.message).toContain(`${dbPath} was not started: cannot lock ${lockPath}: it is not a regular file (a FIFO, a socket or a device), which is never locked (remove it if you did not put it there)`);
    // Not the deadline: the open did not block.
    expect(refusal.message).not.toMatch(/did not start within/);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(lstatSync(lockPath).isFIFO()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['.piped.db.lock']);
    expect(processesMentioning(dir)).toEqual([]);
    // Nothing was left blocked: another database starts at once.
    await using lease = await newPool().acquire(join(dir, 'next.db'), { timeoutMs: 20_000 });
    expect(isAlive(lease.resource.pid!)).toBe(true);
  });

  it.runIf(process.platform === 'linux')('a server that dies lets go of its socket watch and its lock guard at its exit, before anyone stops it (the inotify watches of this process, from /proc)', async () => {
    const watches = (): number => {
      let count = 0;
      for (const fd of readdirSync('/proc/self/fd')) {
        let target = '';
        try {
          target = readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          continue; // closed meanwhile (the readdir's own descriptor among them)
        }
        if (target === 'anon_inode:inotify') count += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((line) => line.startsWith('inotify wd:')).length;
      }
      return count;
    };
    const before = watches();
    const running = await nativeEngine.start({ installation: installation!, dbPath: join(freshDir(), 'watched.db'), startTimeoutMs: 30_000, stopTimeoutMs: 5000 });
    try {
      // The socket directory's watch, the name lock guard's on the database's directory, and the
      // inode lock guard's on the rendezvous directory (see inode-lock.ts).
      expect(watches()).toBe(before + 3);
      process.kill(running.pid, 'SIGKILL');
      expect(await running.exited).toMatchObject({ signal: 'SIGKILL' });
      await expect.poll(watches, { timeout: 2000, interval: 20 }).toBe(before);
    } finally {
      await running.stop();
    }
  });

  it('the database directory made read-only under a running server: the stop still cleans up, the database is intact', async () => {
    const dir = freshDir();
    const pool = newPool();
    const lease = await pool.acquire(join(dir, 'ro.db'));
    const socket = socketOf(lease.resource);
    const client = await connect(lease.resource.uri);
    await createDocs(client, 'docs');
    await insertRows(client, 'docs', 0, 10);
    await client.flush({ collection_names: ['docs'] });
    await client.closeConnection();
    chmodSync(dir, 0o555);
    try {
      await lease.release();
      await expect.poll(() => processesMentioning(dir), { timeout: 10_000 }).toEqual([]);
      expect(existsSync(dirname(socket))).toBe(false);
      // A new start in a read-only directory is refused before anything runs.
      const error = await pool.acquire(join(dir, 'ro.db')).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/not writable/);
    } finally {
      chmodSync(dir, 0o755);
    }
    await expectClean(dir, [socket], ['ro.db', '.ro.db.lock']);
    await using again = await pool.acquire(join(dir, 'ro.db'));
    const reopened = await connect(again.resource.uri);
    await reopened.loadCollection({ collection_name: 'docs' });
    expect(await countRows(reopened, 'docs')).toBe(10);
    await reopened.closeConnection();
  });

  it('close() during a herd of acquires (every start paused at its ready step) rejects all of them with PoolClosedError and leaves nothing running', async () => {
    const dir = freshDir();
    const names = ['h1.db', 'h2.db', 'h3.db', 'h4.db'];
    const pids: number[] = [];
    let allReady!: () => void;
    const reachedReady = new Promise<void>((resolve) => (allReady = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const pool = newPool({
      onStartStep: async (step, { pid }) => {
        if (step !== 'ready') return;
        pids.push(pid!);
        if (pids.length === names.length) allReady();
        await resumed;
      },
    });
    const acquires = names.flatMap((name) => Array.from({ length: 10 }, () => pool.acquire(join(dir, name))));
    await reachedReady;
    expect(pool.stats()).toMatchObject({ starting: 4, waiting: 40 });
    for (const pid of pids) expect(isAlive(pid)).toBe(true);
    const closed = pool.close();
    resume();
    const outcomes = await Promise.allSettled(acquires);
    await closed;
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).name : 'resolved'))).toEqual(Array(40).fill('PoolClosedError'));
    expect(pool.stats()).toMatchObject({ resources: 0, starting: 0, waiting: 0, started: 0, failedStarts: 4 });
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    await expectClean(dir, [], names);
  });

  it('an acquire aborted while its start waits at the ready step rejects at once; the start is abandoned and its server stopped', async () => {
    const dir = freshDir();
    const controller = new AbortController();
    let reached!: (pid: number) => void;
    const atReady = new Promise<number>((resolve) => (reached = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const pool = newPool({
      onStartStep: async (step, { pid }) => {
        if (step !== 'ready') return;
        reached(pid!);
        await resumed;
      },
    });
    const acquire = pool.acquire(join(dir, 'aborted.db'), { signal: controller.signal });
    const pid = await atReady;
    controller.abort(new Error('gave up'));
    // Rejected while the start is still paused: the acquire does not wait for it.
    await expect(acquire).rejects.toThrow('gave up');
    expect(isAlive(pid)).toBe(true);
    resume();
    await expect.poll(() => pool.stats(), { timeout: 10_000 }).toMatchObject({ resources: 0, starting: 0, started: 0, failedStarts: 1 });
    expect(isAlive(pid)).toBe(false);
    await expectClean(dir, [], ['aborted.db']);
  });

  it('a start that hangs past startTimeoutMs fails with ServerStartError and kills the server', async () => {
    const dir = freshDir();
    const pool = newPool({ startTimeoutMs: 0 });
    const error = await pool.acquire(join(dir, 'slow.db')).catch((e: unknown) => e);
    expect((error as Error).cause).toBeInstanceOf(ServerStartError);
    expect((error as Error).message).toMatch(/did not start within 0 ms/);
    await expectClean(dir, [], ['slow.db']);
  });

  it('a stale proper-lockfile lock after a SIGKILLed owner blocks only until it is stale', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'stale.db');
    const { child, report } = await startOwner(dbPath, installation!, 'hold-locked');
    child.kill('SIGKILL');
    await child;
    await expect.poll(() => isAlive(report.pid!), { timeout: 10_000 }).toBe(false);
    const pool = newPool({ lock: true });
    const error = await pool.acquire(dbPath).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyLockedError);
    expect((error as Error).message).toContain('.stale.db.leasehold');
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(dir, '.stale.db.leasehold'), past, past);
    const lease = await pool.acquire(dbPath);
    expect(isAlive(lease.resource.pid!)).toBe(true);
    await lease.release();
    await expectClean(dir, [], ['stale.db']);
  });
});

/** Runs `fn` with `TMPDIR` (where socket directories are made) set to `tmp`. */
function withTmpdir<T>(tmp: string, fn: () => Promise<T>): Promise<T> {
  return withEnv('TMPDIR', tmp, fn);
}

/** A database path whose parent directory is fresh, and a fresh TMPDIR for its socket directory. */
function scratch(name = 'm.db'): { dir: string; dbPath: string; tmp: string } {
  const dir = freshDir();
  return { dir, dbPath: join(dir, name), tmp: freshDir() };
}

describe.skipIf(installation === undefined)('a failed start releases everything it took, whichever step fails (native)', () => {
  const newPool = poolsClosedAfterEach(installation);

  /** Nothing left: no process, no socket directory, no lock held (the empty lock file may stay); this process and another one open the database at once. */
  async function expectReleased({ dir, dbPath, tmp }: { dir: string; dbPath: string; tmp: string }): Promise<void> {
    const leftovers = () => ({
      processes: processesMentioning(dir),
      socketDirs: existsSync(tmp) ? readdirSync(tmp).filter((f) => f.startsWith('lh-')) : [],
      files: readdirSync(dir).filter((f) => f !== basename(dbPath) && f !== `.${basename(dbPath)}.lock` && !f.startsWith(`${basename(dbPath)}-`)),
    });
    // The failed start has settled: what is left now stays left.
    expect(leftovers()).toEqual({ processes: [], socketDirs: [], files: [] });
    const lease = await newPool().acquire(dbPath);
    expect(isAlive(lease.resource.pid!)).toBe(true);
    await lease.release();
    const { child, report } = await startOwner(dbPath, installation!, 'exit');
    await child;
    expect(report).toMatchObject({ pid: expect.any(Number) as number });
    await expectClean(dir, [], [basename(dbPath)]);
  }

  it('TMPDIR missing: a ServerStartError naming mkdtemp and ENOENT', async () => {
    const where = scratch();
    const error = await withTmpdir('/nonexistent-leasehold', () => newPool().acquire(where.dbPath)).catch((e: unknown) => e);
    expect((error as Error).cause).toBeInstanceOf(ServerStartError);
    expect((error as Error).message).toMatch(/no socket directory could be made \(ENOENT.*mkdtemp.*\); set TMPDIR/);
    expect((((error as Error).cause as Error).cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    await expectReleased(where);
  });

  it('TMPDIR read-only: a ServerStartError saying so', async () => {
    const where = scratch();
    // root ignores a directory's mode bits; nobody may create anything directly in /sys.
    const readOnly = process.getuid?.() === 0 ? '/sys' : where.tmp;
    chmodSync(where.tmp, 0o555);
    try {
      const error = await withTmpdir(readOnly, () => newPool().acquire(where.dbPath)).catch((e: unknown) => e);
      expect((error as Error).cause).toBeInstanceOf(ServerStartError);
      expect((error as Error).message).toMatch(/no socket directory could be made \((EACCES|EPERM|EROFS).*mkdtemp/);
      // The file system's own error, kept as the cause.
      expect((((error as Error).cause as Error).cause as NodeJS.ErrnoException).code).toMatch(/^(EACCES|EPERM|EROFS)$/);
    } finally {
      chmodSync(where.tmp, 0o755);
    }
    await expectReleased(where);
  });

  it('no Python on the native path: an installation whose python does not exist (or is absent) starts and stops the same', async () => {
    const where = scratch();
    const { python: _python, ...withoutPython } = installation!;
    for (const native of [{ ...installation!, python: join(where.tmp, 'no-python') }, withoutPython]) {
      const lease = await withTmpdir(where.tmp, () => newPool({ installation: native }).acquire(where.dbPath));
      expect(isAlive(lease.resource.pid!)).toBe(true);
      await lease.release();
    }
    await expectReleased(where);
  });

  it('a binary that exits at once: its exit code, and everything released', async () => {
    const where = scratch();
    const error = await withTmpdir(where.tmp, () => newPool({ installation: { ...installation!, binary: '/bin/false' } }).acquire(where.dbPath)).catch((e: unknown) => e);
    expect((error as Error).cause).toBeInstanceOf(ServerStartError);
    expect(((error as Error).cause as ServerStartError).exit).toEqual({ code: 1, signal: null, stderrTail: '' });
    await expectReleased(where);
  });

  it('a binary that is not executable: the spawn error, and everything released', async () => {
    const where = scratch();
    const binary = join(where.tmp, 'milvus');
    writeFileSync(binary, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const error = await withTmpdir(where.tmp, () => newPool({ installation: { ...installation!, binary } }).acquire(where.dbPath)).catch((e: unknown) => e);
    expect((error as Error).cause).toBeInstanceOf(ServerStartError);
    expect((error as Error).message).toMatch(/EACCES/);
    unlinkSync(binary);
    await expectReleased(where);
  });

  it('startTimeoutMs reached by a server that hangs (SIGSTOPped at the ready step): killed, everything released', async () => {
    const where = scratch();
    const pool = newPool({
      startTimeoutMs: 300,
      stopTimeoutMs: 300,
      onStartStep: (step, { pid }) => {
        if (step === 'ready') process.kill(pid!, 'SIGSTOP');
      },
    });
    const error = await withTmpdir(where.tmp, () => pool.acquire(where.dbPath)).catch((e: unknown) => e);
    expect((error as Error).cause).toBeInstanceOf(ServerStartError);
    expect((error as Error).message).toMatch(/did not start within 300 ms: it stalled waiting for a gRPC call to answer \(killed by SIGKILL\)/);
    await expectReleased(where);
  });

  it('the server SIGKILLed at the ready step: its exit, and everything released', async () => {
    const where = scratch();
    const pool = newPool({ onStartStep: (step, { pid }) => void (step === 'ready' && process.kill(pid!, 'SIGKILL')) });
    const error = await withTmpdir(where.tmp, () => pool.acquire(where.dbPath)).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/exited while starting \(killed by SIGKILL\)/);
    await expectReleased(where);
  });

  for (const at of ['lock', 'socket-dir', 'spawn', 'ready'] as const) {
    it(`an abort during the ${at} step: the acquire rejects with the reason, the start is undone`, async () => {
      const where = scratch();
      const controller = new AbortController();
      const steps: string[] = [];
      const pool = newPool({
        onStartStep: (step) => {
          steps.push(step);
          if (step === at) controller.abort(new Error(`gave up at ${at}`));
        },
      });
      const error = await withTmpdir(where.tmp, () => pool.acquire(where.dbPath, { signal: controller.signal })).catch((e: unknown) => e);
      expect((error as Error).message).toBe(`gave up at ${at}`);
      // No step after the abort ran, and the start settled as abandoned: nothing is running.
      await expect.poll(() => pool.stats(), { timeout: 10_000 }).toMatchObject({ resources: 0, starting: 0, started: 0, failedStarts: 1 });
      expect(steps.at(-1)).toBe(at);
      await expectReleased(where);
    });

    it(`a failure injected at the ${at} step fails the start as that step would, and undoes it`, async () => {
      const where = scratch();
      const pool = newPool({
        onStartStep: (step) => {
          if (step === at) throw new Error(`injected at ${at}`);
        },
      });
      const error = await withTmpdir(where.tmp, () => pool.acquire(where.dbPath)).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(new RegExp(`injected at ${at}`));
      expect(pool.stats()).toMatchObject({ resources: 0, starting: 0, started: 0, failedStarts: 1 });
      await expectReleased(where);
    });
  }
});
