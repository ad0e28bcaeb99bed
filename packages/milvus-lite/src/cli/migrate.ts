import { stat } from 'node:fs/promises';
import { setTimeout } from 'node:timers/promises';
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import type { Lease, LeasePool } from '@leasehold/pool';
import { loadSdk } from '../client/sdk.js';
import { MigrateInputError, MigrationCountMismatchError, MilvusLiteError } from '../errors.js';
import { createMilvusLitePool, type MilvusLitePoolOptions } from '../pool/milvus-lite-pool.js';
import type { MilvusLiteServer } from '../target/milvus-lite-server.js';
import { isRemoteUri, normalizeTarget } from '../target/remote-uri.js';
import { checkSourceDatabase } from '../server/database-path.js';

/** Options of `migrateDatabase`. */
export interface MigrateOptions {
  /** The collections to copy; default every collection of the source. */
  readonly collections?: readonly string[];
  /** Rows read and inserted per batch. Default 1000. */
  readonly batchSize?: number;
  /** Drop a same-name collection of the target first. Default false: such a collection is refused. */
  readonly replace?: boolean;
  /** How to run a local source (its engine, installation); ignored for a URI. */
  readonly sourceServer?: MilvusLitePoolOptions;
  /** How to run a local target; ignored for a URI. */
  readonly targetServer?: MilvusLitePoolOptions;
  /** Called after each batch: rows copied so far in this collection and in all, and the total to copy. */
  readonly onProgress?: (progress: MigrateProgress) => void;
}

export interface MigrateProgress {
  readonly collection: string;
  readonly rows: number;
  readonly totalRows: number;
}

import type { MigratedCollection, MigrateSummary } from '../errors.js';
export type { MigratedCollection, MigrateSummary };

/**
 * The one place a migration builds an SDK client, so that it can take `milvusClientConfig(uri)`
 * (the milvus-lite compatibility layer) once that exists.
 */
async function connectClient(uri: string): Promise<MilvusClient> {
  const { MilvusClient } = await loadSdk('migrate');
  const client = new MilvusClient({ address: uri, logLevel: 'error' });
  await client.connectPromise;
  return client;
}

interface FieldSchema {
  name: string;
  description: string;
  data_type: string;
  is_primary_key: boolean;
  autoID: boolean;
  is_dynamic?: boolean;
  is_partition_key?: boolean;
  element_type?: string;
  type_params: { key: string; value: string }[];
}

function check(status: { error_code?: string | number; code?: number; reason?: string }, what: string): void {
  const ok = (status.error_code === 'Success' || status.error_code === 0 || status.error_code === undefined) && (status.code ?? 0) === 0;
  if (!ok) throw new MilvusLiteError(`${what} failed: ${status.reason || `code ${String(status.code ?? status.error_code)}`}`);
}

const kLoadPollMs = 50;

/** Resolves once `name` is fully loaded in `client`'s server (GetLoadingProgress at 100); throws on a failed status. */
async function waitUntilLoaded(client: MilvusClient, name: string, where: string): Promise<void> {
  for (;;) {
    const progress = await client.getLoadingProgress({ collection_name: name });
    check(progress.status, `loading ${name} in ${where}`);
    if (Number(progress.progress) >= 100) return;
    await setTimeout(kLoadPollMs);
  }
}

async function collectionNames(client: MilvusClient): Promise<string[]> {
  const listed = await client.listCollections();
  check(listed.status, 'listing collections');
  return listed.data.map((c) => c.name).sort();
}

async function countRows(client: MilvusClient, collection: string): Promise<number> {
  const counted = await client.query({ collection_name: collection, filter: '', output_fields: ['count(*)'], consistency_level: 'Strong' as never });
  check(counted.status, `counting the rows of ${collection}`);
  return Number(counted.data[0]?.['count(*)'] ?? 0);
}

/**
 * The partitions of a collection. milvus-lite 2.5 (native) has none beyond `_default`: its empty
 * ShowPartitions answer makes the SDK's listPartitions throw a TypeError.
 */
async function partitionsOf(client: MilvusClient, collection: string): Promise<string[]> {
  try {
    const listed = await client.listPartitions({ collection_name: collection });
    return listed.partition_names ?? ['_default'];
  } catch (error) {
    if (error instanceof TypeError) return ['_default'];
    throw error;
  }
}

