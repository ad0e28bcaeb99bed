import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MilvusLiteError, openMilvus } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { isAlive } from './support/processes.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

const installation = installationOf('native');

describe.skipIf(installation === undefined)('openMilvus shares one client per server', () => {
  const freshDir = freshDirs('lh-open-');
  const newPool = poolsClosedAfterEach(installation);

  it('concurrent cold opens make one client; each handle holds its own lease', async () => {
    const pool = newPool();
    const dbPath = join(freshDir(), 'shared.db');
    const handles = await Promise.all(Array.from({ length: 5 }, () => openMilvus(dbPath, { pool })));
    expect(pool.stats()).toMatchObject({ resources: 1, leases: 5, started: 1 });
    // The same connected client behind every handle: its methods are the client's, bound once.
    const channels = new Set(handles.map((h) => h.channelPool));
    expect(channels.size).toBe(1);
    expect(new Set(handles.map((h) => h.lease)).size).toBe(5);
    expect(handles[0]!.lease.resource.engine).toBe('native');
    await handles[0]![Symbol.asyncDispose]();
    expect(pool.stats().leases).toBe(4);
    // Releasing one never closes the shared client under the others (pymilvus#3132).
    expect((await handles[1]!.listCollections()).status.error_code).toBe('Success');
    await handles[1]!.closeConnection();
    expect(pool.stats().leases).toBe(3);
    expect((await handles[2]!.hasCollection({ collection_name: 'nope' })).value).toBe(false);
    const pid = handles[2]!.lease.resource.pid!;
    for (const handle of handles.slice(2)) await handle[Symbol.asyncDispose]();
    expect(pool.stats().resources).toBe(0);
    expect(isAlive(pid)).toBe(false);
  });

  it('a handle used after release throws an error naming the path; releasing twice is harmless', async () => {
    const pool = newPool();
    const dbPath = join(freshDir(), 'released.db');
    const keep = await openMilvus(dbPath, { pool });
    const handle = await openMilvus(dbPath, { pool });
    await handle.closeConnection();
    await handle[Symbol.asyncDispose]();
    expect(pool.stats().leases).toBe(1);
    expect(() => handle.listCollections).toThrow(MilvusLiteError);
    expect(() => handle.listCollections).toThrow(dbPath);
    expect((await keep.listCollections()).status.error_code).toBe('Success');
    await keep[Symbol.asyncDispose]();
  });

  it('a warm open reuses the client: a new one only after the server stopped', async () => {
    const pool = newPool({ idleTimeoutMs: 60_000 });
    const dbPath = join(freshDir(), 'warm.db');
    const first = await openMilvus(dbPath, { pool });
    const client = first.channelPool;
    await first[Symbol.asyncDispose]();
    const second = await openMilvus(dbPath, { pool });
    expect(second.channelPool).toBe(client);
    await second[Symbol.asyncDispose]();
    await pool.evict(dbPath);
    const third = await openMilvus(dbPath, { pool });
    expect(third.channelPool).not.toBe(client);
    expect((await third.listCollections()).status.error_code).toBe('Success');
    await third[Symbol.asyncDispose]();
  });
  it("passes the caller's signal to the acquire: an aborted open rejects and holds no lease", async () => {
    const pool = newPool();
    const reason = new Error('caller gave up');
    await expect(openMilvus(join(freshDir(), 'aborted.db'), { pool, signal: AbortSignal.abort(reason) })).rejects.toThrow();
    expect(pool.stats()).toMatchObject({ leases: 0 });
  });

  it('without a pool, opens share the process-wide pool and its one client', async () => {
    const dbPath = join(freshDir(), 'default.db');
    const first = await openMilvus(dbPath);
    const second = await openMilvus(dbPath);
    expect(second.channelPool).toBe(first.channelPool);
    expect(second.lease.resource).toBe(first.lease.resource);
    const pid = first.lease.resource.pid!;
    await first[Symbol.asyncDispose]();
    await second[Symbol.asyncDispose]();
    expect(isAlive(pid)).toBe(false);
  });
});
