import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { describe, expect, it, vi } from 'vitest';
import { AcquireTimeoutError, createMilvusLitePool, MilvusLiteError, MilvusLiteServer, openMilvus, stopSharedServer } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { freePort } from './support/ports.js';
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

  // A method taken before the server went (a call in flight, or a reference kept) gave the SDK's
  // raw "14 UNAVAILABLE … connect ENOENT"; the newcomer met it from a shared server's SIGKILL.
  it('a call made through a method taken before its server died says the server is gone and why, not the raw gRPC error', async () => {
    const pool = newPool();
    const dbPath = join(freshDir(), 'killed.db');
    const handle = await openMilvus(dbPath, { pool, client: { logLevel: 'error' } });
    const list = handle.listCollections;
    process.kill(handle.lease.resource.pid!, 'SIGKILL');
    await new Promise<void>((resolve) => (handle.lease.signal.aborted ? resolve() : handle.lease.signal.addEventListener('abort', () => resolve())));
    const error = await list().then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(MilvusLiteError);
    expect(error?.message).toContain(`the server of this openMilvus handle of ${dbPath} is gone (`);
    expect(error?.message).toContain('SIGKILL');
    expect(error?.message).toContain(`call openMilvus(${JSON.stringify(dbPath)}) again`);
    await handle[Symbol.asyncDispose]();
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
    const closed = vi.spyOn(MilvusClient.prototype, 'closeConnection');
    await pool.evict(dbPath);
    // The stop closed the server's shared client (its channel), once.
    expect(closed.mock.contexts.map((c) => (c as MilvusClient).channelPool)).toEqual([client]);
    closed.mockRestore();
    const third = await openMilvus(dbPath, { pool });
    expect(third.channelPool).not.toBe(client);
    expect((await third.listCollections()).status.error_code).toBe('Success');
    await third[Symbol.asyncDispose]();
  });
  it("passes the caller's signal to the acquire: an aborted open rejects and holds no lease", async () => {
    const pool = newPool();
    const reason = new Error('caller gave up');
    // The reason itself, not an error of openMilvus's own clean-up (there is no watch on this path).
    await expect(openMilvus(join(freshDir(), 'aborted.db'), { pool, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(pool.stats()).toMatchObject({ leases: 0 });
  });

  it('an option openMilvus does not take is a TypeError naming it (never ignored), and a pool option says where it goes; nothing is leased', async () => {
    const pool = newPool();
    const dir = freshDir();
    const untyped = (options: object): Parameters<typeof openMilvus>[1] => options as Parameters<typeof openMilvus>[1];
    await expect(openMilvus(join(dir, 'typo.db'), untyped({ pool, timeoutMS: 5 }))).rejects.toThrow(new TypeError('openMilvus: unknown option "timeoutMS" (it takes pool, client, signal, timeoutMs, share)'));
    await expect(openMilvus(join(dir, 'engine'), untyped({ pool, engine: 'python' }))).rejects.toThrow(
      new TypeError('openMilvus: unknown option "engine" (it takes pool, client, signal, timeoutMs, share); engine is an option of the pool: openMilvus(path, { pool: createMilvusLitePool({ engine: … }) })'),
    );
    expect(pool.stats()).toMatchObject({ resources: 0, leases: 0 });
    expect(readdirSync(dir)).toEqual([]);
    // The pool's own: a typo of idleTimeoutMs is refused too, naming every option it takes.
    expect(() => createMilvusLitePool(untyped({ idleTimeout: 5000 }) as Parameters<typeof createMilvusLitePool>[0])).toThrow(
      new TypeError('createMilvusLitePool: unknown option "idleTimeout" (it takes python, binary, engine, env, installation, install, startTimeoutMs, stopTimeoutMs, port, onStartStep, idleTimeoutMs, maxResources, maxIdle, captureStacks, onError, lock, share)'),
    );
  });

  it('without a pool, opens share the process-wide pool and its one client', async () => {
    const dbPath = join(freshDir(), 'default.db');
    const first = await openMilvus(dbPath);
    const second = await openMilvus(dbPath);
    expect(second.channelPool).toBe(first.channelPool);
    expect(second.lease.resource).toBe(first.lease.resource);
    const pid = first.lease.resource.pid!;
    const channels = first.channelPool;
    await first[Symbol.asyncDispose]();
    await second[Symbol.asyncDispose]();
    // The default pool keeps it warm after the last release (test/default-pool.test.ts has the rest).
    expect(isAlive(pid)).toBe(true);
    await using third = await openMilvus(dbPath);
    expect(third.lease.resource.pid).toBe(pid);
    expect(third.channelPool).toBe(channels);
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
  it('a client config the SDK refuses: the open rejects with its error and holds no lease; the failed client is not kept, so the next open builds one', async () => {
    const pool = newPool({ idleTimeoutMs: 60_000 });
    const dbPath = join(freshDir(), 'refused.db');
    const bad = { tls: { rootCertPath: join(freshDir(), 'missing-ca.pem') } };
    // Cold: the client built during the start fails, and so does the one built after it.
    await expect(openMilvus(dbPath, { pool, client: bad })).rejects.toThrow(/ENOENT.*missing-ca\.pem/);
    expect(pool.stats()).toMatchObject({ leases: 0, resources: 1 });
    // Warm (the server is idle, no client of it exists): built now, failing again the same way.
    await expect(openMilvus(dbPath, { pool, client: bad })).rejects.toThrow(/ENOENT.*missing-ca\.pem/);
    expect(pool.stats()).toMatchObject({ leases: 0, resources: 1, started: 1 });
    // Warm, good options: a client is built for the running server, and it answers.
    const handle = await openMilvus(dbPath, { pool });
    expect(pool.stats().started).toBe(1);
    expect((await handle.listCollections()).status.error_code).toBe('Success');
    await handle[Symbol.asyncDispose]();
  });
});

const python = installationOf('python');

describe.skipIf(python === undefined)('openMilvus of a remote URI (a python-engine server on a TCP port stands in for a remote Milvus)', () => {
  const freshDir = freshDirs('lh-open-remote-');
  const newPool = poolsClosedAfterEach(python);

  it('passes the URI through: no server of its own, one shared client per URI, which answers', async () => {
    const port = await freePort();
    await using server = await new MilvusLiteServer(join(freshDir(), 'remote'), { installation: python!, port }).start();
    const pool = newPool();
    const uri = `http://127.0.0.1:${port}`;
    const first = await openMilvus(uri, { pool });
    expect(first.lease.resource.engine).toBe('remote');
    expect(first.lease.resource.pid).toBeNull();
    expect(first.config.address).toBe(uri);
    const second = await openMilvus(uri, { pool });
    expect(second.channelPool).toBe(first.channelPool);
    expect((await second.hasCollection({ collection_name: 'nope' })).value).toBe(false);
    await first[Symbol.asyncDispose]();
    await second[Symbol.asyncDispose]();
    expect(isAlive(server.pid!)).toBe(true);
  });
});

describe.skipIf(installation === undefined)('openMilvus(path, { share: true }) without a pool', () => {
  const freshDir = freshDirs('lh-open-share-');

  it('leases from the process-wide shared pool: a supervisor serves it, a handle per request stays warm (same attachment, same client), and a stop ends it', async () => {
    // Made by leasehold itself, 0700 (an existing 0755 one is refused).
    const rendezvous = join(freshDir(), 'rv');
    const before = process.env['LEASEHOLD_SHARE_DIR'];
    process.env['LEASEHOLD_SHARE_DIR'] = rendezvous;
    try {
      const dbPath = join(freshDir(), 'shared.db');
      const first = await openMilvus(dbPath, { share: true });
      const second = await openMilvus(dbPath, { share: true });
      const resource = first.lease.resource as unknown as { supervisorPid: number; pid: number };
      expect(resource.supervisorPid).toBeGreaterThan(0);
      expect(resource.supervisorPid).not.toBe(process.pid);
      expect(second.lease.resource).toBe(first.lease.resource);
      expect(second.channelPool).toBe(first.channelPool);
      expect((await first.listCollections()).status.error_code).toBe('Success');
      // Not the unshared process-wide pool: an unshared open of the same path in this process is a named conflict (share).
      const conflict = await openMilvus(dbPath).then(() => undefined, (e: unknown) => (e as Error).cause as Error);
      expect(conflict).toMatchObject({ name: 'ServerConflictError', option: 'share' });
      expect(conflict?.message).toContain('is already served in this process by openMilvus with share true; openMilvus asks for share false');
      const channel = first.channelPool;
      await first[Symbol.asyncDispose]();
      await second[Symbol.asyncDispose]();
      // Warm, as the default pool is: the next open takes the same attachment and client at once
      // (each re-attached, and built a new client, before: 0.3-1 s a request).
      const started = performance.now();
      const third = await openMilvus(dbPath, { share: true });
      expect(performance.now() - started).toBeLessThan(50);
      expect(third.lease.resource).toBe(first.lease.resource);
      expect(third.channelPool).toBe(channel);
      await third[Symbol.asyncDispose]();
      expect(isAlive(resource.pid)).toBe(true);
      expect(await stopSharedServer(dbPath, rendezvous)).toBe(true);
      expect(await eventually(() => !isAlive(resource.supervisorPid) && !isAlive(resource.pid), 10_000)).toBe(true);
    } finally {
      if (before === undefined) delete process.env['LEASEHOLD_SHARE_DIR'];
      else process.env['LEASEHOLD_SHARE_DIR'] = before;
    }
  });
});