/**
 * The rows of one partition, `batchSize` at a time. Milvus (and milvus-lite 2.5, which runs its
 * engine) answers a limited query with the smallest primary keys, which the SDK's queryIterator
 * pages on (`pk > last`). milvus-lite 3 (python engine) answers in insertion order instead, so
 * `pk > last` would skip rows (seen: 25 of 40); there, page by offset, stable while nobody writes.
 */
/**
 * How many of the source's `countedRows` rows repeat a primary key of `keys` (the keys the copy
 * read, one per key): the source's rows with those keys, counted in batches, less one per key.
 * 0 when some counted row has none of those keys (a row was missed: the count check reports it).
 */
async function duplicateKeyRows(client: MilvusClient, collection: string, pk: FieldSchema, keys: readonly unknown[], countedRows: number): Promise<number> {
  let covered = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    // Int64 keys come back as strings (exact beyond 2^53): quoted only for a VarChar key.
    const varChar = pk.data_type === 'VarChar';
    const list = keys.slice(i, i + 1000).map((key) => (varChar ? JSON.stringify(String(key)) : String(key)));
    const counted = await client.query({ collection_name: collection, filter: `${pk.name} in [${list.join(', ')}]`, output_fields: ['count(*)'], consistency_level: 'Strong' as never });
    check(counted.status, `counting the rows of ${collection} by primary key`);
    covered += Number(counted.data[0]?.['count(*)'] ?? 0);
  }
  return covered === countedRows ? countedRows - keys.length : 0;
}

async function* readBatches(client: MilvusClient, collection: string, partition: string, batchSize: number, mode: 'iterator' | 'offset'): AsyncGenerator<Record<string, unknown>[]> {
  const common = { collection_name: collection, partition_names: [partition], output_fields: ['*'], consistency_level: 'Strong' as never };
  if (mode === 'iterator') {
    yield* (await client.queryIterator({ ...common, batchSize })) as AsyncIterable<Record<string, unknown>[]>;
    return;
  }
  for (let offset = 0; ; offset += batchSize) {
    const page = await client.query({ ...common, filter: '', offset, limit: batchSize });
    check(page.status, `reading ${collection}`);
    if (page.data.length > 0) yield page.data;
    if (page.data.length < batchSize) return;
  }
}

/**
 * An index's type, metric and build params from DescribeIndex's key/value list. Milvus and
 * milvus-lite 2.5 pack the build params as JSON under `params`; milvus-lite 3 lists them flat (and
 * adds the field's `dim`). Numbers come back as strings; they are numbers again here.
 */
export function indexParams(pairs: readonly { key: string; value: string | number }[]): { indexType: string; metricType: string | undefined; params: Record<string, unknown> } {
  const flat: Record<string, string> = Object.fromEntries(pairs.map((p) => [p.key, String(p.value)]));
  const { index_type: indexType = 'AUTOINDEX', metric_type: metricType, params: packed, dim: _dim, ...rest } = flat;
  const merged: Record<string, unknown> = { ...rest, ...(packed ? (JSON.parse(packed) as Record<string, unknown>) : {}) };
  for (const [key, value] of Object.entries(merged)) if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) merged[key] = Number(value);
  return { indexType, metricType, params: merged };
}

