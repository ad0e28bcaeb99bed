// One server per database file per process, whichever API or copy of the package opens it (issue 21
// item 2), and "in use" errors that name the holder and say how to share (item 3): real servers.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { createMilvusLitePool, MilvusLiteServer, openMilvus, serverManagerInstance, ServerManager, stopSharedServer, type LeasePool } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

const installation = installationOf('native');
const freshDir = freshDirs('lh-registry-');
const packageDir = fileURLToPath(new URL('..', import.meta.url));

type CopyModule = { createMilvusLitePool: typeof createMilvusLitePool };

/** A copy of the built package in its own directory (as npm aliases or a bundle make), with `version`; `registry` replaces the registry protocol. */
async function loadCopy(version: string, registry?: string): Promise<{ module: CopyModule; path: string }> {
  // Inside the package, so that its imports (execa, @leasehold/pool) resolve from node_modules.
  const path = join(packageDir, `.copy-${version}-${process.pid}`);
  cpSync(join(packageDir, 'dist'), join(path, 'dist'), { recursive: true });
  writeFileSync(join(path, 'package.json'), JSON.stringify({ name: '@leasehold/milvus-lite', version, type: 'module' }));
  if (registry !== undefined) {
    const file = join(path, 'dist', 'server', 'registry.js');
    writeFileSync(file, readFileSync(file, 'utf8').replace('registry@1', registry));
  }
  copies.push(path);
  return { module: (await import(join(path, 'dist', 'index.js'))) as CopyModule, path };
}
const copies: string[] = [];
afterAll(() => {
  for (const path of copies) rmSync(path, { recursive: true, force: true });
});

