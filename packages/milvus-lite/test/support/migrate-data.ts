// Collections with every field type, for the migration tests. Milvus standalone 2.3 takes one
// vector field per collection and no sparse vectors; milvus-lite 3.2.2 (python engine) takes float
// and sparse vectors but no binary or float16 ones ("Phase 10.2 supports: …"): 'lite' is what both
// milvus-lite engines take.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, MilvusClient } from '@zilliz/milvus2-sdk-node';
import { createMilvusLitePool, type Installation } from '../../src/index.js';
import { indexParams } from '../../src/cli/migrate.js';

export const kDim = 8;

/** Runs `body` with a client of a milvus-lite server of `path` (`installation`), then stops that server. */
export async function withLite<T>(installation: Installation, path: string, body: (client: MilvusClient) => Promise<T>): Promise<T> {
  await using pool = createMilvusLitePool({ installation });
  await using lease = await pool.acquire(path);
  const client = new MilvusClient({ address: lease.resource.uri, logLevel: 'error' });
  try {
    return await body(client);
  } finally {
    await client.closeConnection();
  }
}

function ok(status: { error_code?: string | number | undefined; reason?: string | undefined; code?: number | undefined }, what: string): void {
  // milvus-lite 2.5.1 answers with `code` only, and some calls with an empty status (success).
  if ((status.error_code !== undefined && status.error_code !== 'Success') || (status.code !== undefined && status.code !== 0)) throw new Error(`${what}: ${JSON.stringify(status)}`);
}

/** Which vector fields a collection gets: `'2.3'` one float vector (standalone), `'lite'` float and sparse. */
export type VectorKinds = '2.3' | 'lite';

/**
 * Every scalar type, a dynamic field, descriptions, an IVF_FLAT index, the odd rows in partition
 * `p_odd` (unless `partition: false`: milvus-lite 2.5 has no partitions); `rows` rows.
 */
export async function createEverything(client: MilvusClient, name: string, options: { rows: number; autoId: boolean; vectors: VectorKinds; partition?: boolean }): Promise<void> {
  const partition = options.partition ?? true;
  const vectors =
    options.vectors === '2.3'
      ? [{ name: 'vec', data_type: DataType.FloatVector, dim: kDim, description: 'the embedding' }]
      : [
          { name: 'vec', data_type: DataType.FloatVector, dim: kDim, description: 'the embedding' },
          { name: 'sparse', data_type: DataType.SparseFloatVector },
        ];
  const created = await client.createCollection({
    collection_name: name,
    description: `everything, ${options.autoId ? 'auto' : 'given'} ids`,
    enable_dynamic_field: true,
    fields: [
      { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: options.autoId, description: 'the key' },
      { name: 'flag', data_type: DataType.Bool },
      { name: 'i8', data_type: DataType.Int8 },
      { name: 'i16', data_type: DataType.Int16 },
      { name: 'i32', data_type: DataType.Int32 },
      { name: 'i64', data_type: DataType.Int64 },
      { name: 'f32', data_type: DataType.Float },
      { name: 'f64', data_type: DataType.Double },
      { name: 'text', data_type: DataType.VarChar, max_length: 64, description: 'some words' },
      { name: 'doc', data_type: DataType.JSON },
      { name: 'tags', data_type: DataType.Array, element_type: DataType.Int32, max_capacity: 4 },
      ...vectors,
    ],
  });
  ok(created, `createCollection ${name}`);
  ok(await client.createIndex({ collection_name: name, field_name: 'vec', index_name: 'vec_ivf', index_type: 'IVF_FLAT', metric_type: 'IP', params: { nlist: 4 } }), 'createIndex vec');
  if (options.vectors === 'lite') {
    ok(await client.createIndex({ collection_name: name, field_name: 'sparse', index_type: 'SPARSE_INVERTED_INDEX', metric_type: 'IP' }), 'createIndex sparse');
  }
  if (partition) ok(await client.createPartition({ collection_name: name, partition_name: 'p_odd' }), 'createPartition');
  await client.loadCollection({ collection_name: name });
  const rowOf = (i: number): Record<string, unknown> => ({
    ...(options.autoId ? {} : { id: i }),
    flag: i % 2 === 0,
    i8: (i % 100) - 50,
    i16: i * 3,
    i32: i * 1000,
    i64: i * 1_000_000,
    f32: i / 4,
    f64: i / 3,
    text: `row ${i}`,
    doc: { i, nested: { even: i % 2 === 0 } },
    tags: [i, i + 1],
    vec: Array.from({ length: kDim }, (_, d) => (d === i % kDim ? 1 : 0.01 * d)),
    ...(options.vectors === 'lite' ? { sparse: { [i % 10]: 0.5, 20: 1 } } : {}),
    extra: `dynamic ${i}`,
  });
  const even = Array.from({ length: options.rows }, (_, i) => i).filter((i) => i % 2 === 0);
  const odd = Array.from({ length: options.rows }, (_, i) => i).filter((i) => i % 2 === 1);
  if (even.length) ok((await client.insert({ collection_name: name, data: even.map(rowOf) as never })).status, 'insert even');
  if (odd.length) ok((await client.insert({ collection_name: name, ...(partition ? { partition_name: 'p_odd' } : {}), data: odd.map(rowOf) as never })).status, 'insert odd');
}

