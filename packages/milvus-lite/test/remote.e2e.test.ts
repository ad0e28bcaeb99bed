// The remote path (DESIGN §2: remote URIs pass through, engine 'remote') against a real Milvus
// standalone, started once for this file: it takes ~30 s and a good share of the machine.
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { createMilvusLitePool, migrateDatabase, MigrateInputError, milvusClientConfig, openMilvus, RemoteUnreachableError, ServerManager } from '../src/index.js';
import { installationOf, milvusStandalonePython } from './support/installations.js';
import { createEverything, hashTree, rowsOf, schemaOf, withLite, withoutWhatPythonLiteDrops } from './support/migrate-data.js';
import { startMilvusStandalone, type MilvusStandalone } from './support/milvus-standalone.js';
import { expectReturnedOnceLoaded, loadLog } from './support/load-log.js';
import { refusedPort } from './support/ports.js';
import { processesMentioning } from './support/processes.js';

const python = milvusStandalonePython();
const native = installationOf('native');
const pythonLite = installationOf('python');
let standalone: MilvusStandalone;

// One standalone for every describe below: started once, stopped once, nothing of it left.
beforeAll(async () => {
  if (python === undefined) return;
  standalone = await startMilvusStandalone(python!);
  process.stderr.write(`[remote] Milvus standalone up at ${standalone.uri} in ${(standalone.startupMs / 1000).toFixed(1)} s\n`);
}, 240_000);

afterAll(async () => {
  const dataDir = standalone?.dataDir;
  await standalone?.stop();
  if (dataDir) expect(processesMentioning(dataDir)).toEqual([]);
}, 120_000);

describe.skipIf(python === undefined)('a real Milvus standalone (PyPI milvus)', () => {
  for (const form of ['http', 'host:port'] as const) {
    const uriOf = (): string => (form === 'http' ? standalone.uri : `127.0.0.1:${standalone.port}`);

    it(`openMilvus(${form === 'http' ? "'http://127.0.0.1:P'" : "'127.0.0.1:P'"}): the quick form, insert and search, with no local server`, async () => {
      const pool = createMilvusLitePool();
      await using client = await openMilvus(uriOf(), { pool, client: { logLevel: 'error' } });
      expect(client.lease.resource.engine).toBe('remote');
      expect(client.lease.resource.pid).toBeNull();
      const name = `quick_${form === 'http' ? 'http' : 'hostport'}`;
      await client.createCollection({ collection_name: name, dimension: 4 });
      const inserted = await client.insert({
        collection_name: name,
        data: [
          { id: 1, vector: [1, 0, 0, 0] },
          { id: 2, vector: [0, 1, 0, 0] },
          { id: 3, vector: [0, 0, 1, 0] },
        ],
      });
      expect(inserted.insert_cnt).toBe('3');
      const found = await client.search({ collection_name: name, data: [0, 1, 0, 0], limit: 1, consistency_level: 'Strong' as never });
      expect(found.results.map((r) => r.id)).toEqual(['2']);
      await client.dropCollection({ collection_name: name });
      await pool.close();
    });
  }

  it("the compatibility layer leaves a real Milvus to the SDK: describeCollection of a missing collection keeps code 100 UnexpectedError, keepalive untouched", async () => {
    const config = milvusClientConfig(standalone.uri, { logLevel: 'error' });
    expect(config.channelOptions?.['grpc.keepalive_time_ms']).toBeUndefined();
    const client = new MilvusClient(config);
    expect((await client.describeCollection({ collection_name: 'no_such_collection' })).status).toMatchObject({ code: 100, error_code: 'UnexpectedError' });
    await client.closeConnection();
    await using handle = await openMilvus(standalone.uri, { pool: createMilvusLitePool(), client: { logLevel: 'error' } });
    expect((await handle.describeCollection({ collection_name: 'no_such_collection' })).status).toMatchObject({ code: 100, error_code: 'UnexpectedError' });
    await handle.lease.release();
  });

  it('openMilvus’s client waits for a load that takes time, polling with a backoff, and returns once it is complete', async () => {
    const pool = createMilvusLitePool();
    await using client = await openMilvus(standalone.uri, { pool, client: { logLevel: 'error' } });
    const created = await loadLog(client, () => client.createCollection({ collection_name: 'slow_load', dimension: 4 }));
    expectReturnedOnceLoaded(created);
    await client.insert({ collection_name: 'slow_load', data: Array.from({ length: 100 }, (_, id) => ({ id, vector: [id, 1, 0, 0] })) });
    await client.flushSync({ collection_names: ['slow_load'] });
    await client.releaseCollection({ collection_name: 'slow_load' });
    const loaded = await loadLog(client, () => client.loadCollection({ collection_name: 'slow_load' }));
    expectReturnedOnceLoaded(loaded);
    // A standalone load is not done at the first poll: the client polled again, after ~10 ms, not the SDK's 400.
    const polls = [...created, ...loaded].filter((event) => event.kind === 'progress');
    expect(polls.some((event) => event.kind === 'progress' && event.progress < 100)).toBe(true);
    const firstGap = loaded[1] !== undefined && loaded[1].kind === 'progress' ? loaded[1].at - loaded[0]!.at : created[1]!.at - created[0]!.at;
    expect(firstGap).toBeLessThan(200);
    expect((await client.getLoadState({ collection_name: 'slow_load' })).state).toBe('LoadStateLoaded');
    await client.dropCollection({ collection_name: 'slow_load' });
    await pool.close();
  });

  it('openMilvus shares one lease key per remote URI across handles', async () => {
    const pool = createMilvusLitePool();
    await using a = await openMilvus(standalone.uri, { pool, client: { logLevel: 'error' } });
    await using b = await openMilvus(standalone.uri, { pool, client: { logLevel: 'error' } });
    expect(a.lease.key).toBe(standalone.uri);
    expect(b.lease.resource).toBe(a.lease.resource);
    expect(pool.stats()).toMatchObject({ resources: 1, leases: 2 });
    expect((await a.listCollections()).status.error_code).toBe('Success');
    expect((await b.listCollections()).status.error_code).toBe('Success');
    await pool.close();
  });

  it('createMilvusLitePool: a remote URI is a resource of its own, started once, its uri untouched', async () => {
    await using pool = createMilvusLitePool();
    const [a, b] = await Promise.all([pool.acquire(standalone.uri), pool.acquire(standalone.uri)]);
    expect(a.resource).toBe(b.resource);
    expect(a.resource.uri).toBe(standalone.uri);
    expect(pool.stats()).toMatchObject({ started: 1, resources: 1, leases: 2 });
    const client = new MilvusClient({ address: a.resource.uri, logLevel: 'error' });
    expect((await client.getVersion()).version).toMatch(/^v?2\.3/);
    await client.closeConnection();
    await a.release();
    await b.release();
    expect(pool.stats().resources).toBe(0);
  });

  it('ServerManager.startAndGetUri of a remote URI returns it, for both spellings', async () => {
    await using manager = new ServerManager();
    expect(await manager.startAndGetUri(standalone.uri)).toBe(standalone.uri);
    expect(await manager.startAndGetUri(`127.0.0.1:${standalone.port}`)).toBe(`127.0.0.1:${standalone.port}`);
    await manager.releaseServer(standalone.uri);
  });
});

