// The conformance cases, area by area: each uses the SDK as its README teaches (the quick
// createCollection with a dimension, plain rows) or the full-schema forms, on a fresh collection,
// and checks that its data really round-trips. How each case ends on each target is in expected.ts.
import { DataType, FunctionType, IndexState, type FieldType, type FunctionObject, type MilvusClient } from '@zilliz/milvus2-sdk-node';
import { effect, step, type Target } from './outcome.js';

/** What a case gets: a client of the target, its own fresh collection names, the target's name. */
export interface CaseContext {
  readonly client: MilvusClient;
  readonly target: Target;
  /** The case's collection; `name2` a second one where a case needs two. */
  readonly name: string;
  readonly name2: string;
  /** A name for anything else the case makes (an alias, a partition, a database), unique per case. */
  readonly other: string;
}

export interface ConformanceCase {
  readonly area: Area;
  /** Short, unique within the area: the README table's row. */
  readonly name: string;
  /** Kills milvus-lite 2.5.1 (SIGSEGV): on the native engine it gets a server of its own. */
  readonly killsNative?: true;
  /** Acts on the whole server (flushAll sees every database): runs by itself, not beside other cases. */
  readonly alone?: true;
  /**
   * The Milvus version that brought the feature (from Milvus's release notes). A Milvus server older
   * than that is not sent the case: Milvus 2.3.5 aborts (SIGABRT) on some field types it predates.
   */
  readonly since?: string;
  run(ctx: CaseContext): Promise<void>;
}

export const kAreas = [
  'collections',
  'indexes',
  'insert',
  'upsert',
  'delete',
  'search',
  'query',
  'get',
  'iterators',
  'partitions',
  'aliases',
  'databases',
  'vector types',
  'full-text search',
  'server calls',
] as const;
export type Area = (typeof kAreas)[number];

/** A case's id: its area and name, the key of expected.ts and of the results files. */
export const caseId = (c: Pick<ConformanceCase, 'area' | 'name'>): string => `${c.area}: ${c.name}`;

const kDim = 4;
/** A deterministic unit-ish vector for row `i`: each row is its own nearest neighbour. */
const vec = (i: number): number[] => Array.from({ length: kDim }, (_, d) => Math.sin(i * 7 + d + 1));
/** Milvus standalone answers reads with Bounded consistency by default; a case reads its own writes. */
const strong = { consistency_level: 'Strong' as never };

const sortedIds = (rows: readonly Record<string, unknown>[], field = 'id'): number[] => rows.map((r) => Number(r[field])).sort((a, b) => a - b);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The README's quick form: `createCollection({ collection_name, dimension })`, indexed and loaded. */
async function quick(ctx: CaseContext, name = ctx.name, extra: Record<string, unknown> = {}): Promise<void> {
  await step('createCollection', ctx.client.createCollection({ collection_name: name, dimension: kDim, ...extra }));
}

/** Plain rows `{ id, vector, ...extra(i) }` for ids `from..from+count-1`. */
function rows(from: number, count: number, extra: (i: number) => Record<string, unknown> = () => ({})): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, k) => ({ id: from + k, vector: vec(from + k), ...extra(from + k) }));
}

/** The quick collection with rows `0..count-1` in it. */
async function quickRows(ctx: CaseContext, count: number): Promise<void> {
  await quick(ctx);
  await insert(ctx, rows(0, count));
}

async function insert(ctx: CaseContext, data: Record<string, unknown>[], name = ctx.name, extra: Record<string, unknown> = {}): Promise<void> {
  const reply = await step('insert', ctx.client.insert({ collection_name: name, data: data as never, ...extra }));
  effect(Number(reply.insert_cnt) === data.length, `insert answered insert_cnt ${String(reply.insert_cnt)} for ${data.length} rows`);
}

async function query(ctx: CaseContext, filter: string, output_fields: string[] = ['*'], name = ctx.name, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
  const reply = await step('query', ctx.client.query({ collection_name: name, filter, output_fields, ...strong, ...extra }));
  return reply.data;
}

async function count(ctx: CaseContext, name = ctx.name): Promise<number> {
  return Number((await query(ctx, '', ['count(*)'], name))[0]?.['count(*)']);
}

/** Ids of the nearest rows to `vector`, nearest first. */
async function searchIds(ctx: CaseContext, vector: unknown, extra: Record<string, unknown> = {}, name = ctx.name): Promise<number[]> {
  const reply = await step('search', ctx.client.search({ collection_name: name, data: vector as never, limit: 3, ...strong, ...extra }));
  return (reply.results as { id: unknown }[]).map((r) => Number(r.id));
}

const kIdField: FieldType = { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: false };
const kVectorField: FieldType = { name: 'vector', data_type: DataType.FloatVector, dim: kDim };

/** The full-schema form: `fields`, an index on each vector field (`index`, default FLAT/L2), loaded. */
async function full(
  ctx: CaseContext,
  fields: FieldType[],
  options: { name?: string; index?: Record<string, Record<string, unknown>>; functions?: FunctionObject[]; extra?: Record<string, unknown>; load?: boolean } = {},
): Promise<void> {
  const name = options.name ?? ctx.name;
  await step('createCollection', ctx.client.createCollection({ collection_name: name, fields, ...(options.functions ? { functions: options.functions } : {}), ...options.extra }));
  for (const field of fields) {
    const type = typeof field.data_type === 'number' ? field.data_type : DataType[field.data_type];
    if (type < DataType.BinaryVector || type > DataType.Int8Vector) continue;
    const params = options.index?.[field.name] ?? { index_type: 'FLAT', metric_type: 'L2' };
    await step(`createIndex ${String(params['index_type'])}`, ctx.client.createIndex({ collection_name: name, field_name: field.name, ...params } as never));
  }
  if (options.load !== false) await step('loadCollection', ctx.client.loadCollection({ collection_name: name }));
}

/** A collection with a declared VarChar `tag` beside the key and the vector (full schema). */
async function tagged(ctx: CaseContext): Promise<void> {
  await full(ctx, [kIdField, kVectorField, { name: 'tag', data_type: DataType.VarChar, max_length: 16 }]);
}

/** Every scalar type of Milvus 2.3 besides the key, one row's worth each. */
const kScalarFields: FieldType[] = [
  kIdField,
  { name: 'b', data_type: DataType.Bool },
  { name: 'i8', data_type: DataType.Int8 },
  { name: 'i16', data_type: DataType.Int16 },
  { name: 'i32', data_type: DataType.Int32 },
  { name: 'f', data_type: DataType.Float },
  { name: 'd', data_type: DataType.Double },
  { name: 's', data_type: DataType.VarChar, max_length: 32 },
  { name: 'j', data_type: DataType.JSON },
  { name: 'arr', data_type: DataType.Array, element_type: DataType.Int64, max_capacity: 8 },
  kVectorField,
];
const scalarRow = (i: number): Record<string, unknown> => ({
  id: i,
  b: i % 2 === 0,
  i8: i,
  i16: i * 100,
  i32: i * 10_000,
  f: i + 0.5,
  d: i + 0.25,
  s: `text-${i}`,
  j: { n: i, tags: ['a', `t${i}`] },
  arr: [i, i + 1],
  vector: vec(i),
});

