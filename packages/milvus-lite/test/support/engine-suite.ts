import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import {
  DatabaseReplacedError,
  RemoteUnreachableError,
  InvalidDatabaseError,
  InvalidKeyError,
  KeyLockedError,
  LeaseRevokedError,
  MilvusLiteServer,
  ServerExitedError,
  ServerStartError,
  ServerManager,
  type Installation,
  type Lease,
  type LeasePool,
} from '../../src/index.js';
import { freshDirs, poolsClosedAfterEach, withEnv } from './scratch-dirs.js';
import { connect, countRows, createDocs, insertRows, searchIds, vectorOf } from './milvus-data.js';
import { isAlive, processesMentioning, startOwner, startReapedOwner } from './processes.js';

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** A snapshot of a directory: names, and the bytes of each regular file. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const stats = statSync(join(dir, name));
    out[name] = stats.isFile() ? readFileSync(join(dir, name)).toString('base64') : stats.isDirectory() ? '<dir>' : '<other>';
  }
  return out;
}

/**
 * Runs `fn` with setTimeout and clearTimeout spied on: how many timers of `delayMs` (a start's
 * deadline, an unusual value so no other timer is counted) were made, and how many are still set.
 */
async function deadlineTimers(delayMs: number, fn: () => Promise<unknown>): Promise<{ made: number; live: number }> {
  const live = new Set<unknown>();
  let made = 0;
  const setSpy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((...args: Parameters<typeof setTimeout>) => {
    const timer = realSetTimeout(...args);
    if (args[1] === delayMs) {
      made++;
      live.add(timer);
    }
    return timer;
  }) as typeof setTimeout);
  const clearSpy = vi.spyOn(globalThis, 'clearTimeout').mockImplementation(((timer: Parameters<typeof clearTimeout>[0]) => {
    live.delete(timer);
    realClearTimeout(timer);
  }) as typeof clearTimeout);
  try {
    await fn();
  } finally {
    setSpy.mockRestore();
    clearSpy.mockRestore();
  }
  return { made, live: live.size };
}

/**
 * `rm -rf dir` under a running python server, which may write a file into it meanwhile (ENOTEMPTY):
 * retried, as rmSync does for that error when asked.
 */
function rmTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 10 });
}

/** The server at `uri` answers a call through the real SDK. */
async function expectServes(uri: string): Promise<void> {
  const client = await connect(uri);
  expect((await client.showCollections()).status.error_code).toBe('Success');
  await client.closeConnection();
}

/**
 * The end-to-end suite, run once per engine against the real milvus-lite server and the real
 * `@zilliz/milvus2-sdk-node` client. `dbName` makes a database path for the engine (a file for
 * native, a directory for python).
 */