describe.skipIf(python === undefined)('migrateDatabase between milvus-lite and the standalone', () => {
  const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'lh-migrate-remote-')));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const lite = { installation: native! };
  const remote = (): MilvusClient => new MilvusClient({ address: standalone.uri, logLevel: 'error' });

  for (const autoId of [false, true]) {
    it(`lite (native) → standalone, every field type 2.3 takes, ${autoId ? 'auto ids regenerated' : 'given ids kept'}; the source hashes the same`, async () => {
      const source = join(scratch, `to-remote-${String(autoId)}.db`);
      const name = `everything_${autoId ? 'auto' : 'given'}`;
      const before = await withLite(native!, source, async (client) => {
        // milvus-lite 2.5 (native) has no partitions; standalone → python-engine lite copies them.
        await createEverything(client, name, { rows: 25, autoId, vectors: '2.3', partition: false });
        return { schema: await schemaOf(client, name), rows: await rowsOf(client, name, { withId: !autoId }) };
      });
      const hashed = hashTree(source);
      const progress: number[] = [];
      const summary = await migrateDatabase(source, standalone.uri, { batchSize: 7, sourceServer: lite, onProgress: (p) => progress.push(p.rows) });
      expect(hashTree(source)).toEqual(hashed);
      expect(summary.collections).toEqual([
        { name, sourceRows: 25, targetRows: 25, duplicateKeyRows: 0, partitions: [], indexes: ['vec_ivf: IVF_FLAT/IP'], primaryKeysRegenerated: autoId, replaced: false },
      ]);
      expect(progress).toEqual([7, 14, 21, 25]);
      const client = remote();
      expect(await schemaOf(client, name)).toEqual(before.schema);
      expect(await rowsOf(client, name, { withId: !autoId })).toEqual(before.rows);
      if (autoId) {
        const ids = (await client.query({ collection_name: name, filter: 'i16 >= 0', output_fields: ['id'], consistency_level: 'Strong' as never })).data.map((r) => String(r['id']));
        expect(new Set(ids).size).toBe(25);
      }
      // Again, without replace: refused before anything is written; with replace: copied over.
      await expect(migrateDatabase(source, standalone.uri, { sourceServer: lite })).rejects.toThrow(MigrateInputError);
      const again = await migrateDatabase(source, standalone.uri, { sourceServer: lite, replace: true });
      expect(again.collections[0]).toMatchObject({ replaced: true, targetRows: 25 });
      expect(hashTree(source)).toEqual(hashed);
      await client.dropCollection({ collection_name: name });
      await client.closeConnection();
    });
  }

  it('standalone → lite (python engine): schema, indexes, partitions and rows, only the named collection', async () => {
    const pyLite = { installation: pythonLite! };
    const client = remote();
    await createEverything(client, 'from_remote', { rows: 30, autoId: false, vectors: '2.3' });
    await createEverything(client, 'left_behind', { rows: 2, autoId: false, vectors: '2.3' });
    const schema = await schemaOf(client, 'from_remote');
    const rows = await rowsOf(client, 'from_remote', { withId: true });
    const target = join(scratch, 'from-remote.db');
    const odd = await rowsOf(client, 'from_remote', { withId: true, partition: 'p_odd' });
    const summary = await migrateDatabase(`127.0.0.1:${standalone.port}`, target, { collections: ['from_remote'], batchSize: 8, targetServer: pyLite });
    expect(summary).toMatchObject({ rows: 30, collections: [{ name: 'from_remote', sourceRows: 30, targetRows: 30, partitions: ['p_odd'] }] });
    await withLite(
      pyLite.installation,
      target,
      async (lc) => {
        expect((await lc.listCollections()).data.map((c) => c.name)).toEqual(['from_remote']);
        expect(await schemaOf(lc, 'from_remote')).toEqual(withoutWhatPythonLiteDrops(schema));
        expect(await rowsOf(lc, 'from_remote', { withId: true })).toEqual(rows);
        expect(await rowsOf(lc, 'from_remote', { withId: true, partition: 'p_odd' })).toEqual(odd);
      },
    );
    for (const name of ['from_remote', 'left_behind']) await client.dropCollection({ collection_name: name });
    await client.closeConnection();
  });
});

