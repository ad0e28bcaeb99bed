import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AcquireTimeoutError, MilvusLiteError, openMilvus } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { isAlive } from './support/processes.js';
import { eventually } from './support/share-processes.js';
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
  it('the client options reach the shared client: a cold open (built while the server starts), and the first open after a stop', async () => {
    const pool = newPool({ idleTimeoutMs: 60_000 });
    const dbPath = join(freshDir(), 'options.db');
    const cold = await openMilvus(dbPath, { pool, client: { timeout: 4321, username: 'cold' } });
    expect(cold.config).toMatchObject({ address: cold.lease.resource.uri, timeout: 4321, username: 'cold' });
    // The shared client exists: a later open's options do not make another (the interface's word).
    const warm = await openMilvus(dbPath, { pool, client: { timeout: 1 } });
    expect(warm.config.timeout).toBe(4321);
    await cold[Symbol.asyncDispose]();
    await warm[Symbol.asyncDispose]();
    await pool.evict(dbPath);
    const again = await openMilvus(dbPath, { pool, client: { timeout: 5678 } });
    expect(again.config).toMatchObject({ timeout: 5678 });
    expect(again.config.username).not.toBe('cold');
    expect((await again.listCollections()).status.error_code).toBe('Success');
    await again[Symbol.asyncDispose]();
  });

  it('a timeoutMs the cold start cannot meet rejects with AcquireTimeoutError, holds no lease, and the abandoned start leaves no server', async () => {
    const pool = newPool();
    const dbPath = join(freshDir(), 'timeout.db');
    await expect(openMilvus(dbPath, { pool, timeoutMs: 1 })).rejects.toBeInstanceOf(AcquireTimeoutError);
    expect(pool.stats().leases).toBe(0);
    expect(await eventually(() => pool.stats().resources === 0, 10_000)).toBe(true);
    // A later open of the same path is served as usual (what the timed-out one began was undone).
    const handle = await openMilvus(dbPath, { pool, timeoutMs: 30_000 });
    expect((await handle.hasCollection({ collection_name: 'nope' })).value).toBe(false);
    await handle[Symbol.asyncDispose]();
  });

  it('a handle: never a thenable, even released; its methods bound once; writes reach the shared client until it is released; its lease stays readable', async () => {
    const pool = newPool();
    const dbPath = join(freshDir(), 'proxy.db');
    const keep = await openMilvus(dbPath, { pool });
    const handle = await openMilvus(dbPath, { pool });
    expect((handle as { then?: unknown }).then).toBeUndefined();
    expect(handle.listCollections).toBe(handle.listCollections);
    (handle as unknown as Record<string, unknown>)['leaseholdMark'] = 7;
    expect((keep as unknown as Record<string, unknown>)['leaseholdMark']).toBe(7);
    const lease = handle.lease;
    await handle[Symbol.asyncDispose]();
    expect(handle.lease).toBe(lease);
    expect(lease.released).toBe(true);
    // An async function may still return a released handle: awaiting it reads `then`, which must not throw.
    await expect(Promise.resolve(handle)).resolves.toBe(handle);
    expect(() => ((handle as unknown as Record<string, unknown>)['leaseholdMark'] = 8)).toThrow(MilvusLiteError);
    expect((keep as unknown as Record<string, unknown>)['leaseholdMark']).toBe(7);
    expect(() => handle.config).toThrow(`this openMilvus handle of ${dbPath} was released`);
    await keep[Symbol.asyncDispose]();
  });
});