/** The same collection with a second float vector field, for hybrid search and multi-vector cases. */
const kTwoVectorFields: FieldType[] = [kIdField, kVectorField, { name: 'vector2', data_type: DataType.FloatVector, dim: kDim }];

const kBm25: FunctionObject = { name: 'bm25', type: FunctionType.BM25, input_field_names: ['text'], output_field_names: ['sparse'], params: {} };
const kTextFields: FieldType[] = [
  kIdField,
  { name: 'text', data_type: DataType.VarChar, max_length: 256, enable_analyzer: true, enable_match: true },
  { name: 'sparse', data_type: DataType.SparseFloatVector, is_function_output: true },
];
const kTexts = ['the quick brown fox', 'a lazy dog sleeps', 'vector databases store embeddings'];

async function withTextCollection(ctx: CaseContext): Promise<void> {
  await full(ctx, kTextFields, { functions: [kBm25], index: { sparse: { index_type: 'SPARSE_INVERTED_INDEX', metric_type: 'BM25' } } });
  const reply = await step('insert', ctx.client.insert({ collection_name: ctx.name, data: kTexts.map((text, id) => ({ id, text })) }));
  effect(Number(reply.insert_cnt) === kTexts.length, `insert answered insert_cnt ${String(reply.insert_cnt)}`);
}

/** A vector field type's collection: insert three rows, search for row 1's vector, get row 1 first. */
async function vectorRoundTrip(ctx: CaseContext, field: FieldType, index: Record<string, unknown>, value: (i: number) => unknown): Promise<void> {
  await full(ctx, [kIdField, field], { index: { [field.name]: index } });
  await insert(ctx, [1, 2, 3].map((id) => ({ id, [field.name]: value(id) })));
  // limit 1: milvus-lite 2.5.1 answers a BinaryVector search of limit > 1 with UNKNOWN "Unexpected error in RPC handling".
  const ids = await searchIds(ctx, value(1), { anns_field: field.name, limit: 1 });
  effect(ids[0] === 1, `search for row 1's ${field.name} found ${JSON.stringify(ids)} first`);
}

/** A collection with `field` beside the key and the vector: row 0 stores `value`, and `readsBack` accepts what a query gives back. */
async function fieldRoundTrip(ctx: CaseContext, field: FieldType, value: unknown, readsBack: (back: unknown) => boolean): Promise<void> {
  await full(ctx, [kIdField, kVectorField, field]);
  await insert(ctx, rows(0, 1, () => ({ [field.name]: value })));
  const found = await query(ctx, 'id == 0', [field.name]);
  effect(readsBack(found[0]?.[field.name]), `${field.name} reads ${JSON.stringify(found)}`);
}

/** Ends the case as `silent` unless `names` (what a list call answered) has `name`: the effect an unimplemented RPC never has. */
function listed(names: readonly unknown[] | undefined, name: string, what: string): void {
  effect(Array.isArray(names) && names.includes(name), `${what} answered ${JSON.stringify(names)}, without ${name}`);
}

