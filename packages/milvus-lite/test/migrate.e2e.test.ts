// migrateDatabase between two local databases (the standalone ones are in remote.e2e.test.ts), and
// every bad input: a clear error, and nothing written.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { createMilvusLitePool, InvalidDatabaseError, migrateDatabase, MigrateInputError, openMilvus, RemoteUnreachableError, type Installation } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { createEverything, hashTree, rowsOf, schemaOf, withLite } from './support/migrate-data.js';
import { freePort, refusedPort } from './support/ports.js';
import { freshDirs } from './support/scratch-dirs.js';

const native = installationOf('native');
const python = installationOf('python');
const freshDir = freshDirs('lh-migrate-');

describe.skipIf(native === undefined || python === undefined)('migrateDatabase, local to local', () => {
  it('python-engine lite → native lite: every field type both engines take, indexes, dynamic field; the source hashes the same', async () => {
    const dir = freshDir();
    const source = join(dir, 'py.db');
    const target = join(dir, 'native.db');
    const before = await withLite(python!, source, async (client) => {
      await createEverything(client, 'all_types', { rows: 40, autoId: false, vectors: 'lite', partition: false });
      await createEverything(client, 'auto_ids', { rows: 9, autoId: true, vectors: 'lite', partition: false });
      return {
        schema: await schemaOf(client, 'all_types'),
        rows: await rowsOf(client, 'all_types', { withId: true }),
        autoRows: await rowsOf(client, 'auto_ids', { withId: false }),
      };
    });
    const hashed = hashTree(source);
    const summary = await migrateDatabase(source, target, { batchSize: 16, sourceServer: { installation: python! }, targetServer: { installation: native! } });
    expect(hashTree(source)).toEqual(hashed);
    expect(summary.collections.map((c) => [c.name, c.sourceRows, c.targetRows, c.primaryKeysRegenerated])).toEqual([
      ['all_types', 40, 40, false],
      ['auto_ids', 9, 9, true],
    ]);
    await withLite(native!, target, async (client) => {
      expect(await schemaOf(client, 'all_types')).toEqual(before.schema);
      expect(await rowsOf(client, 'all_types', { withId: true })).toEqual(before.rows);
      expect(await rowsOf(client, 'auto_ids', { withId: false })).toEqual(before.autoRows);
    });
  });
});