/** Every row sorted by `text` (stable across regenerated ids), without the id when ids are regenerated. */
export async function rowsOf(client: MilvusClient, name: string, options: { withId: boolean; partition?: string }): Promise<Record<string, unknown>[]> {
  await client.loadCollection({ collection_name: name });
  const result = await client.query({
    collection_name: name,
    filter: 'i16 >= 0',
    output_fields: ['*'],
    limit: 16_384,
    consistency_level: 'Strong' as never,
    ...(options.partition ? { partition_names: [options.partition] } : {}),
  });
  ok(result.status, `query ${name}`);
  return result.data
    .map((row) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) {
        if (key === 'id' && !options.withId) continue;
        // Floats go through float32 on both sides; compare them at that precision.
        out[key] = typeof value === 'number' && !Number.isInteger(value) ? Math.fround(value) : value;
      }
      return out;
    })
    .sort((a, b) => String(a['text']).localeCompare(String(b['text'])));
}

/** The schema as `describeCollection` gives it, reduced to what a migration must keep. */
export async function schemaOf(client: MilvusClient, name: string): Promise<unknown> {
  const described = await client.describeCollection({ collection_name: name });
  ok(described.status, `describe ${name}`);
  const indexes = await client.describeIndex({ collection_name: name });
  const partitions = await client.listPartitions({ collection_name: name }).catch(() => ({ partition_names: ['_default'] }));
  return {
    description: described.schema.description,
    dynamic: described.schema.enable_dynamic_field,
    fields: described.schema.fields
      .filter((f) => !(f as { is_dynamic?: boolean }).is_dynamic)
      .map((f) => ({
        name: f.name,
        type: f.data_type,
        pk: f.is_primary_key,
        auto: f.autoID,
        description: f.description,
        element: f.element_type === 'None' ? undefined : f.element_type,
        params: Object.fromEntries(f.type_params.map((p) => [p.key, p.value])),
      })),
    indexes: (indexes.index_descriptions ?? [])
      .map((i) => ({ name: i.index_name, field: i.field_name, ...indexParams(i.params) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    partitions: [...(partitions.partition_names ?? [])].sort(),
  };
}

/** sha256 of every file under `path` (a file or a directory), by relative name. */
export function hashTree(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string, rel: string): void => {
    if (statSync(p).isDirectory()) for (const entry of readdirSync(p).sort()) walk(join(p, entry), rel ? `${rel}/${entry}` : entry);
    else out[rel || '.'] = createHash('sha256').update(readFileSync(p)).digest('hex');
  };
  walk(path, '');
  return out;
}

/**
 * `schemaOf` less what milvus-lite 3.2.2 (python engine) does not keep: it stores no descriptions
 * and names each index after its field, whatever it is given (seen here).
 */
export function withoutWhatPythonLiteDrops(schema: unknown): unknown {
  const s = schema as { description: string; fields: { description: string }[]; indexes: { name: string; field: string }[] };
  return { ...s, description: '', fields: s.fields.map((f) => ({ ...f, description: '' })), indexes: s.indexes.map((i) => ({ ...i, name: i.field })) };
}