export function engineSuite(engine: 'native' | 'python', installation: Installation | undefined): void {
  describe.skipIf(installation === undefined)(`${engine} engine, real server and SDK`, () => {
    const freshDir = freshDirs(`lh-e2e-${engine}-`);
    const newPool = poolsClosedAfterEach(installation);

    it('creates, inserts, indexes, loads, searches and counts; the data survives a stop and a restart', async () => {
      const dbPath = join(freshDir(), 'app.db');
      const pool = newPool();
      {
        await using lease = await pool.acquire(dbPath);
        expect(lease.resource.engine).toBe(engine);
        expect(lease.resource.dbPath).toBe(dbPath);
        const client = await connect(lease.resource.uri);
        await createDocs(client, 'docs');
        await insertRows(client, 'docs', 0, 100);
        expect(await countRows(client, 'docs')).toBe(100);
        expect((await searchIds(client, 'docs', vectorOf(42), 1))[0]).toBe(42);
        await client.closeConnection();
      }
      expect(pool.stats().resources).toBe(0);
      await using again = await pool.acquire(dbPath);
      const client = await connect(again.resource.uri);
      await client.loadCollection({ collection_name: 'docs' });
      expect(await countRows(client, 'docs')).toBe(100);
      expect((await searchIds(client, 'docs', vectorOf(7), 1))[0]).toBe(7);
      await client.closeConnection();
      expect(pool.stats().started).toBe(2);
    });

    it('50 concurrent acquires of a cold path start one process', async () => {
      const pool = newPool();
      const dbPath = join(freshDir(), 'herd.db');
      const leases = await Promise.all(Array.from({ length: 50 }, () => pool.acquire(dbPath)));
      expect(new Set(leases.map((l) => l.resource.pid)).size).toBe(1);
      expect(pool.stats().started).toBe(1);
      const pid = leases[0]!.resource.pid!;
      await Promise.all(leases.slice(1).map((l) => l.release()));
      expect(isAlive(pid)).toBe(true);
      await leases[0]!.release();
      expect(isAlive(pid)).toBe(false);
    });

    it('an acquire during a stop waits for the stop, then starts a fresh server on the same data', async () => {
      const pool = newPool();
      const dbPath = join(freshDir(), 'restart.db');
      const lease = await pool.acquire(dbPath);
      const client = await connect(lease.resource.uri);
      await createDocs(client, 'docs');
      await insertRows(client, 'docs', 0, 20);
      await client.flush({ collection_names: ['docs'] });
      await client.closeConnection();
      const oldPid = lease.resource.pid!;
      const events: string[] = [];
      const stopping = lease.release().then(() => events.push('stopped'));
      const next = pool.acquire(dbPath).then((l) => (events.push('acquired'), l));
      await stopping;
      await using fresh = await next;
      expect(events).toEqual(['stopped', 'acquired']);
      expect(isAlive(oldPid)).toBe(false);
      expect(fresh.resource.pid).not.toBe(oldPid);
      const again = await connect(fresh.resource.uri);
      await again.loadCollection({ collection_name: 'docs' });
      expect(await countRows(again, 'docs')).toBe(20);
      await again.closeConnection();
    });

    it('evict stops a leased server at once and revokes its leases; the next acquire starts another', async () => {
      const pool = newPool();
      const dbPath = join(freshDir(), 'evicted.db');
      const leases = await Promise.all([pool.acquire(dbPath), pool.acquire(dbPath)]);
      const pid = leases[0]!.resource.pid!;
      await pool.evict(dbPath);
      expect(isAlive(pid)).toBe(false);
      for (const lease of leases) expect((lease.signal.reason as LeaseRevokedError).reason).toBe('evict');
      await Promise.all(leases.map((l) => l.release()));
      await using next = await pool.acquire(dbPath);
      expect(next.resource.pid).not.toBe(pid);
    });

    it('a SIGKILLed server aborts its leases, and the next acquire starts a new one', async () => {
      const pool = newPool();
      const dbPath = join(freshDir(), 'killed.db');
      const lease = await pool.acquire(dbPath);
      const { pid } = lease.resource;
      const aborted = new Promise<unknown>((resolve) => lease.signal.addEventListener('abort', () => resolve(lease.signal.reason)));
      process.kill(pid!, 'SIGKILL');
      const reason = await aborted;
      expect(reason).toBeInstanceOf(LeaseRevokedError);
      expect((reason as LeaseRevokedError).reason).toBe('lost');
      expect((reason as Error).cause).toBeInstanceOf(ServerExitedError);
      expect(((reason as Error).cause as ServerExitedError).exit.signal).toBe('SIGKILL');
      await lease.release();
      await using next = await pool.acquire(dbPath);
      expect(next.resource.pid).not.toBe(pid);
      const client = await connect(next.resource.uri);
      expect((await client.listCollections()).status.error_code).toBe('Success');
      await client.closeConnection();
    });

    it('a SIGKILLed owner process leaves no server behind, and the database can be reopened', async () => {
      const dir = freshDir();
      const dbPath = join(dir, 'orphan.db');
      const { report, reaped } = await startReapedOwner(dbPath, installation!, 'hold');
      expect(report.pid).toBeGreaterThan(0);
      expect(isAlive(report.pid!)).toBe(true);
      process.kill(report.owner!, 'SIGKILL');
      // The reaper returns once every descendant of the owner is gone: the server too.
      const exits = await reaped;
      const pids = exits.map((e) => e.pid);
      expect(pids).toContain(report.owner);
      expect(pids).toContain(report.pid);
      expect(processesMentioning(dir)).toEqual([]);
      const pool = newPool();
      await using lease = await pool.acquire(dbPath);
      const client = await connect(lease.resource.uri);
      expect((await client.listCollections()).status.error_code).toBe('Success');
      await client.closeConnection();
    });

    it('a process that exits normally takes its servers along, and removes their socket directories (ServerManager)', async () => {
      const dbPath = join(freshDir(), 'exit.db');
      const { child, report } = await startOwner(dbPath, installation!, 'manager');
      expect(report.uri).toMatch(/^unix:\//);
      expect((await child).exitCode).toBe(0);
      // Its exit hook removed the socket directory.
      expect(() => statSync(dirname(report.uri!.slice('unix:'.length)))).toThrow(/ENOENT/);
      // The database is free again at once: the owner's lock went with it.
      const pool = newPool();
      await using lease = await pool.acquire(dbPath);
      expect(lease.resource.pid).toBeGreaterThan(0);
    });

    it('a script that ends while holding a lease exits by itself, and its server stops gracefully (exit code 0, no -journal left)', async () => {
      const dir = freshDir();
      const dbPath = join(dir, 'forgot.db');
      const { report, reaped } = await startReapedOwner(dbPath, installation!, 'forget');
      expect(report.pid).toBeGreaterThan(0);
      const exits = await reaped;
      expect(exits.find((e) => e.pid === report.owner)).toMatchObject({ code: 0, signal: null });
      expect(exits.find((e) => e.pid === report.pid)).toMatchObject({ code: 0, signal: null });
      expect(readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('-journal'))).toEqual([]);
      const pool = newPool();
      await using lease = await pool.acquire(dbPath);
      expect(lease.resource.pid).not.toBe(report.pid);
    });

    // native: a stopped binary cannot take its lock, so the stop SIGKILLs it after stopTimeoutMs.
    // python: the stop sends SIGINT then SIGCONT; the continued wrapper either exits gracefully in
    // time or is SIGKILLed at stopTimeoutMs. Either way the stop is over by then (plus a margin).
    it('a server that does not stop within stopTimeoutMs (SIGSTOPped) is gone by then, and the database is free at once', async () => {
      const dir = freshDir();
      const dbPath = join(dir, 'hung.db');
      const server = new MilvusLiteServer(dbPath, { installation: installation!, stopTimeoutMs: 300 });
      await server.start();
      process.kill(server.pid!, 'SIGSTOP');
      const asked = performance.now();
      const exit = await server.stop();
      expect(performance.now() - asked).toBeLessThan(300 + 3000);
      if (engine === 'native' || exit?.code !== 0) expect(exit).toMatchObject({ code: null, signal: 'SIGKILL' });
      expect(isAlive(server.pid!)).toBe(false);
      expect(processesMentioning(dir)).toEqual([]);
      await using lease = await newPool().acquire(dbPath);
      expect(isAlive(lease.resource.pid!)).toBe(true);
    });

    it('a script that awaits the stop of a SIGSTOPped server goes on after it (continued and stopped, or SIGKILLed: the exit is awaited, not left to an empty event loop)', async () => {
      const dir = freshDir();
      const { child, report } = await startOwner(join(dir, 'stalled.db'), installation!, 'stop-stalled');
      const result = await child;
      expect(result.exitCode).toBe(0);
      const lines = String(result.stdout).trim().split('\n');
      expect(lines).toHaveLength(2);
      // The python wrapper is continued and stops gracefully; the native binary is SIGKILLed after stopTimeoutMs.
      expect(JSON.parse(lines[1]!)).toMatchObject({ stopped: true, exit: engine === 'python' ? { code: 0, signal: null } : { code: null, signal: 'SIGKILL' } });
      expect(isAlive(report.pid!)).toBe(false);
      expect(processesMentioning(dir)).toEqual([]);
    });

    it('a second pool in this process shares the running server (one server per file per process), undisturbed by its release', async () => {
      const dbPath = join(freshDir(), 'busy.db');
      const first = newPool();
      await using lease = await first.acquire(dbPath);
      const client = await connect(lease.resource.uri);
      await createDocs(client, 'docs');
      await insertRows(client, 'docs', 0, 10);
      const second = await newPool().acquire(dbPath);
      expect(second.resource.pid).toBe(lease.resource.pid);
      await second.release();
      expect(await countRows(client, 'docs')).toBe(10);
      expect(isAlive(lease.resource.pid!)).toBe(true);
      await client.closeConnection();
    });

    it('a second process on a busy database gets the "in use" error too', async () => {
      const dbPath = join(freshDir(), 'busy2.db');
      await using lease = await newPool().acquire(dbPath);
      const { child, report } = await startOwner(dbPath, installation!, 'exit');
      await child;
      expect(report.error).toBe('KeyLockedError');
      expect(report.message).toContain(dbPath);
      expect(isAlive(lease.resource.pid!)).toBe(true);
    });

    it('with proper-lockfile on top (lock: true), a second pool is refused too', async () => {
      const dbPath = join(freshDir(), 'own-lock.db');
      await using lease = await newPool({ lock: true }).acquire(dbPath);
      expect(readdirSync(dirname(dbPath))).toContain('.own-lock.db.leasehold');
      const error = await newPool({ lock: true }).acquire(dbPath).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyLockedError);
      expect((error as Error).message).toContain('.own-lock.db.leasehold');
      expect(isAlive(lease.resource.pid!)).toBe(true);
    });

    describe('a database deleted or replaced under its running server is never served', () => {
      /** `root/t/a.db` with collection `c` of 3 rows, served by a lease of `pool`. */
      async function seeded(pool: LeasePool<MilvusLiteServer>, dbPath: string): Promise<Lease<MilvusLiteServer>> {
        const lease = await pool.acquire(dbPath);
        const client = await connect(lease.resource.uri);
        await createDocs(client, 'c');
        await insertRows(client, 'c', 0, 3);
        await client.flush({ collection_names: ['c'] });
        await client.closeConnection();
        return lease;
      }

      async function collectionsOf(uri: string): Promise<string[]> {
        const client = await connect(uri);
        const names = (await client.listCollections()).data.map((c) => c.name);
        await client.closeConnection();
        return names;
      }

      it('rm -rf t; mkdir t (the issue): noticed within a second, the server stopped, the next acquire serves a new database', async () => {
        const t = join(freshDir(), 't');
        mkdirSync(t);
        const dbPath = join(t, 'a.db');
        const pool = newPool({ idleTimeoutMs: 30_000 });
        const lease = await seeded(pool, dbPath);
        const { pid } = lease.resource;
        await lease.release();
        expect(pool.stats()).toMatchObject({ resources: 1, idle: 1 });
        rmTree(t);
        mkdirSync(t);
        await expect.poll(() => pool.stats().lost, { timeout: 1000, interval: 5 }).toBe(1);
        await expect.poll(() => isAlive(pid!), { timeout: 10_000, interval: 20 }).toBe(false);
        await using again = await pool.acquire(dbPath);
        expect(again.resource.pid).not.toBe(pid);
        expect(await collectionsOf(again.resource.uri)).toEqual([]);
        expect(existsSync(dbPath)).toBe(true);
      });

      it('deleted while leased: the lease is revoked through lost, with an error saying it was deleted', async () => {
        const t = join(freshDir(), 't');
        mkdirSync(t);
        const dbPath = join(t, 'a.db');
        const pool = newPool();
        const lease = await seeded(pool, dbPath);
        rmTree(t);
        mkdirSync(t);
        await expect.poll(() => lease.signal.aborted, { timeout: 1000, interval: 5 }).toBe(true);
        const reason = lease.signal.reason as LeaseRevokedError;
        expect(reason.reason).toBe('lost');
        expect(reason.cause).toBeInstanceOf(DatabaseReplacedError);
        expect((reason.cause as DatabaseReplacedError).change).toBe('deleted');
        expect((reason.cause as Error).message).toContain(`the database ${dbPath} was deleted while its milvus-lite server was running`);
        await expect.poll(() => isAlive(lease.resource.pid!), { timeout: 10_000, interval: 20 }).toBe(false);
        await lease.release();
      });

      it('replaced by another database (mv other a.db): revoked as replaced, and the next acquire serves the other one', async () => {
        const t = join(freshDir(), 't');
        mkdirSync(t);
        const dbPath = join(t, 'a.db');
        const otherPath = join(t, 'other.db');
        const pool = newPool();
        {
          await using other = await pool.acquire(otherPath);
          const client = await connect(other.resource.uri);
          await createDocs(client, 'o');
          await insertRows(client, 'o', 0, 2);
          await client.flush({ collection_names: ['o'] });
          await client.closeConnection();
        }
        const lease = await seeded(pool, dbPath);
        // A directory (python) cannot be renamed over a non-empty one: move it aside first, in the same tick.
        if (engine === 'python') renameSync(dbPath, join(t, 'old.db'));
        renameSync(otherPath, dbPath);
        await expect.poll(() => lease.signal.aborted, { timeout: 1000, interval: 5 }).toBe(true);
        expect(((lease.signal.reason as Error).cause as DatabaseReplacedError).change).toBe('replaced');
        expect(((lease.signal.reason as Error).cause as Error).message).toMatch(/was replaced by another file/);
        await lease.release();
        await using again = await pool.acquire(dbPath);
        expect(again.resource.pid).not.toBe(lease.resource.pid);
        expect(await collectionsOf(again.resource.uri)).toEqual(['o']);
      });

      it('a cold acquire compares identity itself: another spelling of the path, right after the delete, gets a new server', async () => {
        const t = join(freshDir(), 't');
        mkdirSync(t);
        const dbPath = join(t, 'a.db');
        const pool = newPool({ idleTimeoutMs: 30_000 });
        const lease = await seeded(pool, dbPath);
        const { pid } = lease.resource;
        await lease.release();
        rmTree(t);
        mkdirSync(t);
        // Same tick as the delete: the directory watch has not run yet; the cold path's check must catch it.
        await using again = await pool.acquire(`${t}/./a.db`);
        expect(again.resource.pid).not.toBe(pid);
        expect(await collectionsOf(again.resource.uri)).toEqual([]);
      });

      it('ServerManager: startAndGetUri right after the delete returns a server whose database exists', async () => {
        const t = join(freshDir(), 't');
        mkdirSync(t);
        const dbPath = join(t, 'a.db');
        await using manager = new ServerManager({ installation: installation!, log: () => {} });
        const uri = (await manager.startAndGetUri(dbPath))!;
        expect(uri).not.toBeNull();
        rmTree(t);
        mkdirSync(t);
        const next = await manager.startAndGetUri(dbPath);
        expect(next).not.toBeNull();
        expect(next).not.toBe(uri);
        expect(existsSync(dbPath)).toBe(true);
        expect(await collectionsOf(next!)).toEqual([]);
      });
    });

    it('a remote URI starts nothing, and one that does not answer is a RemoteUnreachableError naming it (remote.e2e.test.ts has a real one)', async () => {
      const pool = newPool({ startTimeoutMs: 300 });
      for (const uri of ['http://127.0.0.1:9', 'milvus.invalid:19530']) {
        const error = await pool.acquire(uri).catch((e: unknown) => e);
        expect((error as Error).message).toContain(uri);
        expect((error as Error).cause).toBeInstanceOf(RemoteUnreachableError);
      }
      expect(pool.stats()).toMatchObject({ resources: 0, leases: 0 });
    });

    describe('bad input gets a clear error and changes nothing on disk', () => {
      it('a missing directory', async () => {
        const dir = freshDir();
        const error = await newPool().acquire(join(dir, 'nope', 'x.db')).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidKeyError);
        expect((error as Error).message).toContain(join(dir, 'nope'));
        expect(readdirSync(dir)).toEqual([]);
      });

      it('a directory where a file should be, or a file where a directory should be', async () => {
        const dir = freshDir();
        const target = join(dir, 'wrong.db');
        if (engine === 'native') mkdirSync(target);
        else writeFileSync(target, 'precious');
        const before = snapshot(dir);
        const error = await newPool().acquire(target).catch((e: unknown) => e);
        expect((error as Error).cause).toBeInstanceOf(InvalidDatabaseError);
        expect((error as Error).message).toContain(target);
        expect((error as Error).message).toMatch(engine === 'native' ? /is a directory/ : /is a file/);
        // What to do, after the problem.
        expect((error as Error).message).toMatch(engine === 'native' ? /; pass the path of a \.db file \(milvus-lite 3\.x takes a directory; use engine "python" for that\)$/ : /; pass a directory path \(it is created if missing\), or use the native engine \(milvus-lite 2\.5\) for \.db files$/);
        expect(snapshot(dir)).toEqual(before);
      });

      it('an unwritable directory', async () => {
        const dir = freshDir();
        chmodSync(dir, 0o555);
        try {
          const error = await newPool().acquire(join(dir, 'ro.db')).catch((e: unknown) => e);
          expect((error as Error).cause).toBeInstanceOf(InvalidDatabaseError);
          expect((error as Error).message).toMatch(/not writable/);
          expect(readdirSync(dir)).toEqual([]);
        } finally {
          chmodSync(dir, 0o755);
        }
      });

      if (engine === 'python') it('an existing database directory that is not writable, in a writable one: the database directory is named', async () => {
        const dir = freshDir();
        const dbPath = join(dir, 'ro');
        mkdirSync(dbPath, { mode: 0o555 });
        try {
          const error = await newPool().acquire(dbPath).catch((e: unknown) => e);
          expect((error as Error).cause).toBeInstanceOf(InvalidDatabaseError);
          expect((error as Error).message).toContain(`its directory ${dbPath} is not writable; make the directory writable or choose another path`);
          expect(readdirSync(dbPath)).toEqual([]);
        } finally {
          chmodSync(dbPath, 0o755);
        }
      });

      // Issue 23: the rules of Python's 2.x wrapper (letters, digits, '.', '-', '_'; 36 characters)
      // are not the server's. The binary serves any name whose `-journal` fits 255 bytes (247).
      it('names the server accepts are served, and their rows persist across a restart: 40 characters, a space, é, 203 characters', async () => {
        const dir = freshDir();
        const ext = engine === 'native' ? '.db' : '';
        for (const name of [`${'a'.repeat(40 - ext.length)}${ext}`, `my notes${ext}`, `café${ext}`, `${'n'.repeat(203 - ext.length)}${ext}`]) {
          const dbPath = join(dir, name);
          for (const round of [1, 2]) {
            const server = await new MilvusLiteServer(dbPath, { installation: installation! }).start();
            const client = await connect(server.uri);
            if (round === 1) {
              await createDocs(client, 'docs');
              await insertRows(client, 'docs', 0, 3);
            }
            expect(await countRows(client, 'docs'), `${name.length} characters, round ${round}`).toBe(3);
            await client.closeConnection();
            expect(await server.stop()).toMatchObject({ code: 0 });
          }
        }
      });

      if (engine === 'native') it('a name of 247 bytes is served; 248 bytes (SQLite\'s <name>-journal passes NAME_MAX) is refused before anything starts, counted in bytes', async () => {
        const dir = freshDir();
        const fits = join(dir, `${'x'.repeat(244)}.db`);
        const server = await new MilvusLiteServer(fits, { installation: installation! }).start();
        const client = await connect(server.uri);
        await createDocs(client, 'docs');
        await insertRows(client, 'docs', 0, 2);
        expect(await countRows(client, 'docs')).toBe(2);
        await client.closeConnection();
        expect(await server.stop()).toMatchObject({ code: 0 });
        const before = snapshot(dir);
        // 248 bytes in ASCII, and in 126 characters of 'é' (two bytes each).
        for (const name of [`${'x'.repeat(245)}.db`, `${'é'.repeat(122)}.db2`]) {
          expect(Buffer.byteLength(name)).toBe(248);
          const error = await newPool().acquire(join(dir, name)).catch((e: unknown) => e);
          expect((error as Error).cause).toBeInstanceOf(InvalidDatabaseError);
          expect(((error as Error).cause as Error).message).toBe(
            `cannot open ${join(dir, name)}: the file name is 248 bytes, and SQLite's <name>-journal beside it must fit the file system's 255, so a name holds at most 247; use a shorter file name`,
          );
        }
        expect(snapshot(dir)).toEqual(before);
      });

      it('a FIFO as the database, or a symbolic link to one: refused at once, naming the FIFO, and left as it is', async () => {
        const dir = freshDir();
        const [pipe, link] = engine === 'native' ? ['pipe.db', 'link.db'] : ['pipe', 'link'];
        const fifo = join(dir, pipe);
        expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
        symlinkSync(fifo, join(dir, link));
        const expected =
          engine === 'native'
            ? `cannot open ${fifo}: it is not a regular file; pass the path of a .db file`
            : `cannot open ${fifo}: it is not a directory (a FIFO, a socket or a device), but milvus-lite 3.x keeps a database in a directory; pass a directory path (it is created if missing), or use the native engine (milvus-lite 2.5) for .db files`;
        for (const name of [pipe, link]) {
          const error = await newPool().acquire(join(dir, name), { timeoutMs: 20_000 }).catch((e: unknown) => e);
          expect((error as Error).cause).toBeInstanceOf(InvalidDatabaseError);
          // The key is the link's target: the FIFO itself is named.
          expect(((error as Error).cause as Error).message).toBe(expected);
        }
        expect(readdirSync(dir).sort()).toEqual([link, pipe]);
        expect(lstatSync(fifo).isFIFO()).toBe(true);
      });

      if (engine === 'native') it('a path of 504 bytes serves; one of 505 is refused before anything starts, saying why (SQLite\'s 512-byte paths, with -journal)', async () => {
        const base = freshDir();
        // Directories of up to 200 bytes, so that <dir>/app.db takes exactly `bytes`.
        const pathOf = (bytes: number): string => {
          let dir = base;
          while (Buffer.byteLength(dir) < bytes - '/app.db'.length) dir = join(dir, 'd'.repeat(Math.max(1, Math.min(200, bytes - '/app.db'.length - Buffer.byteLength(dir) - 1))));
          mkdirSync(dir, { recursive: true });
          return join(dir, 'app.db');
        };
        const fits = pathOf(504);
        expect(Buffer.byteLength(fits)).toBe(504);
        const server = new MilvusLiteServer(fits, { installation: installation! });
        await server.start();
        // Writes too (SQLite's -journal file comes with them).
        const client = await connect(server.uri);
        await createDocs(client, 'docs');
        await insertRows(client, 'docs', 0, 5);
        expect(await countRows(client, 'docs')).toBe(5);
        await client.closeConnection();
        expect(await server.stop()).toMatchObject({ code: 0 });
        const long = pathOf(505);
        expect(Buffer.byteLength(long)).toBe(505);
        const error = await newPool().acquire(long).catch((e: unknown) => e);
        expect((error as Error).cause).toBeInstanceOf(InvalidDatabaseError);
        expect(((error as Error).cause as Error).message).toBe(`cannot open ${long}: the path is 505 bytes, and milvus-lite 2.x opens at most 504 (SQLite's paths hold 512 bytes, and its -journal file takes 8 more); move the database to a shorter path`);
        expect(readdirSync(dirname(long))).toEqual([]);
      });

      if (engine === 'native') it('a symbolic link to nothing: refused saying so, and the link left as it is (no file made at its target)', async () => {
        const dir = freshDir();
        const link = join(dir, 'dangling.db');
        symlinkSync(join(dir, 'gone.db'), link);
        const error = await newPool().acquire(link).catch((e: unknown) => e);
        expect((error as Error).cause).toBeInstanceOf(InvalidDatabaseError);
        expect(((error as Error).cause as Error).message).toBe(`cannot open ${link}: it is a symbolic link to nothing (its target does not exist); remove the link, or pass the path of the database itself`);
        expect(readdirSync(dir)).toEqual(['dangling.db']);
        expect(lstatSync(link).isSymbolicLink()).toBe(true);
      });

      if (engine === 'native') it('a file that is not a milvus-lite database', async () => {
        const dir = freshDir();
        const target = join(dir, 'notes.db');
        writeFileSync(target, 'these are my notes, not a database\n');
        const before = snapshot(dir);
        const error = await newPool().acquire(target).catch((e: unknown) => e);
        expect((error as Error).cause).toBeInstanceOf(InvalidDatabaseError);
        expect((error as Error).message).toMatch(/not a milvus-lite database/);
        expect(snapshot(dir)).toEqual(before);
      });

      // milvus-lite opened any SQLite file and added its tables to it (newcomer): another program's
      // database is refused by its schema, read from the file (one page, many pages, UTF-16).
      if (engine === 'native') it.each(['foreign.sqlite', 'foreign-wide.sqlite', 'foreign-utf16.sqlite'])('another program\'s SQLite database (%s): refused, naming its tables, and left byte for byte as it was', async (fixture) => {
        const dir = freshDir();
        const target = join(dir, 'theirs.db');
        copyFileSync(fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url)), target);
        const before = snapshot(dir);
        const bytes = readFileSync(target);
        const error = await newPool().acquire(target).catch((e: unknown) => e);
        expect((error as Error).cause).toBeInstanceOf(InvalidDatabaseError);
        expect(((error as Error).cause as Error).message).toMatch(/^cannot open .*theirs\.db: it is an SQLite database of another program \(its tables: (t|notes|wide_0, wide_1, wide_2, wide_3, wide_4 and 3 more); a milvus-lite database has collection_meta\), and milvus-lite would add its own tables to it; it was left untouched; pass a milvus-lite \.db file or a path that does not exist yet$/);
        expect(snapshot(dir)).toEqual(before);
        expect(readFileSync(target).equals(bytes)).toBe(true);
      });

      if (engine === 'native') it('an SQLite database with no tables yet is served (milvus-lite makes its own), and is a milvus-lite database after', async () => {
        const target = join(freshDir(), 'empty-schema.db');
        copyFileSync(fileURLToPath(new URL('../fixtures/empty-schema.sqlite', import.meta.url)), target);
        const lease = await newPool().acquire(target);
        await lease.release();
        const again = await newPool().acquire(target);
        await again.release();
      });
    });

    it('a finished start leaves nothing of its deadline: its timer cleared, no listener on the caller\'s signal', async () => {
      const dbPath = join(freshDir(), 'deadline.db');
      const controller = new AbortController();
      // The deadline's timer is the one set for startTimeoutMs (other timers, the SDK's among them, are not counted).
      const startTimeoutMs = 123_457;
      const server = new MilvusLiteServer(dbPath, { installation: installation!, startTimeoutMs });
      const timers = await deadlineTimers(startTimeoutMs, () => server.start({ signal: controller.signal }));
      try {
        expect(timers.made).toBe(1);
        expect(timers.live).toBe(0);
        expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
        // The caller's signal, aborted once the start is over, does nothing to the running server.
        controller.abort(new Error('too late'));
        await expectServes(server.uri);
      } finally {
        await server.stop();
      }
    });

    it('a running server keeps nothing of ours alive: no process, pipe or watch of its own holds the event loop', async () => {
      // What keeps the event loop alive (process.getActiveResourcesInfo lists only ref'd resources).
      const held = (): string[] => process.getActiveResourcesInfo().filter((r) => ['ProcessWrap', 'PipeWrap', 'FSEventWrap'].includes(r)).sort();
      const before = held();
      const server = new MilvusLiteServer(join(freshDir(), engine === 'native' ? 'idle.db' : 'idle'), { installation: installation! });
      await server.start();
      try {
        // The start's own probe connection closes a moment later.
        await expect.poll(held, { timeout: 2000, interval: 20 }).toEqual(before);
      } finally {
        await server.stop();
      }
    });

    it('a server that writes over 100 MB to stderr is neither held up nor ended for it (its stderr is drained; only a tail is kept)', async () => {
      // 101 MiB before the server runs: a pipe nobody reads would block the writer at 64 KiB.
      const flood = 'import sys\nsys.stderr.buffer.write(b"x" * (101 << 20))\nsys.stderr.flush()\n';
      const dir = freshDir();
      let target: Installation = installation!;
      // python: the flood from a sitecustomize on PYTHONPATH (unchanged for native).
      let pythonPath = process.env['PYTHONPATH'];
      if (engine === 'native') {
        // A stand-in for the binary (a shell script, so the native path needs no Python): the flood,
        // then the real binary in its place with its library directory (the stand-in gets an empty one).
        const binary = join(dir, 'milvus');
        const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
        const libDir = installation!.libDir ?? dirname(installation!.binary);
        writeFileSync(binary, `#!/bin/sh\nhead -c ${101 << 20} /dev/zero | tr '\\0' x >&2\nLD_LIBRARY_PATH=${quote(libDir)} exec ${quote(installation!.binary)} "$@"\n`, { mode: 0o755 });
        target = { ...installation!, binary, libDir: dir };
      } else {
        writeFileSync(join(dir, 'sitecustomize.py'), flood);
        pythonPath = dir;
      }
      const server = new MilvusLiteServer(join(dir, engine === 'native' ? 'loud.db' : 'loud'), { installation: target, startTimeoutMs: 60_000 });
      await withEnv('PYTHONPATH', pythonPath, () => server.start());
      try {
        await expectServes(server.uri);
        expect(isAlive(server.pid!)).toBe(true);
      } finally {
        expect(await server.stop()).toMatchObject({ code: 0 });
      }
    });

    it('a refused database leaves nothing of its deadline either: its timer cleared at once, so a script that gets the error can end', async () => {
      const dir = freshDir();
      // A file where milvus-lite 3.x wants a directory, or a file that is not a milvus-lite database.
      const dbPath = join(dir, engine === 'native' ? 'notes.db' : 'notes');
      writeFileSync(dbPath, 'my notes');
      const startTimeoutMs = 123_458;
      let error: unknown;
      const timers = await deadlineTimers(startTimeoutMs, async () => {
        error = await new MilvusLiteServer(dbPath, { installation: installation!, startTimeoutMs }).start().catch((e: unknown) => e);
      });
      expect(error).toBeInstanceOf(InvalidDatabaseError);
      expect(timers).toEqual({ made: 1, live: 0 });
      expect(readFileSync(dbPath, 'utf8')).toBe('my notes');
    });

    it('a relative TMPDIR: the socket directory is made under its absolute path, and the server serves', async () => {
      const tmp = freshDir();
      const relativeTmp = relative(process.cwd(), tmp);
      expect(isAbsolute(relativeTmp)).toBe(false);
      // The database elsewhere, so the server (which runs in the database's directory) would read a relative path against another directory.
      const server = new MilvusLiteServer(join(freshDir(), engine === 'native' ? 'rel.db' : 'rel'), { installation: installation!, startTimeoutMs: 20_000 });
      await withEnv('TMPDIR', relativeTmp, () => server.start());
      try {
        expect(server.uri.startsWith(`unix:${tmp}/lh-`)).toBe(true);
        await expectServes(server.uri);
      } finally {
        await server.stop();
      }
    });

    it('a TMPDIR that does not exist: a ServerStartError saying no socket directory could be made and what to do, with the file system\'s error as its cause', async () => {
      const dbPath = join(freshDir(), engine === 'native' ? 'notmp.db' : 'notmp');
      const error = await withEnv('TMPDIR', join(freshDir(), 'missing'), () => new MilvusLiteServer(dbPath, { installation: installation! }).start().catch((e: unknown) => e));
      expect(error).toBeInstanceOf(ServerStartError);
      expect((error as Error).message).toMatch(new RegExp(`^milvus-lite for ${dbPath.replaceAll('.', '\\.')} was not started: no socket directory could be made \\(ENOENT.*mkdtemp.*\\); set TMPDIR to a writable directory$`));
      expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ENOENT');
      expect(processesMentioning(dbPath)).toEqual([]);
    });

    it('the socket deleted under a running server: the server is stopped, its leases learn why, the next acquire is reachable', async () => {
      const dbPath = join(freshDir(), engine === 'native' ? 'nosock.db' : 'nosock');
      const pool = newPool();
      const lease = await pool.acquire(dbPath);
      const { pid, uri } = lease.resource;
      const socket = uri.slice('unix:'.length);
      rmSync(socket);
      await expect.poll(() => lease.signal.aborted, { timeout: 5000, interval: 20 }).toBe(true);
      expect(((lease.signal.reason as Error).cause as Error).message).toContain(`the socket ${socket} was deleted; the server was stopped`);
      // The lease learns of the exit as it happens; the process is reaped a moment later.
      await expect.poll(() => isAlive(pid!), { timeout: 5000, interval: 20 }).toBe(false);
      await lease.release();
      // The stop removes the socket directory once the process is gone.
      await expect.poll(() => existsSync(dirname(socket)), { timeout: 5000, interval: 20 }).toBe(false);
      await using again = await pool.acquire(dbPath);
      expect(again.resource.uri).not.toBe(uri);
      await expectServes(again.resource.uri);
    });

    it('the socket lives in a private 0700 directory owned by this user', async () => {
      await using lease = await newPool().acquire(join(freshDir(), 'sock.db'));
      expect(lease.resource.uri).toMatch(/^unix:\//);
      expect(statSync(lease.resource.uri.slice('unix:'.length)).isSocket()).toBe(true);
      const socketDir = dirname(lease.resource.uri.slice('unix:'.length));
      const stats = statSync(socketDir);
      expect(stats.mode & 0o777).toBe(0o700);
      expect(stats.uid).toBe(process.getuid!());
      expect(Buffer.byteLength(lease.resource.uri.slice('unix:'.length))).toBeLessThanOrEqual(107);
    });

    it('a graceful stop reports exit code 0 and an empty output tail: the socket the server removes as it stops is not reported as deleted', async () => {
      const server = new MilvusLiteServer(join(freshDir(), engine === 'native' ? 'quiet.db' : 'quiet'), { installation: installation! });
      await server.start();
      expect(await server.stop()).toEqual({ code: 0, signal: null, stderrTail: '' });
    });

    // native: the (empty) lock file stays: no unlink of it is safe against an opener that opened it
    // and has not locked it yet (issue 21); it holds no lock once the server stopped.
    it('a stop removes the socket directory, leaves the database, and lets go of the lock', async () => {
      const dir = freshDir();
      const dbPath = join(dir, 'clean.db');
      const lease = await newPool().acquire(dbPath);
      const uri = lease.resource.uri;
      await lease.release();
      expect(uri).toMatch(/^unix:\//);
      expect(() => statSync(dirname(uri.slice('unix:'.length)))).toThrow(/ENOENT/);
      expect(readdirSync(dir).sort()).toEqual(engine === 'native' ? ['.clean.db.lock', 'clean.db'] : ['clean.db']);
      await using again = await newPool().acquire(dbPath);
      expect(again.resource.pid).toBeGreaterThan(0);
    });
  });
}