describe.skipIf(native === undefined)('migrateDatabase refuses bad input before writing anything', () => {
  const lite = (): { installation: Installation } => ({ installation: native! });
  async function sourceWithDocs(): Promise<{ dir: string; source: string; hashed: Record<string, string> }> {
    const dir = freshDir();
    const source = join(dir, 'src.db');
    await withLite(native!, source, (client) => createEverything(client, 'docs', { rows: 5, autoId: false, vectors: '2.3', partition: false }));
    return { dir, source, hashed: hashTree(source) };
  }

  it('a missing source: InvalidDatabaseError naming it; no target created', async () => {
    const dir = freshDir();
    const error = await migrateDatabase(join(dir, 'nope.db'), join(dir, 'out.db'), { sourceServer: lite(), targetServer: lite() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidDatabaseError);
    expect((error as Error).message).toContain(join(dir, 'nope.db'));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the same database twice (also through another spelling): refused', async () => {
    const { dir, source, hashed } = await sourceWithDocs();
    for (const target of [source, join(dir, '.', 'src.db'), `${dir}/../${dir.split('/').at(-1)!}/src.db`]) {
      await expect(migrateDatabase(source, target, { sourceServer: lite(), targetServer: lite() })).rejects.toThrow(/same database/);
    }
    await expect(migrateDatabase('http://127.0.0.1:19530', '127.0.0.1:19530')).rejects.toThrow(MigrateInputError);
    expect(hashTree(source)).toEqual(hashed);
  });

  it('a --collection the source does not have: named, with what it has; no target created', async () => {
    const { dir, source, hashed } = await sourceWithDocs();
    const target = join(dir, 'out.db');
    const error = await migrateDatabase(source, target, { collections: ['docs', 'ghost'], sourceServer: lite(), targetServer: lite() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrateInputError);
    expect((error as Error).message).toMatch(/has no collection "ghost"; it has: docs/);
    expect(existsSync(target)).toBe(false);
    expect(hashTree(source)).toEqual(hashed);
  });

  it('an unreachable target URI: RemoteUnreachableError naming it, within startTimeoutMs', async () => {
    const { source, hashed } = await sourceWithDocs();
    const port = await refusedPort();
    const uri = `http://127.0.0.1:${port}`;
    const error = await migrateDatabase(source, uri, { sourceServer: lite(), targetServer: { startTimeoutMs: 1000 } }).catch((e: unknown) => e);
    expect((error as Error).message).toContain(uri);
    expect((error as Error).cause).toBeInstanceOf(RemoteUnreachableError);
    expect(hashTree(source)).toEqual(hashed);
  });

  it('a same-name collection in the target: refused, the target untouched, unless replace', async () => {
    const { dir, source } = await sourceWithDocs();
    const target = join(dir, 'out.db');
    await withLite(native!, target, (client) => createEverything(client, 'docs', { rows: 2, autoId: false, vectors: '2.3', partition: false }));
    const hashedTarget = hashTree(target);
    await expect(migrateDatabase(source, target, { sourceServer: lite(), targetServer: lite() })).rejects.toThrow(/already has "docs"; nothing was written/);
    expect(hashTree(target)).toEqual(hashedTarget);
    const summary = await migrateDatabase(source, target, { replace: true, sourceServer: lite(), targetServer: lite() });
    expect(summary.collections).toMatchObject([{ name: 'docs', replaced: true, sourceRows: 5, targetRows: 5 }]);
  });

  it.skipIf(python === undefined)('partitions into milvus-lite 2.5, which has none: a clear error, and the half-made collection gone', async () => {
    const dir = freshDir();
    const source = join(dir, 'py.db');
    await withLite(python!, source, (client) => createEverything(client, 'parted', { rows: 4, autoId: false, vectors: '2.3' }));
    const target = join(dir, 'native.db');
    await expect(migrateDatabase(source, target, { sourceServer: { installation: python! }, targetServer: lite() })).rejects.toThrow(/does not keep partitions .* "p_odd"/);
    expect(await withLite(native!, target, async (client) => (await client.listCollections()).data.map((c) => c.name))).toEqual([]);
  });
});

// The CLI as installed: the bin shim pnpm puts in node_modules/.bin for the workspace.
const cli = fileURLToPath(new URL('../../../node_modules/.bin/leasehold-milvus', import.meta.url));
const run = (args: string[]) => execa(cli, args, { reject: false, timeout: 180_000, env: { MILVUS_LITE_PYTHON: native?.python ?? '' } });

describe('leasehold-milvus migrate: usage', () => {
  it('--help documents the options and exit code 5', async () => {
    const result = await run(['migrate', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Usage: leasehold-milvus migrate <source> <target>/);
    expect(result.stdout).toMatch(/--collection NAME[\s\S]*--batch-size N[\s\S]*--replace[\s\S]*--json[\s\S]*exit code 5/);
    expect((await run(['--help'])).stdout).toMatch(/5 migrate: row counts differ/);
  });

  it.each([
    [['migrate', 'a.db'], /migrate needs a source and a target/],
    [['migrate', 'a.db', 'b.db', '--batch-size', '0'], /--batch-size must be an integer ≥ 1, got "0"/],
    [['migrate', 'a.db', 'b.db', '--target-engine', 'rust'], /^leasehold-milvus: --target-engine must be auto, native or python, got "rust"$/m],
  ])('%j is bad usage: exit 2', async (args, message) => {
    const result = await run(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe.skipIf(native === undefined)('leasehold-milvus migrate with the real server', () => {
  it('copies the named collection, prints a --json summary, refuses a clash with exit 2, writes nothing for a missing collection', async () => {
    const dir = freshDir();
    const source = join(dir, 'src.db');
    await withLite(native!, source, async (client) => {
      await createEverything(client, 'docs', { rows: 12, autoId: true, vectors: '2.3', partition: false });
      await createEverything(client, 'other', { rows: 3, autoId: false, vectors: '2.3', partition: false });
    });
    const hashed = hashTree(source);
    const target = join(dir, 'out.db');
    const ok = await run(['migrate', source, target, '--collection', 'docs', '--batch-size', '5', '--json']);
    expect(ok.exitCode).toBe(0);
    const summary = JSON.parse(ok.stdout) as { rows: number; collections: { name: string; targetRows: number; primaryKeysRegenerated: boolean }[] };
    expect(summary).toMatchObject({ rows: 12, collections: [{ name: 'docs', targetRows: 12, primaryKeysRegenerated: true }] });
    const plain = await run(['migrate', source, join(dir, 'plain.db'), '--collection', 'docs']);
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toMatch(/docs: 12 rows, indexes vec_ivf: IVF_FLAT\/IP; auto_id primary keys were generated anew by the target/);
    expect(plain.stdout).toMatch(/Migrated 12 rows in 1 collection\(s\) to .*plain\.db in [\d.]+ s \(\d+ rows\/s\); counts verified/);
    const clash = await run(['migrate', source, target, '--collection', 'docs']);
    expect(clash.exitCode).toBe(2);
    expect(clash.stderr).toMatch(/already has "docs"; nothing was written/);
    const ghost = await run(['migrate', source, join(dir, 'ghost.db'), '--collection', 'ghost']);
    expect(ghost.exitCode).toBe(2);
    expect(ghost.stderr).toMatch(/has no collection "ghost"; it has: docs, other/);
    expect(existsSync(join(dir, 'ghost.db'))).toBe(false);
    expect(hashTree(source)).toEqual(hashed);
    await withLite(native!, target, async (client) => expect((await client.listCollections()).data.map((c) => c.name)).toEqual(['docs']));
  });
});

describe.skipIf(native === undefined)('leasehold-milvus migrate: rows that repeat a primary key', () => {
  // milvus-lite keeps every insert of one key (the README quick start run three times): count(*)
  // counts them all, a query returns one row per key. The copy has one per key and says so.
  it('are counted as such: the copy has one row per key, the check passes, and the summary says how many repeated', async () => {
    const dir = freshDir();
    const source = join(dir, 'dup.db');
    {
      await using pool = createMilvusLitePool({ installation: native! });
      await using client = await openMilvus(source, { pool, client: { logLevel: 'error' } });
      await client.createCollection({ collection_name: 'docs', dimension: 4 });
      for (let i = 0; i < 3; i++) {
        const inserted = await client.insert({ collection_name: 'docs', data: [{ id: 1, vector: [0.1, 0.2, 0.3, 0.4] }, { id: 2 + i, vector: [0.5, 0.6, 0.7, 0.8] }] });
        expect(Number(inserted.insert_cnt)).toBe(2);
      }
    }
    const result = await run(['migrate', source, join(dir, 'out.db'), '--batch-size', '2', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ collections: [{ name: 'docs', sourceRows: 6, duplicateKeyRows: 2, targetRows: 4 }] });
    const plain = await run(['migrate', source, join(dir, 'plain.db')]);
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toMatch(/docs: 4 rows, indexes [^;]+; 2 rows of the source repeated another row's primary key, and were copied once per key\n/);
    // One of each, in the singular (newcomer: "1 rows").
    const single = join(dir, 'single.db');
    {
      await using pool = createMilvusLitePool({ installation: native! });
      await using client = await openMilvus(single, { pool, client: { logLevel: 'error' } });
      await client.createCollection({ collection_name: 'docs', dimension: 4 });
      for (let i = 0; i < 2; i++) await client.insert({ collection_name: 'docs', data: [{ id: 1, vector: [0.1, 0.2, 0.3, 0.4] }] });
    }
    const one = await run(['migrate', single, join(dir, 'single-copy.db')]);
    expect(one.exitCode, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/docs: 1 row, indexes [^;]+; 1 row of the source repeated another row's primary key, and was copied once per key\n/);
    expect(one.stdout).toMatch(/^Migrated 1 row in 1 collection\(s\)/m);
    await using pool = createMilvusLitePool({ installation: native! });
    await using copy = await openMilvus(join(dir, 'out.db'), { pool, client: { logLevel: 'error' } });
    await copy.loadCollection({ collection_name: 'docs' });
    const ids = (await copy.query({ collection_name: 'docs', filter: 'id >= 0', output_fields: ['id'] })).data.map((row) => Number(row['id']));
    expect(ids.sort()).toEqual([1, 2, 3, 4]);
  });
});

describe.skipIf(native === undefined || python === undefined)('leasehold-milvus migrate: a count that differs is exit code 5', () => {
  it('from a milvus-lite 3 server by URI: its queries come in insertion order, pk paging misses rows, and the check says so', async () => {
    const dir = freshDir();
    const source = join(dir, 'py.db');
    const port = await freePort();
    await using pool = createMilvusLitePool({ installation: python!, port });
    await using lease = await pool.acquire(source);
    const client = new MilvusClient({ address: lease.resource.uri, logLevel: 'error' });
    // Even ids first, odd ids second: the first page of 16 by insertion order is not the 16 smallest.
    await createEverything(client, 'docs', { rows: 40, autoId: false, vectors: '2.3', partition: false });
    await client.closeConnection();
    const result = await run(['migrate', `127.0.0.1:${port}`, join(dir, 'out.db'), '--batch-size', '16', '--json']);
    expect(result.exitCode, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/row counts differ after migrating to .*out\.db: docs: 40 in the source, \d+ in the target/);
    expect(JSON.parse(result.stdout)).toMatchObject({ collections: [{ name: 'docs', sourceRows: 40 }] });
  });
});
