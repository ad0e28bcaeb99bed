// The expected outcome of every conformance cell: one row per case, one column per target. The
// live suites assert these; conformance-table.test.ts checks the committed results against them.
// Messages are patterns over the normalized first line (key phrases, so wording around them may move).
import type { OutcomeKind, Target } from './outcome.js';

/** What each target is; the results files and the README's column heads carry it. */
export const kTargetVersions: Readonly<Record<Target, string>> = { native: 'milvus-lite 2.5.1', python: 'milvus-lite 3.2.2', standalone: 'Milvus 2.3.5' };

export interface Expected {
  readonly kind: OutcomeKind;
  /** Matched against the outcome's message; none: any message. */
  readonly message?: RegExp;
}

const works: Expected = { kind: 'works' };
const fails = (message: RegExp): Expected => ({ kind: 'fails', message });
const silent = (message: RegExp): Expected => ({ kind: 'silent', message });
/** Not sent: the Milvus server predates the feature (suite.ts reads its version). */
const predates = (since: string): Expected => ({ kind: 'n/a', message: new RegExp(`^Milvus 2\\.3\\.5\\S* predates it \\(since ${since.replace('.', '\\.')}\\)$`) });

/**
 * A call of an RPC the milvus-lite server lacks (UNIMPLEMENTED): leasehold rejects it with an
 * `UnsupportedMethodError` naming the method (the SDK alone answers `{}`, as if it had worked).
 */
const lacks = (method: string): Expected => ({ kind: 'refused', message: new RegExp(`\\b${method}\\b`) });
/**
 * A row shape that kills milvus-lite 2.5.1 (SIGSEGV; run on a server of its own): leasehold refuses
 * it unsent with a `RefusedRequestError`; `field` names what the refusal names.
 */
const killsNative = (field: RegExp): Expected => ({ kind: 'refused', message: field });

/** The same outcome on every target. */
const all = (e: Expected): Record<Target, Expected> => ({ native: e, python: e, standalone: e });
const row = (native: Expected, python: Expected, standalone: Expected): Record<Target, Expected> => ({ native, python, standalone });

const kSdkReadsEmptyReply = /Cannot read properties of undefined \(reading 'error_code'\)/;