/** Two spellings of one Milvus URI compare equal (`http://h:p`, `h:p`, a trailing slash). */
function sameRemote(a: string, b: string): boolean {
  const bare = (u: string): string => u.replace(/^https?:\/\//i, '').replace(/\/+$/, '').replace(/^localhost:/i, '127.0.0.1:');
  return bare(a) === bare(b);
}

async function checkNotSame(source: string, target: string): Promise<void> {
  const refuse = (): never => {
    throw new MigrateInputError(`source and target are the same database (${source} and ${target}); give a different target`);
  };
  if (isRemoteUri(source) !== isRemoteUri(target)) return;
  if (isRemoteUri(source)) return void (sameRemote(source, target) && refuse());
  if ((await normalizeTarget(source)) === (await normalizeTarget(target))) refuse();
  const [a, b] = await Promise.all([stat(source).catch(() => undefined), stat(target).catch(() => undefined)]);
  if (a && b && a.dev === b.dev && a.ino === b.ino) refuse();
}

/**
 * Copies collections from one Milvus database to another, either way between a local path
 * (either milvus-lite engine) and a Milvus URI: schema (fields, primary key and auto_id, dynamic
 * field, descriptions), indexes (type, metric, params), partitions and rows, in batches of
 * `batchSize`. Auto-generated primary keys are generated anew by the target. The source is only
 * read. Every input check runs before the target is written.
 *
 * @throws MigrateInputError: a missing source, source and target the same database, a named
 *   collection the source lacks, or a same-name collection in the target without `replace`.
 * @throws StartError wrapping RemoteUnreachableError: a URI that does not answer.
 * @throws MigrationCountMismatchError: a collection's row count differs in the target afterwards.
 * @example
 * const summary = await migrateDatabase('./app.db', 'http://milvus:19530', { batchSize: 5000 });
 */
export async function migrateDatabase(source: string, target: string, options: MigrateOptions = {}): Promise<MigrateSummary> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer ≥ 1, got ${String(options.batchSize)}`);
  if (!isRemoteUri(source)) await checkSourceDatabase(source, 'migrate');
  await checkNotSame(source, target);
  const started = performance.now();
  const pools: LeasePool<MilvusLiteServer>[] = [];
  const leases: Lease<MilvusLiteServer>[] = [];
  const clients: MilvusClient[] = [];
  try {
    const open = async (where: string, serverOptions: MilvusLitePoolOptions | undefined): Promise<MilvusClient> => {
      const pool = createMilvusLitePool(serverOptions);
      pools.push(pool);
      const lease = await pool.acquire(where);
      leases.push(lease);
      const client = await connectClient(lease.resource.uri);
      clients.push(client);
      return client;
    };
    const from = await open(source, options.sourceServer);
    const sourceEngine = leases[0]!.resource.engine;
    const available = await collectionNames(from);
    const wanted = options.collections ? [...new Set(options.collections)] : available;
    const unknown = wanted.filter((name) => !available.includes(name));
    if (unknown.length > 0) {
      throw new MigrateInputError(`${source} has no collection ${unknown.map((n) => JSON.stringify(n)).join(', ')}; it has: ${available.join(', ') || 'no collections'}`);
    }
    // Only now the target: a local target is created when first opened.
    const to = await open(target, options.targetServer);
    const existing = await collectionNames(to);
    const clashes = wanted.filter((name) => existing.includes(name));
    if (clashes.length > 0 && !options.replace) {
      throw new MigrateInputError(`${target} already has ${clashes.map((n) => JSON.stringify(n)).join(', ')}; nothing was written. Pass replace (--replace) to drop and copy over it`);
    }

    // Read everything about the source first, so a failure here writes nothing.
    const plans = [];
    let totalRows = 0;
    for (const name of wanted) {
      const described = await from.describeCollection({ collection_name: name });
      check(described.status, `describing ${name}`);
      const indexes = await from.describeIndex({ collection_name: name });
      const partitions = await partitionsOf(from, name);
      // Not the SDK's loadCollection: it sleeps 400 ms after every progress poll, even the last one.
      check(await from.loadCollectionAsync({ collection_name: name }), `loading ${name} in ${source}`);
      await waitUntilLoaded(from, name, source);
      const rows = await countRows(from, name);
      totalRows += rows;
      plans.push({ name, described, indexes: indexes.index_descriptions ?? [], partitions, rows });
    }

    const collections: MigratedCollection[] = [];
    let copiedAll = 0;
    for (const plan of plans) {
      const { name, described } = plan;
      const fields = (described.schema.fields as unknown as FieldSchema[]).filter((f) => !f.is_dynamic);
      const pk = fields.find((f) => f.is_primary_key);
      if (pk === undefined) throw new MilvusLiteError(`${name} in ${source} has no primary key field`);
      const replaced = clashes.includes(name);
      if (replaced) check(await to.dropCollection({ collection_name: name }), `dropping ${name} in ${target}`);
      const created = await to.createCollection({
        collection_name: name,
        description: described.schema.description ?? '',
        enable_dynamic_field: described.schema.enable_dynamic_field ?? false,
        fields: fields.map((f) => ({
          name: f.name,
          description: f.description ?? '',
          data_type: f.data_type as never,
          is_primary_key: f.is_primary_key,
          autoID: f.autoID,
          ...(f.is_partition_key ? { is_partition_key: true } : {}),
          ...(f.element_type && f.element_type !== 'None' ? { element_type: f.element_type as never } : {}),
          type_params: Object.fromEntries(f.type_params.map((p) => [p.key, p.value])),
        })),
      } as never);
      check(created as never, `creating ${name} in ${target}`);
      const partitionNames = plan.partitions.filter((p) => p !== '_default');
      for (const partition of partitionNames) {
        check(await to.createPartition({ collection_name: name, partition_name: partition }), `creating partition ${partition} of ${name}`);
        // milvus-lite 2.5 (native) has no partitions: it answers CreatePartition with an empty message.
        if ((await to.hasPartition({ collection_name: name, partition_name: partition })).value !== true) {
          await to.dropCollection({ collection_name: name });
          throw new MilvusLiteError(`${target} does not keep partitions (milvus-lite 2.5 has none), and ${name} has partition ${JSON.stringify(partition)}; migrate to Milvus or milvus-lite ≥ 3 instead`);
        }
      }
      const indexes: string[] = [];
      for (const index of plan.indexes) {
        const { indexType, metricType, params: extra } = indexParams(index.params);
        check(
          await to.createIndex({
            collection_name: name,
            field_name: index.field_name,
            index_name: index.index_name,
            index_type: indexType,
            ...(metricType ? { metric_type: metricType } : {}),
            params: extra as never,
          } as never),
          `creating index ${index.index_name} of ${name}`,
        );
        indexes.push(`${index.index_name}: ${indexType}${metricType ? `/${metricType}` : ''}`);
      }
      // Loading is needed only for the count at the end, and a Milvus server takes seconds to load
      // even an empty collection (2.8 s of a 4.7 s migration, measured with standalone 2.3.5): ask
      // for it now (the SDK's loadCollection would wait, polling every 400 ms), copy while it loads,
      // and wait for it before counting.
      check(await to.loadCollectionAsync({ collection_name: name }), `loading ${name} in ${target}`);

      // The keys read, when they are the source's own (not auto_id): see duplicateKeyRows.
      const keys: unknown[] = [];
      for (const partition of ['_default', ...partitionNames]) {
        const batches = readBatches(from, name, partition, batchSize, sourceEngine === 'python' ? 'offset' : 'iterator');
        // One insert in flight while the next batch is read: reading and writing overlap.
        let inFlight: Promise<void> | undefined;
        try {
          for await (const batch of batches) {
            if (batch.length === 0) continue;
            if (!pk.autoID) for (const row of batch) keys.push(row[pk.name]);
            const data = batch.map((row) => {
              if (!pk.autoID) return row;
              const { [pk.name]: _dropped, ...rest } = row;
              return rest;
            });
            await inFlight;
            inFlight = to.insert({ collection_name: name, ...(partition === '_default' ? {} : { partition_name: partition }), data: data as never }).then((inserted) => {
              check(inserted.status, `inserting into ${name} of ${target}`);
              copiedAll += batch.length;
              options.onProgress?.({ collection: name, rows: copiedAll, totalRows });
            });
            // Its failure is seen at the next await; keep it from counting as unhandled meanwhile.
            inFlight.catch(() => {});
          }
        } finally {
          await inFlight?.catch(() => {});
        }
        await inFlight;
      }
      await waitUntilLoaded(to, name, target);
      const targetRows = await countRows(to, name);
      const duplicates = !pk.autoID && plan.rows > targetRows && targetRows === keys.length ? await duplicateKeyRows(from, name, pk, keys, plan.rows) : 0;
      collections.push({ name, sourceRows: plan.rows, targetRows, duplicateKeyRows: duplicates, partitions: partitionNames, indexes, primaryKeysRegenerated: pk.autoID, replaced });
    }
    const elapsedMs = performance.now() - started;
    const summary: MigrateSummary = { source, target, collections, rows: copiedAll, elapsedMs, rowsPerSecond: copiedAll / (elapsedMs / 1000) };
    if (collections.some((c) => c.sourceRows - c.duplicateKeyRows !== c.targetRows)) throw new MigrationCountMismatchError(summary);
    return summary;
  } finally {
    await Promise.all(clients.map((c) => c.closeConnection().catch(() => {})));
    for (const lease of leases.reverse()) await lease.release();
    await Promise.all(pools.map((p) => p.close()));
  }
}