describe.skipIf(installation === undefined)('one server per database file per process', () => {
  const newPool = poolsClosedAfterEach(installation);

  it('openMilvus and serverManagerInstance on one path give one server; after serverManagerInstance.releaseAll() the openMilvus handle still works', async () => {
    const dbPath = join(freshDir(), 'both.db');
    await using client = await openMilvus(dbPath);
    const uri = await serverManagerInstance.startAndGetUri(dbPath);
    expect(uri).toBe(client.lease.resource.uri);
    const manager = new ServerManager({ installation: installation! });
    expect(await manager.startAndGetUri(dbPath)).toBe(uri);
    await using lease = await newPool().acquire(dbPath);
    expect(lease.resource.pid).toBe(client.lease.resource.pid);
    await serverManagerInstance.releaseAll();
    await manager.releaseServer(dbPath);
    await client.createCollection({ collection_name: 'kept', dimension: 4 });
    expect((await client.hasCollection({ collection_name: 'kept' })).value).toBe(true);
  });

  it('two copies of the package loaded from two directories give one server pid', async () => {
    const dbPath = join(freshDir(), 'copies.db');
    const copy = await loadCopy('0.1.0-copy');
    await using ours = await newPool().acquire(dbPath);
    const theirs = copy.module.createMilvusLitePool({ installation: installation! });
    try {
      const lease = await theirs.acquire(dbPath);
      expect(lease.resource.pid).toBe(ours.resource.pid);
      await lease.release();
    } finally {
      await theirs.close();
    }
    expect(ours.signal.aborted).toBe(false);
  });

  it('a copy that cannot share the registry (another protocol): "in use" says this process, and names the other copy, its version and its path', async () => {
    const dbPath = join(freshDir(), 'incompatible.db');
    const copy = await loadCopy('9.9.9', 'registry@999');
    await using ours = await newPool().acquire(dbPath);
    const theirs: LeasePool<MilvusLiteServer> = copy.module.createMilvusLitePool({ installation: installation! });
    try {
      const error = await theirs.acquire(dbPath).then(() => undefined, (e: unknown) => e as Error);
      expect(error?.name).toBe('KeyLockedError');
      expect(error?.message).toContain(`${dbPath} is in use: this process already runs its server (the server that a createMilvusLitePool pool holds, in another copy of @leasehold/milvus-lite (version 0.1.0 at ${packageDir.replace(/\/$/, '')}) whose registry this copy (version 9.9.9 at ${copy.path})`);
      expect(error?.message).not.toMatch(/another program/);
    } finally {
      await theirs.close();
    }
    expect(ours.signal.aborted).toBe(false);
  });

  it('a MilvusLiteServer used directly is not in the registry: each side is told "this process" and which holder it is', async () => {
    const dbPath = join(freshDir(), 'direct.db');
    await using direct = await new MilvusLiteServer(dbPath, { installation: installation! }).start();
    const refused = await newPool().acquire(dbPath).then(() => undefined, (e: unknown) => e as Error);
    expect(refused?.name).toBe('KeyLockedError');
    expect(refused?.message).toContain('is in use: this process already runs its server (a MilvusLiteServer used directly, outside the registry)');
    await direct.stop();
    await using client = await openMilvus(dbPath);
    const second = await new MilvusLiteServer(dbPath, { installation: installation! }).start().then(() => undefined, (e: unknown) => e as Error);
    expect(second?.message).toContain('is in use: this process already runs its server (the server that openMilvus holds)');
    expect(client.lease.signal.aborted).toBe(false);
  });

  it('conflicting options for one file are a named error saying which option conflicts with which holder', async () => {
    const dbPath = join(freshDir(), 'conflict.db');
    await using client = await openMilvus(dbPath);
    const locked = await newPool({ lock: true }).acquire(dbPath).then(() => undefined, (e: unknown) => e as Error);
    expect((locked?.cause as Error).name).toBe('ServerConflictError');
    expect((locked?.cause as Error).message).toBe(
      `${dbPath} is already served in this process by openMilvus with lock false; a createMilvusLitePool pool asks for lock true, and one database file has one server per process: open it with the same lock as openMilvus, or release theirs first`,
    );
    const shared = await newPool({ share: true }).acquire(dbPath).then(() => undefined, (e: unknown) => e as Error);
    expect((shared?.cause as Error).message).toContain('by openMilvus with share false; a createMilvusLitePool pool asks for share true');
    expect(client.lease.signal.aborted).toBe(false);
  });

  it('two worker threads on one file without share: a clear error saying so; with share: true, one server', async () => {
    const dbPath = join(freshDir(), 'threads.db');
    const run = (share: boolean) =>
      Array.from({ length: 2 }, () => {
        const worker = new Worker(new URL('./fixtures/thread-open.mjs', import.meta.url), { workerData: { dbPath, installation, share } });
        const report = new Promise<{ serverPid?: number; error?: string; message?: string }>((resolve) => worker.once('message', resolve));
        const close = async (): Promise<void> => {
          worker.postMessage('close');
          await new Promise((resolve) => worker.once('message', resolve));
          await worker.terminate();
        };
        return { report, close };
      });
    const own = run(false);
    const reports = await Promise.all(own.map((w) => w.report));
    const refused = reports.filter((r) => r.error !== undefined);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.message).toContain('this process already runs its server (from another worker thread');
    expect(refused[0]!.message).toContain('open it with `share: true` (or LEASEHOLD_SHARE=1)');
    await Promise.all(own.map((w) => w.close()));
    const shared = run(true);
    const pids = (await Promise.all(shared.map((w) => w.report))).map((r) => r.serverPid);
    expect(pids[0]).toBeGreaterThan(0);
    expect(pids[1]).toBe(pids[0]);
    await Promise.all(shared.map((w) => w.close()));
    await stopSharedServer(dbPath);
  });

  it('node:cluster workers on one database: the refused say which leasehold process holds it (pid) and how to share; with share: true all are served by one server', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'own'));
    const cluster = fileURLToPath(new URL('./fixtures/cluster.mjs', import.meta.url));
    const own = await execa(process.execPath, [cluster, join(dir, 'own', 'app.db'), JSON.stringify(installation), 'own'], { timeout: 120_000 });
    const reports = JSON.parse(own.stdout.split('\n')[0]!) as Array<{ worker: number; serverPid?: number; error?: string; message?: string }>;
    const served = reports.filter((r) => r.serverPid !== undefined);
    expect(served).toHaveLength(1);
    for (const r of reports.filter((r) => r.error !== undefined)) {
      expect(r.error).toBe('KeyLockedError');
      expect(r.message).toContain(`another leasehold process of this user (pid ${served[0]!.worker}) runs its server`);
      expect(r.message).toContain('open it with `share: true` (or set LEASEHOLD_SHARE=1) in every process');
      expect(r.message).not.toMatch(/another program/);
    }
    const shared = await execa(process.execPath, [cluster, join(dir, 'app.db'), JSON.stringify(installation), 'share'], { timeout: 120_000 });
    const pids = (JSON.parse(shared.stdout.split('\n')[0]!) as Array<{ serverPid?: number }>).map((r) => r.serverPid);
    expect(new Set(pids).size).toBe(1);
    expect(pids[0]).toBeGreaterThan(0);
    await stopSharedServer(join(dir, 'app.db'));
  });
});