export const kExpected: Readonly<Record<string, Record<Target, Expected>>> = {
  'collections: quick create (dimension), describe': all(works),
  'collections: full schema, every scalar type, describe': all(works),
  'collections: hasCollection, listCollections': all(works),
  'collections: describeCollection of a missing one': row(fails(/^describeCollection: collection not found$/), fails(/does not exist/), fails(/can't find collection/)),
  'collections: dropCollection': all(works),
  'collections: release, load, getLoadState': all(works),
  'collections: getCollectionStatistics row count': all(works),
  'collections: renameCollection': row(lacks('RenameCollection'), works, works),
  'collections: alterCollectionProperties': row(lacks('AlterCollection'), works, works),
  'collections: addCollectionField': row(lacks('AddCollectionField'), lacks('AddCollectionField'), silent(/without extra/)),
  'collections: truncateCollection': row(lacks('TruncateCollection'), works, silent(/rows left/)),
  'collections: batchDescribeCollections': row(lacks('BatchDescribeCollection'), lacks('BatchDescribeCollection'), fails(kSdkReadsEmptyReply)),
  'collections: dynamic field: extra keys round-trip': all(works),
  'collections: Int32 field with a default, left out of the rows': row(killsNative(/\bn\b/), works, works),
  'collections: VarChar field with a default, left out of the rows': row(killsNative(/\blabel\b/), works, works),
  'collections: nullable field': row(fails(/doesn't support nullable/), works, predates('2.5')),
  'collections: Geometry field': row(fails(/unsupported scalar type/), works, predates('2.6')),
  'collections: Timestamptz field': row(fails(/unsupported scalar type/), works, predates('2.6')),
  // milvus-lite 2.5.1 answers the createCollection with success and makes nothing.
  'collections: struct field (array of struct)': row(fails(/^createIndex FLAT: Can not find collection/), fails(/some field does not exist/), predates('2.6')),

  'indexes: FLAT, describeIndex': all(works),
  'indexes: no index_type given (AUTOINDEX)': all(works),
  'indexes: IVF_FLAT with nlist': all(works),
  'indexes: HNSW': row(fails(/local mode only support FLAT IVF_FLAT AUTOINDEX/), works, works),
  'indexes: IVF_SQ8': row(fails(/local mode only support FLAT IVF_FLAT AUTOINDEX/), works, works),
  'indexes: scalar index (INVERTED) on a VarChar': row(works, works, fails(/index type not match/)),
  'indexes: listIndexes, dropIndex': row(silent(/after dropIndex answered \["vector"\]/), fails(/^listIndexes: no index/), fails(/^listIndexes: index not found/)),
  'indexes: describeIndex of a missing index': row(silent(/without an index answered \[\]/), fails(/no index on collection/), fails(/index not found/)),
  'indexes: getIndexState': row(lacks('GetIndexState'), lacks('GetIndexState'), works),
  'indexes: getIndexBuildProgress': row(lacks('GetIndexBuildProgress'), lacks('GetIndexBuildProgress'), works),
  'indexes: alterIndexProperties': row(lacks('AlterIndex'), lacks('AlterIndex'), fails(/Marshal called with nil/)),

  'insert: plain rows (README quick start)': all(works),
  'insert: every scalar type round-trips': all(works),
  'insert: auto id': all(works),
  'insert: VarChar primary key': all(works),
  'insert: columns (fields_data)': all(works),
  'insert: wrong dimension': row(fails(/should divide the dim/), fails(/expected num_rows\(1\) \* dim\(4\)/), fails(/should divide the dim/)),
  'insert: into a missing collection': row(fails(/collection not found/), fails(/does not exist/), fails(/can't find collection/)),

  'upsert: replaces an existing row, inserts a new one': all(works),
  'upsert: auto-id collection, rows without the key': row(killsNative(/\bid\b/), fails(/FieldData 'id' has 0 rows/), fails(/the number of fields is less than needed/)),
  'upsert: partial update (field_ops)': row(fails(/^upsert: invalid parameter$/), silent(/after ARRAY_APPEND reads .*"arr":\["2"\]/), predates('2.6')),

  'delete: by ids': all(works),
  'delete: by filter': all(works),
  'delete: deleted rows leave search': all(works),

  'search: one vector (README quick start)': all(works),
  'search: several vectors at once': all(works),
  'search: filter and output fields': all(works),
  'search: COSINE metric': all(works),
  'search: offset paging': all(works),
  'search: range search (radius)': all(works),
  // Milvus 2.3 ignores group_by_field (grouping search came in 2.4).
  'search: grouping (group_by_field)': row(works, works, silent(/answered groups/)),
  'search: hybridSearch (two vector fields, RRF)': row(works, works, fails(/multiple vector fields is not supported/)),
  'search: by ids (no vector)': row(fails(/segcore error/), fails(/missing placeholder_group/), fails(/fail to Search/)),
  // The SDK's own TypeError: it searches with the schema of a describeCollection that failed.
  'search: a missing collection': row(fails(/Cannot read properties of null \(reading 'fields'\)/), fails(/Cannot read properties of null \(reading 'fields'\)/), fails(/Cannot read properties of undefined/)),

  'query: filter, output fields': all(works),
  'query: count(*)': all(works),
  'query: limit and offset': all(works),
  'query: JSON path and array_contains filters': all(works),
  'query: like on a VarChar': all(works),
  'query: filter template (exprValues)': row(fails(/expr type check failed/), fails(/unexpected character '\{'/), fails(/cannot parse expression/)),

  'get: by ids': all(works),
  'get: a missing id': all(works),

  'iterators: queryIterator pages through every row': all(works),
  // The SDK 3.0.6 iterator reads a search-iterator token none of these servers sends; it logs and ends.
  'iterators: searchIterator': all(silent(/the iterator gave 0 hits/)),

  'partitions: createPartition, hasPartition, listPartitions': row(lacks('CreatePartition'), works, works),
  'partitions: insert into a partition, search and query it': row(lacks('CreatePartition'), works, works),
  // milvus-lite 3.2.2 lacks ReleasePartitions (the case releases before it drops): refused, naming it.
  'partitions: dropPartition': row(lacks('CreatePartition'), lacks('ReleasePartitions'), works),
  'partitions: partition key field': row(fails(/Invalid expr: tenant == "a"/), works, works),

  'aliases: createAlias, describeAlias, read through it': row(lacks('CreateAlias'), works, works),
  'aliases: listAliases, alterAlias, dropAlias': row(lacks('CreateAlias'), works, works),

  'databases: createDatabase, listDatabases, dropDatabase': row(lacks('CreateDatabase'), works, works),
  'databases: db_name keeps collections apart': row(lacks('CreateDatabase'), works, works),
  'databases: describeDatabase': row(lacks('DescribeDatabase'), works, silent(/answered \{\}/)),

  'vector types: BinaryVector (BIN_FLAT, HAMMING)': row(works, fails(/uses Milvus type BinaryVector which MilvusLite does not support/), works),
  'vector types: Float16Vector': row(works, fails(/uses Milvus type Float16Vector which MilvusLite does not support/), predates('2.4')),
  'vector types: BFloat16Vector': row(works, fails(/uses Milvus type BFloat16Vector which MilvusLite does not support/), predates('2.4')),
  // milvus-lite 3.2.2 wants the metric in each search of a sparse field (none of the others does).
  'vector types: SparseFloatVector (SPARSE_INVERTED_INDEX, IP)': row(works, fails(/requires metric IP, got ''/), predates('2.4')),
  'vector types: Int8Vector': row(fails(/unsupported scalar type/), fails(/uses Milvus type Int8Vector which MilvusLite does not support/), predates('2.6')),
  'vector types: two float vector fields': row(works, works, fails(/multiple vector fields is not supported/)),

  'full-text search: BM25 function, search by text': row(works, fails(/requires metric BM25, got ''/), predates('2.5')),
  'full-text search: text_match filter': row(fails(/Invalid expr: text_match/), works, predates('2.5')),

  'server calls: getVersion': row(lacks('GetVersion'), works, works),
  'server calls: checkHealth': row(lacks('CheckHealth'), works, works),
  'server calls: flush, then flushAll': row(lacks('FlushAll'), lacks('FlushAll'), works),
  'server calls: compact': row(lacks('ManualCompaction'), works, works),
  'server calls: getMetric': row(lacks('GetMetrics'), lacks('GetMetrics'), works),
  'server calls: getReplicas': row(lacks('GetReplicas'), lacks('GetReplicas'), works),
  'server calls: segment info': row(lacks('GetPersistentSegmentInfo'), lacks('GetPersistentSegmentInfo'), works),
};

/** The expected outcome of case `id` on `target`; throws for a case the table does not list. */
export function expectedOutcome(target: Target, id: string): Expected {
  const expected = kExpected[id]?.[target];
  if (expected === undefined) throw new Error(`expected.ts lists no outcome for "${id}" on ${target}: add its row`);
  return expected;
}