export const kCases: readonly ConformanceCase[] = [
  // collections
  {
    area: 'collections',
    name: 'quick create (dimension), describe',
    async run(ctx) {
      await quick(ctx);
      const described = await step('describeCollection', ctx.client.describeCollection({ collection_name: ctx.name }));
      const fields = described.schema.fields.map((f) => `${f.name}:${f.data_type}`);
      effect(same(fields, ['id:Int64', 'vector:FloatVector']), `describeCollection fields ${JSON.stringify(fields)}`);
      effect(described.schema.enable_dynamic_field === true, 'the quick form enables the dynamic field');
    },
  },
  {
    area: 'collections',
    name: 'full schema, every scalar type, describe',
    async run(ctx) {
      await full(ctx, kScalarFields);
      const described = await step('describeCollection', ctx.client.describeCollection({ collection_name: ctx.name }));
      const fields = described.schema.fields.map((f) => f.name);
      effect(same(fields, kScalarFields.map((f) => f.name)), `describeCollection fields ${JSON.stringify(fields)}`);
      const s = described.schema.fields.find((f) => f.name === 's');
      effect(String(s?.max_length) === '32', `VarChar max_length came back as ${String(s?.max_length)}`);
    },
  },
  {
    area: 'collections',
    name: 'hasCollection, listCollections',
    async run(ctx) {
      await quick(ctx);
      effect((await step('hasCollection', ctx.client.hasCollection({ collection_name: ctx.name }))).value === true, 'hasCollection of an existing collection is false');
      effect((await step('hasCollection', ctx.client.hasCollection({ collection_name: ctx.other }))).value === false, 'hasCollection of a missing collection is true');
      const listed_ = await step('listCollections', ctx.client.listCollections());
      listed(listed_.data.map((c) => c.name), ctx.name, 'listCollections');
    },
  },
  {
    area: 'collections',
    name: 'describeCollection of a missing one',
    async run(ctx) {
      const reply = await step('describeCollection', ctx.client.describeCollection({ collection_name: ctx.other }));
      effect(false, `describeCollection of a missing collection answered ${JSON.stringify(reply.status)}`);
    },
  },
  {
    area: 'collections',
    name: 'dropCollection',
    async run(ctx) {
      await quick(ctx);
      await step('dropCollection', ctx.client.dropCollection({ collection_name: ctx.name }));
      effect((await step('hasCollection', ctx.client.hasCollection({ collection_name: ctx.name }))).value === false, 'hasCollection is still true after the drop');
    },
  },
  {
    area: 'collections',
    name: 'release, load, getLoadState',
    async run(ctx) {
      await quick(ctx);
      await step('releaseCollection', ctx.client.releaseCollection({ collection_name: ctx.name }));
      const released = await step('getLoadState', ctx.client.getLoadState({ collection_name: ctx.name }));
      effect(released.state === 'LoadStateNotLoad', `getLoadState after a release: ${String(released.state)}`);
      await step('loadCollection', ctx.client.loadCollection({ collection_name: ctx.name }));
      const loaded = await step('getLoadState', ctx.client.getLoadState({ collection_name: ctx.name }));
      effect(loaded.state === 'LoadStateLoaded', `getLoadState after a load: ${String(loaded.state)}`);
    },
  },
  {
    area: 'collections',
    name: 'getCollectionStatistics row count',
    async run(ctx) {
      await quickRows(ctx, 5);
      await step('flush', ctx.client.flush({ collection_names: [ctx.name] }));
      // A Milvus server updates the statistics after the flush, in the background: polled for a while.
      let rowCount: unknown;
      for (let attempt = 0; attempt < 20 && Number(rowCount) !== 5; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
        rowCount = (await step('getCollectionStatistics', ctx.client.getCollectionStatistics({ collection_name: ctx.name }))).data.row_count;
      }
      effect(Number(rowCount) === 5, `row_count ${String(rowCount)} after 5 rows`);
    },
  },
  {
    area: 'collections',
    name: 'renameCollection',
    async run(ctx) {
      await quick(ctx);
      await step('renameCollection', ctx.client.renameCollection({ collection_name: ctx.name, new_collection_name: ctx.name2 }));
      effect((await step('hasCollection', ctx.client.hasCollection({ collection_name: ctx.name2 }))).value === true, 'no collection of the new name after renameCollection');
    },
  },
  {
    area: 'collections',
    name: 'alterCollectionProperties',
    async run(ctx) {
      await quick(ctx);
      await step('alterCollectionProperties', ctx.client.alterCollectionProperties({ collection_name: ctx.name, properties: { 'collection.ttl.seconds': 3600 } }));
      const described = await step('describeCollection', ctx.client.describeCollection({ collection_name: ctx.name }));
      const ttl = described.properties.find((p) => p.key === 'collection.ttl.seconds');
      effect(ttl?.value === '3600', `the property reads ${JSON.stringify(described.properties)}`);
    },
  },
  {
    area: 'collections',
    name: 'addCollectionField',
    async run(ctx) {
      await quick(ctx);
      await step('addCollectionField', ctx.client.addCollectionField({ collection_name: ctx.name, field: { name: 'extra', data_type: DataType.Int32, nullable: true } }));
      const described = await step('describeCollection', ctx.client.describeCollection({ collection_name: ctx.name }));
      listed(described.schema.fields.map((f) => f.name), 'extra', 'describeCollection');
    },
  },
  {
    area: 'collections',
    name: 'truncateCollection',
    async run(ctx) {
      await quickRows(ctx, 3);
      await step('truncateCollection', ctx.client.truncateCollection({ collection_name: ctx.name }));
      effect((await count(ctx)) === 0, 'rows left after truncateCollection');
    },
  },
  {
    area: 'collections',
    name: 'batchDescribeCollections',
    async run(ctx) {
      await quick(ctx);
      const reply = await step('batchDescribeCollections', ctx.client.batchDescribeCollections({ collection_names: [ctx.name] }));
      const names = ((reply as { responses?: { collection_name?: string }[] }).responses ?? []).map((r) => r.collection_name);
      listed(names, ctx.name, 'batchDescribeCollections');
    },
  },
  {
    area: 'collections',
    name: 'dynamic field: extra keys round-trip',
    async run(ctx) {
      await quick(ctx);
      await insert(ctx, rows(0, 3, (i) => ({ color: `c${i}`, size: i })));
      const found = await query(ctx, 'size >= 1', ['id', 'color']);
      // The SDK gives dynamic keys asked for by name under $meta (the same with a real Milvus).
      const colorOf = (r: Record<string, unknown>): unknown => r['color'] ?? (r['$meta'] as Record<string, unknown> | undefined)?.['color'];
      effect(same(found.map((r) => [Number(r['id']), colorOf(r)]).sort(), [[1, 'c1'], [2, 'c2']]), `query by a dynamic key answered ${JSON.stringify(found)}`);
    },
  },
  {
    area: 'collections',
    name: 'Int32 field with a default, left out of the rows',
    killsNative: true,
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField, { name: 'n', data_type: DataType.Int32, default_value: 7 }]);
      await insert(ctx, rows(0, 2));
      const found = await query(ctx, 'id >= 0', ['id', 'n']);
      effect(found.length === 2 && found.every((r) => Number(r['n']) === 7), `the default reads ${JSON.stringify(found)}`);
    },
  },
  {
    area: 'collections',
    name: 'VarChar field with a default, left out of the rows',
    killsNative: true,
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField, { name: 'label', data_type: DataType.VarChar, max_length: 16, default_value: 'none' }]);
      await insert(ctx, rows(0, 2));
      const found = await query(ctx, 'id >= 0', ['id', 'label']);
      effect(found.length === 2 && found.every((r) => r['label'] === 'none'), `the default reads ${JSON.stringify(found)}`);
    },
  },
  {
    area: 'collections',
    name: 'nullable field',
    since: '2.5',
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField, { name: 'n', data_type: DataType.Int32, nullable: true }]);
      await insert(ctx, rows(0, 2, (i) => ({ n: i === 0 ? null : 5 })));
      const found = await query(ctx, 'id >= 0', ['id', 'n']);
      const byId = Object.fromEntries(found.map((r) => [Number(r['id']), r['n']]));
      effect(byId[0] === null && Number(byId[1]) === 5, `nullable values read ${JSON.stringify(found)}`);
    },
  },
  {
    area: 'collections',
    name: 'Geometry field',
    since: '2.6',
    async run(ctx) {
      await fieldRoundTrip(ctx, { name: 'geo', data_type: DataType.Geometry }, 'POINT (1 2)', (back) => String(back).replace(/\s+/g, '') === 'POINT(12)');
    },
  },
  {
    area: 'collections',
    name: 'Timestamptz field',
    since: '2.6',
    async run(ctx) {
      await fieldRoundTrip(ctx, { name: 'ts', data_type: DataType.Timestamptz }, '2025-01-02T03:04:05Z', (back) => String(back).startsWith('2025-01-02T03:04:05'));
    },
  },
  {
    area: 'collections',
    name: 'struct field (array of struct)',
    since: '2.6',
    async run(ctx) {
      const struct: FieldType = { name: 'items', data_type: DataType.Array, element_type: DataType.Struct, max_capacity: 4, fields: [{ name: 'qty', data_type: DataType.Int32 }] };
      await fieldRoundTrip(ctx, struct, [{ qty: 3 }], (back) => same(back, [{ qty: 3 }]));
    },
  },

  // indexes
  {
    area: 'indexes',
    name: 'FLAT, describeIndex',
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField], { index: { vector: { index_type: 'FLAT', metric_type: 'IP' } } });
      const described = await step('describeIndex', ctx.client.describeIndex({ collection_name: ctx.name, field_name: 'vector' }));
      const params = Object.fromEntries((described.index_descriptions[0]?.params ?? []).map((p) => [p.key, p.value]));
      effect(params['index_type'] === 'FLAT' && params['metric_type'] === 'IP', `describeIndex params ${JSON.stringify(params)}`);
    },
  },
  {
    area: 'indexes',
    name: 'no index_type given (AUTOINDEX)',
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField], { index: { vector: { metric_type: 'L2' } } });
      await insert(ctx, rows(0, 3));
      effect((await searchIds(ctx, [vec(2)]))[0] === 2, 'search over the default index missed row 2');
    },
  },
  {
    area: 'indexes',
    name: 'IVF_FLAT with nlist',
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField], { index: { vector: { index_type: 'IVF_FLAT', metric_type: 'L2', params: { nlist: 4 } } } });
      await insert(ctx, rows(0, 3));
      effect((await searchIds(ctx, [vec(1)], { params: { nprobe: 4 } }))[0] === 1, 'IVF_FLAT search missed row 1');
    },
  },
  {
    area: 'indexes',
    name: 'HNSW',
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField], { index: { vector: { index_type: 'HNSW', metric_type: 'L2', params: { M: 8, efConstruction: 64 } } } });
      await insert(ctx, rows(0, 3));
      effect((await searchIds(ctx, [vec(1)], { params: { ef: 16 } }))[0] === 1, 'HNSW search missed row 1');
    },
  },
  {
    area: 'indexes',
    name: 'IVF_SQ8',
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField], { index: { vector: { index_type: 'IVF_SQ8', metric_type: 'L2', params: { nlist: 4 } } } });
      await insert(ctx, rows(0, 3));
      effect((await searchIds(ctx, [vec(1)]))[0] === 1, 'IVF_SQ8 search missed row 1');
    },
  },
  {
    area: 'indexes',
    name: 'scalar index (INVERTED) on a VarChar',
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField, { name: 's', data_type: DataType.VarChar, max_length: 16 }], { load: false });
      await step('createIndex INVERTED', ctx.client.createIndex({ collection_name: ctx.name, field_name: 's', index_type: 'INVERTED' }));
      await step('loadCollection', ctx.client.loadCollection({ collection_name: ctx.name }));
      await insert(ctx, rows(0, 3, (i) => ({ s: `v${i}` })));
      effect(same(sortedIds(await query(ctx, 's == "v2"', ['id'])), [2]), 'query over the indexed VarChar missed row 2');
    },
  },
  {
    area: 'indexes',
    name: 'listIndexes, dropIndex',
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField], { load: false });
      const before = await step('listIndexes', ctx.client.listIndexes({ collection_name: ctx.name }));
      effect(before.indexes.length === 1, `listIndexes answered ${JSON.stringify(before.indexes)}`);
      await step('releaseCollection', ctx.client.releaseCollection({ collection_name: ctx.name }));
      await step('dropIndex', ctx.client.dropIndex({ collection_name: ctx.name, field_name: 'vector' }));
      const after = await step('listIndexes', ctx.client.listIndexes({ collection_name: ctx.name }));
      effect(after.indexes.length === 0, `listIndexes after dropIndex answered ${JSON.stringify(after.indexes)}`);
    },
  },
  {
    area: 'indexes',
    name: 'describeIndex of a missing index',
    async run(ctx) {
      await step('createCollection', ctx.client.createCollection({ collection_name: ctx.name, fields: [kIdField, kVectorField] }));
      const reply = await step('describeIndex', ctx.client.describeIndex({ collection_name: ctx.name, field_name: 'vector' }));
      effect(false, `describeIndex of a field without an index answered ${JSON.stringify(reply.index_descriptions)}`);
    },
  },
  {
    area: 'indexes',
    name: 'getIndexState',
    async run(ctx) {
      await quick(ctx);
      const reply = await step('getIndexState', ctx.client.getIndexState({ collection_name: ctx.name, field_name: 'vector' }));
      // The SDK decodes enums as names.
      effect(String(reply.state) === IndexState[IndexState.Finished], `getIndexState answered ${JSON.stringify(reply.state)}`);
    },
  },
  {
    area: 'indexes',
    name: 'getIndexBuildProgress',
    async run(ctx) {
      await quickRows(ctx, 3);
      const reply = await step('getIndexBuildProgress', ctx.client.getIndexBuildProgress({ collection_name: ctx.name, field_name: 'vector' }));
      effect(reply.total_rows !== undefined, `getIndexBuildProgress answered ${JSON.stringify(reply)}`);
    },
  },
  {
    area: 'indexes',
    name: 'alterIndexProperties',
    async run(ctx) {
      await quick(ctx);
      await step('releaseCollection', ctx.client.releaseCollection({ collection_name: ctx.name }));
      await step('alterIndexProperties', ctx.client.alterIndexProperties({ collection_name: ctx.name, index_name: 'vector', params: { 'mmap.enabled': true } }));
      const described = await step('describeIndex', ctx.client.describeIndex({ collection_name: ctx.name, field_name: 'vector' }));
      const params = described.index_descriptions[0]?.params ?? [];
      effect(params.some((p) => p.key === 'mmap.enabled' && p.value === 'true'), `describeIndex params ${JSON.stringify(params)}`);
    },
  },

  // insert
  {
    area: 'insert',
    name: 'plain rows (README quick start)',
    async run(ctx) {
      await quickRows(ctx, 10);
      effect((await count(ctx)) === 10, 'count(*) after 10 rows');
      const found = await query(ctx, 'id == 3', ['id', 'vector']);
      const back = found[0]?.['vector'] as number[] | undefined;
      effect(back !== undefined && back.every((x, d) => Math.abs(x - vec(3)[d]!) < 1e-6), `row 3 reads ${JSON.stringify(found)}`);
    },
  },
  {
    area: 'insert',
    name: 'every scalar type round-trips',
    async run(ctx) {
      await full(ctx, kScalarFields);
      await insert(ctx, [scalarRow(1), scalarRow(2)]);
      const found = await query(ctx, 'id == 2', kScalarFields.filter((f) => f.name !== 'vector').map((f) => f.name));
      const { vector: _v, ...want } = scalarRow(2);
      // The SDK gives Int64 values as strings (JavaScript numbers lose precision past 2^53).
      const got = Object.fromEntries(Object.keys(want).map((k) => [k, k === 'id' ? Number(found[0]?.[k]) : k === 'arr' ? (found[0]?.[k] as unknown[] | undefined)?.map(Number) : found[0]?.[k]]));
      effect(same(got, want), `row 2 reads ${JSON.stringify(got)}`);
    },
  },
  {
    area: 'insert',
    name: 'auto id',
    async run(ctx) {
      await quick(ctx, ctx.name, { auto_id: true });
      const reply = await step('insert', ctx.client.insert({ collection_name: ctx.name, data: [{ vector: vec(1) }, { vector: vec(2) }] }));
      const ids = (reply.IDs as { int_id?: { data: unknown[] } }).int_id?.data ?? [];
      effect(ids.length === 2 && ids[0] !== ids[1], `insert answered ids ${JSON.stringify(ids)}`);
      effect((await count(ctx)) === 2, 'count(*) after 2 auto-id rows');
    },
  },
  {
    area: 'insert',
    name: 'VarChar primary key',
    async run(ctx) {
      await full(ctx, [{ name: 'id', data_type: DataType.VarChar, is_primary_key: true, max_length: 16 }, kVectorField]);
      await insert(ctx, [{ id: 'a', vector: vec(1) }, { id: 'b', vector: vec(2) }]);
      const found = await query(ctx, 'id in ["b"]', ['id']);
      effect(same(found.map((r) => r['id']), ['b']), `query by a VarChar key answered ${JSON.stringify(found)}`);
    },
  },
  {
    area: 'insert',
    name: 'columns (fields_data)',
    async run(ctx) {
      await quick(ctx);
      const reply = await step('insert', ctx.client.insert({ collection_name: ctx.name, fields_data: rows(0, 3) as never }));
      effect(Number(reply.insert_cnt) === 3, `insert_cnt ${String(reply.insert_cnt)}`);
      effect((await count(ctx)) === 3, 'count(*) after 3 rows');
    },
  },
  {
    area: 'insert',
    name: 'wrong dimension',
    async run(ctx) {
      await quick(ctx);
      await step('insert', ctx.client.insert({ collection_name: ctx.name, data: [{ id: 1, vector: [1, 2] }], skip_check_schema: true } as never));
      effect((await count(ctx)) === 0, 'a row of the wrong dimension was stored');
    },
  },
  {
    area: 'insert',
    name: 'into a missing collection',
    async run(ctx) {
      const reply = await step('insert', ctx.client.insert({ collection_name: ctx.other, data: rows(0, 1) as never }));
      effect(false, `insert into a missing collection answered ${JSON.stringify(reply.status)}`);
    },
  },

  // upsert
  {
    area: 'upsert',
    name: 'replaces an existing row, inserts a new one',
    async run(ctx) {
      await tagged(ctx);
      await insert(ctx, rows(0, 3, () => ({ tag: 'old' })));
      await step('upsert', ctx.client.upsert({ collection_name: ctx.name, data: [...rows(1, 1, () => ({ tag: 'new' })), ...rows(7, 1, () => ({ tag: 'new' }))] as never }));
      const found = await query(ctx, 'id >= 0', ['id', 'tag']);
      const tags = Object.fromEntries(found.map((r) => [Number(r['id']), r['tag']]));
      effect(same(tags, { 0: 'old', 1: 'new', 2: 'old', 7: 'new' }), `rows after the upsert: ${JSON.stringify(tags)}`);
    },
  },
  {
    area: 'upsert',
    name: 'auto-id collection, rows without the key',
    killsNative: true,
    async run(ctx) {
      await quick(ctx, ctx.name, { auto_id: true });
      await step('insert', ctx.client.insert({ collection_name: ctx.name, data: [{ vector: vec(1) }] }));
      await step('upsert', ctx.client.upsert({ collection_name: ctx.name, data: [{ vector: vec(2) }] }));
      effect((await count(ctx)) === 2, 'count(*) after an insert and an upsert of a new row');
    },
  },
  {
    area: 'upsert',
    name: 'partial update (field_ops)',
    since: '2.6',
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField, { name: 'arr', data_type: DataType.Array, element_type: DataType.Int64, max_capacity: 8 }]);
      await insert(ctx, rows(1, 1, () => ({ arr: [1] })));
      await step('upsert', ctx.client.upsert({ collection_name: ctx.name, data: [{ id: 1, arr: [2] }], partial_update: true, field_ops: [{ field_name: 'arr', op: 'ARRAY_APPEND' }] } as never));
      const found = await query(ctx, 'id == 1', ['arr']);
      effect(same(found[0]?.['arr']?.toString(), '1,2'), `the array after ARRAY_APPEND reads ${JSON.stringify(found)}`);
    },
  },

  // delete
  {
    area: 'delete',
    name: 'by ids',
    async run(ctx) {
      await quickRows(ctx, 5);
      await step('delete', ctx.client.delete({ collection_name: ctx.name, ids: [1, 3] }));
      effect(same(sortedIds(await query(ctx, 'id >= 0', ['id'])), [0, 2, 4]), 'rows 1 and 3 are still there');
    },
  },
  {
    area: 'delete',
    name: 'by filter',
    async run(ctx) {
      await quickRows(ctx, 5);
      await step('delete', ctx.client.delete({ collection_name: ctx.name, filter: 'id > 2' }));
      effect(same(sortedIds(await query(ctx, 'id >= 0', ['id'])), [0, 1, 2]), 'rows over 2 are still there');
    },
  },
  {
    area: 'delete',
    name: 'deleted rows leave search',
    async run(ctx) {
      await quickRows(ctx, 5);
      await step('delete', ctx.client.delete({ collection_name: ctx.name, ids: [2] }));
      effect(!(await searchIds(ctx, vec(2), { limit: 5 })).includes(2), 'search still finds row 2');
    },
  },

  // search
  {
    area: 'search',
    name: 'one vector (README quick start)',
    async run(ctx) {
      await quickRows(ctx, 10);
      effect((await searchIds(ctx, vec(4)))[0] === 4, 'search missed row 4');
    },
  },
  {
    area: 'search',
    name: 'several vectors at once',
    async run(ctx) {
      await quickRows(ctx, 10);
      const reply = await step('search', ctx.client.search({ collection_name: ctx.name, data: [vec(2), vec(6)], limit: 1, ...strong }));
      const firsts = (reply.results as unknown as { id: unknown }[][]).map((hits) => Number(hits[0]?.id));
      effect(same(firsts, [2, 6]), `the two searches found ${JSON.stringify(firsts)}`);
    },
  },
  {
    area: 'search',
    name: 'filter and output fields',
    async run(ctx) {
      await tagged(ctx);
      await insert(ctx, rows(0, 10, (i) => ({ tag: i % 2 === 0 ? 'even' : 'odd' })));
      const reply = await step('search', ctx.client.search({ collection_name: ctx.name, data: vec(4), filter: 'tag == "odd"', output_fields: ['id', 'tag'], limit: 3, ...strong }));
      effect(reply.results.length === 3 && reply.results.every((r) => r['tag'] === 'odd' && Number(r.id) % 2 === 1), `filtered search answered ${JSON.stringify(reply.results)}`);
    },
  },
  {
    area: 'search',
    name: 'COSINE metric',
    async run(ctx) {
      await quick(ctx, ctx.name, { metric_type: 'COSINE' });
      await insert(ctx, rows(0, 5));
      const reply = await step('search', ctx.client.search({ collection_name: ctx.name, data: vec(3).map((x) => x * 10), limit: 1, ...strong }));
      effect(Number(reply.results[0]?.id) === 3 && Math.abs(Number(reply.results[0]?.score) - 1) < 1e-3, `COSINE search answered ${JSON.stringify(reply.results)}`);
    },
  },
  {
    area: 'search',
    name: 'offset paging',
    async run(ctx) {
      await quickRows(ctx, 10);
      const all = await searchIds(ctx, vec(0), { limit: 4 });
      const page = await searchIds(ctx, vec(0), { limit: 2, offset: 2 });
      effect(same(page, all.slice(2, 4)), `page 2 ${JSON.stringify(page)} of ${JSON.stringify(all)}`);
    },
  },
  {
    area: 'search',
    name: 'range search (radius)',
    async run(ctx) {
      await quick(ctx, ctx.name, { metric_type: 'L2' });
      await insert(ctx, rows(0, 10));
      // L2: hits with range_filter <= distance < radius; row 0 is at distance 0.
      const ids = await searchIds(ctx, vec(0), { limit: 10, params: { radius: 100, range_filter: 0.0001 } });
      effect(ids.length === 9 && !ids.includes(0), `a range excluding distance 0 found ${JSON.stringify(ids)}`);
    },
  },
  {
    area: 'search',
    name: 'grouping (group_by_field)',
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField, { name: 'g', data_type: DataType.Int64 }]);
      await insert(ctx, rows(0, 10, (i) => ({ g: i % 3 })));
      const reply = await step('search', ctx.client.search({ collection_name: ctx.name, data: vec(0), limit: 3, group_by_field: 'g', output_fields: ['g'], ...strong }));
      const groups = reply.results.map((r) => Number(r['g'])).sort();
      effect(same(groups, [0, 1, 2]), `grouped search answered groups ${JSON.stringify(groups)}`);
    },
  },
  {
    area: 'search',
    name: 'hybridSearch (two vector fields, RRF)',
    async run(ctx) {
      await full(ctx, kTwoVectorFields);
      await insert(ctx, rows(0, 5, (i) => ({ vector2: vec(i + 100) })));
      const reply = await step('hybridSearch', ctx.client.hybridSearch({ collection_name: ctx.name, data: [{ data: vec(2), anns_field: 'vector' }, { data: vec(102), anns_field: 'vector2' }], limit: 1, rerank: { strategy: 'rrf', params: { k: 60 } }, ...strong } as never));
      effect(Number((reply.results as { id: unknown }[])[0]?.id) === 2, `hybridSearch answered ${JSON.stringify(reply.results)}`);
    },
  },
  {
    area: 'search',
    name: 'by ids (no vector)',
    async run(ctx) {
      await quickRows(ctx, 5);
      const reply = await step('search', ctx.client.search({ collection_name: ctx.name, ids: [3], limit: 1, ...strong } as never));
      effect(Number((reply.results as { id: unknown }[])[0]?.id) === 3, `search by ids answered ${JSON.stringify(reply.results)}`);
    },
  },
  {
    area: 'search',
    name: 'a missing collection',
    async run(ctx) {
      const reply = await step('search', ctx.client.search({ collection_name: ctx.other, data: vec(0), limit: 1 }));
      effect(false, `search of a missing collection answered ${JSON.stringify(reply.status)}`);
    },
  },

  // query
  {
    area: 'query',
    name: 'filter, output fields',
    async run(ctx) {
      await tagged(ctx);
      await insert(ctx, rows(0, 10, (i) => ({ tag: `t${i}` })));
      const found = await query(ctx, 'id in [2, 5]', ['id', 'tag']);
      effect(same(found.map((r) => [Number(r['id']), r['tag']]).sort(), [[2, 't2'], [5, 't5']]), `query answered ${JSON.stringify(found)}`);
    },
  },
  {
    area: 'query',
    name: 'count(*)',
    async run(ctx) {
      await quickRows(ctx, 7);
      effect((await count(ctx)) === 7, 'count(*) after 7 rows');
    },
  },
  {
    area: 'query',
    name: 'limit and offset',
    async run(ctx) {
      await quickRows(ctx, 10);
      const page = await query(ctx, 'id >= 0', ['id'], ctx.name, { limit: 3, offset: 2 });
      effect(page.length === 3, `a page of 3 answered ${JSON.stringify(page)}`);
    },
  },
  {
    area: 'query',
    name: 'JSON path and array_contains filters',
    async run(ctx) {
      await full(ctx, kScalarFields);
      await insert(ctx, [1, 2, 3].map(scalarRow));
      const byJson = sortedIds(await query(ctx, 'j["n"] >= 2', ['id']));
      const byArray = sortedIds(await query(ctx, 'array_contains(arr, 3)', ['id']));
      effect(same(byJson, [2, 3]) && same(byArray, [2, 3]), `JSON filter ${JSON.stringify(byJson)}, array filter ${JSON.stringify(byArray)}`);
    },
  },
  {
    area: 'query',
    name: 'like on a VarChar',
    async run(ctx) {
      await full(ctx, kScalarFields);
      await insert(ctx, [1, 2, 12].map(scalarRow));
      effect(same(sortedIds(await query(ctx, 's like "text-1%"', ['id'])), [1, 12]), 'like missed rows');
    },
  },
  {
    area: 'query',
    name: 'filter template (exprValues)',
    async run(ctx) {
      await quickRows(ctx, 5);
      effect(same(sortedIds(await query(ctx, 'id in {ids}', ['id'], ctx.name, { exprValues: { ids: [1, 4] } })), [1, 4]), 'the template filter missed rows');
    },
  },

  // get
  {
    area: 'get',
    name: 'by ids',
    async run(ctx) {
      await tagged(ctx);
      await insert(ctx, rows(0, 5, (i) => ({ tag: `t${i}` })));
      const reply = await step('get', ctx.client.get({ collection_name: ctx.name, ids: [4, 1], output_fields: ['id', 'tag'], ...strong }));
      effect(same(reply.data.map((r) => [Number(r['id']), r['tag']]).sort(), [[1, 't1'], [4, 't4']]), `get answered ${JSON.stringify(reply.data)}`);
    },
  },
  {
    area: 'get',
    name: 'a missing id',
    async run(ctx) {
      await quickRows(ctx, 2);
      const reply = await step('get', ctx.client.get({ collection_name: ctx.name, ids: [99], ...strong }));
      effect(reply.data.length === 0, `get of a missing id answered ${JSON.stringify(reply.data)}`);
    },
  },

  // iterators
  {
    area: 'iterators',
    name: 'queryIterator pages through every row',
    async run(ctx) {
      await quickRows(ctx, 25);
      const iterator = await step('queryIterator', ctx.client.queryIterator({ collection_name: ctx.name, batchSize: 10, filter: 'id >= 0', output_fields: ['id'], ...strong }));
      const seen: number[] = [];
      await step('queryIterator pages', async () => {
        for await (const batch of iterator as AsyncIterable<Record<string, unknown>[]>) seen.push(...batch.map((r) => Number(r['id'])));
      });
      effect(same(seen.sort((a, b) => a - b), Array.from({ length: 25 }, (_, i) => i)), `the iterator gave ${seen.length} rows: ${JSON.stringify(seen)}`);
    },
  },
  {
    area: 'iterators',
    name: 'searchIterator',
    async run(ctx) {
      await quickRows(ctx, 25);
      const iterator = await step('searchIterator', ctx.client.searchIterator({ collection_name: ctx.name, data: vec(0), batchSize: 10, limit: 20, ...strong }));
      const seen: number[] = [];
      await step('searchIterator pages', async () => {
        for await (const batch of iterator as AsyncIterable<{ id: unknown }[]>) seen.push(...batch.map((r) => Number(r.id)));
      });
      effect(new Set(seen).size === 20 && seen[0] === 0, `the iterator gave ${seen.length} hits: ${JSON.stringify(seen)}`);
    },
  },

  // partitions
  {
    area: 'partitions',
    name: 'createPartition, hasPartition, listPartitions',
    async run(ctx) {
      await quick(ctx);
      await step('createPartition', ctx.client.createPartition({ collection_name: ctx.name, partition_name: 'p1' }));
      const has = await step('hasPartition', ctx.client.hasPartition({ collection_name: ctx.name, partition_name: 'p1' }));
      effect(has.value === true, `hasPartition after createPartition answered ${JSON.stringify(has)}`);
      listed((await step('listPartitions', ctx.client.listPartitions({ collection_name: ctx.name }))).partition_names, 'p1', 'listPartitions');
    },
  },
  {
    area: 'partitions',
    name: 'insert into a partition, search and query it',
    async run(ctx) {
      await quick(ctx);
      await step('createPartition', ctx.client.createPartition({ collection_name: ctx.name, partition_name: 'p1' }));
      await insert(ctx, rows(0, 3));
      await insert(ctx, rows(10, 3), ctx.name, { partition_name: 'p1' });
      const inP1 = sortedIds(await query(ctx, 'id >= 0', ['id'], ctx.name, { partition_names: ['p1'] }));
      effect(same(inP1, [10, 11, 12]), `query of p1 answered ${JSON.stringify(inP1)}`);
      const found = await searchIds(ctx, vec(0), { partition_names: ['p1'] });
      effect(found.every((id) => id >= 10), `search of p1 found ${JSON.stringify(found)}`);
    },
  },
  {
    area: 'partitions',
    name: 'dropPartition',
    async run(ctx) {
      await quick(ctx);
      await step('createPartition', ctx.client.createPartition({ collection_name: ctx.name, partition_name: 'p1' }));
      await step('releasePartitions', ctx.client.releasePartitions({ collection_name: ctx.name, partition_names: ['p1'] }));
      await step('dropPartition', ctx.client.dropPartition({ collection_name: ctx.name, partition_name: 'p1' }));
      const has = await step('hasPartition', ctx.client.hasPartition({ collection_name: ctx.name, partition_name: 'p1' }));
      effect(has.value === false, `hasPartition after dropPartition answered ${JSON.stringify(has)}`);
    },
  },
  {
    area: 'partitions',
    name: 'partition key field',
    async run(ctx) {
      await full(ctx, [kIdField, kVectorField, { name: 'tenant', data_type: DataType.VarChar, max_length: 16, is_partition_key: true }], { extra: { num_partitions: 4 } });
      await insert(ctx, rows(0, 6, (i) => ({ tenant: i < 3 ? 'a' : 'b' })));
      const ids = await searchIds(ctx, vec(4), { filter: 'tenant == "a"', limit: 5 });
      effect(same([...ids].sort(), [0, 1, 2]), `search of tenant a found ${JSON.stringify(ids)}`);
    },
  },

  // aliases
  {
    area: 'aliases',
    name: 'createAlias, describeAlias, read through it',
    async run(ctx) {
      await quickRows(ctx, 3);
      await step('createAlias', ctx.client.createAlias({ collection_name: ctx.name, alias: ctx.other }));
      const described = await step('describeAlias', ctx.client.describeAlias({ collection_name: ctx.name, alias: ctx.other }));
      effect(described.collection === ctx.name, `describeAlias answered ${JSON.stringify(described)}`);
      effect((await count(ctx, ctx.other)) === 3, 'count(*) through the alias');
    },
  },
  {
    area: 'aliases',
    name: 'listAliases, alterAlias, dropAlias',
    async run(ctx) {
      await quick(ctx);
      await quick(ctx, ctx.name2);
      await step('createAlias', ctx.client.createAlias({ collection_name: ctx.name, alias: ctx.other }));
      listed((await step('listAliases', ctx.client.listAliases({ collection_name: ctx.name }))).aliases, ctx.other, 'listAliases');
      await step('alterAlias', ctx.client.alterAlias({ collection_name: ctx.name2, alias: ctx.other }));
      effect((await step('describeAlias', ctx.client.describeAlias({ collection_name: ctx.name, alias: ctx.other }))).collection === ctx.name2, 'the alias did not move with alterAlias');
      await step('dropAlias', ctx.client.dropAlias({ alias: ctx.other }));
      const left = await step('listAliases', ctx.client.listAliases({ collection_name: ctx.name2 }));
      effect(!(left.aliases ?? []).includes(ctx.other), `listAliases after dropAlias answered ${JSON.stringify(left.aliases)}`);
    },
  },

  // databases
  {
    area: 'databases',
    name: 'createDatabase, listDatabases, dropDatabase',
    async run(ctx) {
      await step('createDatabase', ctx.client.createDatabase({ db_name: ctx.other }));
      listed((await step('listDatabases', ctx.client.listDatabases())).db_names, ctx.other, 'listDatabases');
      await step('dropDatabase', ctx.client.dropDatabase({ db_name: ctx.other }));
      const after = await step('listDatabases', ctx.client.listDatabases());
      effect(!after.db_names.includes(ctx.other), `listDatabases after dropDatabase answered ${JSON.stringify(after.db_names)}`);
    },
  },
  {
    area: 'databases',
    name: 'db_name keeps collections apart',
    async run(ctx) {
      await step('createDatabase', ctx.client.createDatabase({ db_name: ctx.other }));
      try {
        await step('createCollection', ctx.client.createCollection({ collection_name: ctx.name, dimension: kDim, db_name: ctx.other }));
        const inDefault = await step('hasCollection', ctx.client.hasCollection({ collection_name: ctx.name, db_name: 'default' }));
        effect(inDefault.value === false, 'a collection created with db_name shows in the default database');
        const inOther = await step('hasCollection', ctx.client.hasCollection({ collection_name: ctx.name, db_name: ctx.other }));
        effect(inOther.value === true, 'a collection created with db_name is not in that database');
      } finally {
        await ctx.client.dropCollection({ collection_name: ctx.name, db_name: ctx.other }).catch(() => {});
        await ctx.client.dropDatabase({ db_name: ctx.other }).catch(() => {});
      }
    },
  },
  {
    area: 'databases',
    name: 'describeDatabase',
    async run(ctx) {
      const reply = await step('describeDatabase', ctx.client.describeDatabase({ db_name: 'default' }));
      effect(reply.db_name === 'default', `describeDatabase answered ${JSON.stringify(reply)}`);
    },
  },

  // vector types
  {
    area: 'vector types',
    name: 'BinaryVector (BIN_FLAT, HAMMING)',
    async run(ctx) {
      await vectorRoundTrip(ctx, { name: 'bits', data_type: DataType.BinaryVector, dim: 16 }, { index_type: 'BIN_FLAT', metric_type: 'HAMMING' }, (i) => [i * 37 % 256, i * 91 % 256]);
    },
  },
  {
    area: 'vector types',
    name: 'Float16Vector',
    since: '2.4',
    async run(ctx) {
      await vectorRoundTrip(ctx, { name: 'half', data_type: DataType.Float16Vector, dim: kDim }, { index_type: 'FLAT', metric_type: 'L2' }, vec);
    },
  },
  {
    area: 'vector types',
    name: 'BFloat16Vector',
    since: '2.4',
    async run(ctx) {
      await vectorRoundTrip(ctx, { name: 'bhalf', data_type: DataType.BFloat16Vector, dim: kDim }, { index_type: 'FLAT', metric_type: 'L2' }, vec);
    },
  },
  {
    area: 'vector types',
    name: 'SparseFloatVector (SPARSE_INVERTED_INDEX, IP)',
    since: '2.4',
    async run(ctx) {
      await vectorRoundTrip(ctx, { name: 'sparse', data_type: DataType.SparseFloatVector }, { index_type: 'SPARSE_INVERTED_INDEX', metric_type: 'IP' }, (i) => ({ [i]: 1, [i + 10]: 0.5 }));
    },
  },
  {
    area: 'vector types',
    name: 'Int8Vector',
    since: '2.6',
    async run(ctx) {
      await vectorRoundTrip(ctx, { name: 'bytes', data_type: DataType.Int8Vector, dim: kDim }, { index_type: 'HNSW', metric_type: 'L2', params: { M: 8, efConstruction: 64 } }, (i) => vec(i).map((x) => Math.round(x * 100)));
    },
  },
  {
    area: 'vector types',
    name: 'two float vector fields',
    async run(ctx) {
      await full(ctx, kTwoVectorFields);
      await insert(ctx, rows(0, 5, (i) => ({ vector2: vec(i + 100) })));
      effect((await searchIds(ctx, vec(103), { anns_field: 'vector2' }))[0] === 3, 'search of vector2 missed row 3');
    },
  },

  // full-text search
  {
    area: 'full-text search',
    name: 'BM25 function, search by text',
    since: '2.5',
    async run(ctx) {
      await withTextCollection(ctx);
      const reply = await step('search', ctx.client.search({ collection_name: ctx.name, data: 'lazy dog', anns_field: 'sparse', limit: 1, output_fields: ['text'], ...strong }));
      effect(reply.results[0]?.['text'] === kTexts[1], `text search answered ${JSON.stringify(reply.results)}`);
    },
  },
  {
    area: 'full-text search',
    name: 'text_match filter',
    since: '2.5',
    async run(ctx) {
      await withTextCollection(ctx);
      const found = await query(ctx, "text_match(text, 'embeddings')", ['id']);
      effect(same(sortedIds(found), [2]), `text_match answered ${JSON.stringify(found)}`);
    },
  },

  // server calls
  {
    area: 'server calls',
    name: 'getVersion',
    async run(ctx) {
      const reply = await step('getVersion', ctx.client.getVersion());
      effect(typeof reply.version === 'string' && reply.version !== '', `getVersion answered ${JSON.stringify(reply)}`);
    },
  },
  {
    area: 'server calls',
    name: 'checkHealth',
    async run(ctx) {
      const reply = await step('checkHealth', ctx.client.checkHealth());
      effect(reply.isHealthy === true, `checkHealth answered ${JSON.stringify(reply)}`);
    },
  },
  {
    area: 'server calls',
    name: 'flush, then flushAll',
    alone: true,
    async run(ctx) {
      await quickRows(ctx, 2);
      await step('flush', ctx.client.flush({ collection_names: [ctx.name] }));
      const all = await step('flushAll', ctx.client.flushAll());
      effect((all as { status?: unknown }).status !== undefined, `flushAll answered ${JSON.stringify(all)}`);
    },
  },
  {
    area: 'server calls',
    name: 'compact',
    async run(ctx) {
      await quick(ctx);
      const reply = await step('compact', ctx.client.compact({ collection_name: ctx.name }));
      effect(reply.compactionID !== undefined, `compact answered ${JSON.stringify(reply)}`);
    },
  },
  {
    area: 'server calls',
    name: 'getMetric',
    async run(ctx) {
      const reply = await step('getMetric', ctx.client.getMetric({ request: { metric_type: 'system_info' } }));
      const response: unknown = reply.response;
      effect(typeof response === 'object' && response !== null && Object.keys(response).length > 0, `getMetric answered ${JSON.stringify(reply)}`);
    },
  },
  {
    area: 'server calls',
    name: 'getReplicas',
    async run(ctx) {
      await quick(ctx);
      const described = await step('describeCollection', ctx.client.describeCollection({ collection_name: ctx.name }));
      const reply = await step('getReplicas', ctx.client.getReplicas({ collectionID: described.collectionID }));
      effect(Array.isArray(reply.replicas) && reply.replicas.length > 0, `getReplicas answered ${JSON.stringify(reply)}`);
    },
  },
  {
    area: 'server calls',
    name: 'segment info',
    async run(ctx) {
      await quickRows(ctx, 2);
      await step('flush', ctx.client.flush({ collection_names: [ctx.name] }));
      const persistent = await step('getPersistentSegmentInfo', ctx.client.getPersistentSegmentInfo({ collectionName: ctx.name }));
      effect(Array.isArray(persistent.infos) && persistent.infos.length > 0, `getPersistentSegmentInfo answered ${JSON.stringify(persistent)}`);
    },
  },
];