describe('a remote Milvus that is down', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  beforeAll(() => void process.on('unhandledRejection', onUnhandled));
  afterAll(() => void process.off('unhandledRejection', onUnhandled));

  for (const spell of [(p: number) => `http://127.0.0.1:${p}`, (p: number) => `127.0.0.1:${p}`]) {
    it(`acquire of ${spell(0).replace(':0', ':P')} rejects naming the URI, within the acquire's timeout, with no unhandled rejection`, async () => {
      const uri = spell(await refusedPort());
      await using pool = createMilvusLitePool({ startTimeoutMs: 60_000 });
      const started = performance.now();
      const error = await pool.acquire(uri, { timeoutMs: 1500 }).catch((e: unknown) => e);
      expect(performance.now() - started).toBeLessThan(5000);
      expect((error as Error).message).toContain(uri);
      // With a short startTimeoutMs the start itself gives up and says why.
      await using quick = createMilvusLitePool({ startTimeoutMs: 500 });
      const startError = await quick.acquire(uri).catch((e: unknown) => e);
      expect((startError as Error).message).toContain(uri);
      expect(((startError as Error).cause as Error)).toBeInstanceOf(RemoteUnreachableError);
      expect(((startError as Error).cause as Error).message).toMatch(/does not answer/);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(unhandled).toEqual([]);
    });
  }

  it('openMilvus of a down URI rejects naming it, and ServerManager logs it and returns null', async () => {
    const uri = `http://127.0.0.1:${await refusedPort()}`;
    const pool = createMilvusLitePool({ startTimeoutMs: 500 });
    await expect(openMilvus(uri, { pool })).rejects.toThrow(uri);
    await pool.close();
    const log: string[] = [];
    await using manager = new ServerManager({ startTimeoutMs: 500, log: (line) => log.push(line) });
    expect(await manager.startAndGetUri(uri)).toBeNull();
    expect(log.join('\n')).toContain(uri);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(unhandled).toEqual([]);
  });
});
