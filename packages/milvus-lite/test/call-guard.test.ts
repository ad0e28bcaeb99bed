// Issue 25, items 1–3: no silent no-op, no request shape that kills milvus-lite is sent, and the
// layer changes milvus-lite's answers only. Against the real native server, with both SDKs.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as sdk3 from '@zilliz/milvus2-sdk-node';
import * as sdk25 from 'milvus-sdk-25';
import { describe, expect, it } from 'vitest';
import { milvusClientConfig, MilvusCallError, RefusedRequestError, ServerExitedError, UnsupportedMethodError } from '../src/index.js';
import { RequestShapes } from '../src/client/request-shapes.js';
import { installationOf } from './support/installations.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

type Sdk = typeof sdk3;
type Client = InstanceType<Sdk['MilvusClient']>;
const versionOf = (name: string): string => (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;
const sdks: [string, Sdk][] = [
  [`SDK ${versionOf('@zilliz/milvus2-sdk-node')}`, sdk3],
  [`SDK ${versionOf('milvus-sdk-25')}`, sdk25 as unknown as Sdk],
];
const native = installationOf('native');
const python = installationOf('python');
const c = { collection_name: 'c' };

/** Each SDK method whose RPC milvus-lite 2.5.1 lacks (issue 25's list), with a valid request and the RPC's name. */
const kUnimplemented: [method: string, request: unknown, rpc: string][] = [
  ['createPartition', { ...c, partition_name: 'p' }, 'CreatePartition'],
  ['showPartitions', c, 'ShowPartitions'],
  ['hasPartition', { ...c, partition_name: 'p' }, 'HasPartition'],
  ['dropPartition', { ...c, partition_name: 'p' }, 'DropPartition'],
  ['addCollectionField', { ...c, field: { name: 'f', data_type: 5, nullable: true } }, 'AddCollectionField'],
  ['alterCollectionProperties', { ...c, properties: { 'collection.ttl.seconds': 60 } }, 'AlterCollection'],
  ['alterCollectionFieldProperties', { ...c, field_name: 'vector', properties: { 'mmap.enabled': true } }, 'AlterCollectionField'],
  ['renameCollection', { ...c, new_collection_name: 'd' }, 'RenameCollection'],
  ['createAlias', { ...c, alias: 'al' }, 'CreateAlias'],
  ['alterAlias', { ...c, alias: 'al' }, 'AlterAlias'],
  ['describeAlias', { ...c, alias: 'al' }, 'DescribeAlias'],
  ['listAliases', c, 'ListAliases'],
  ['dropAlias', { alias: 'al' }, 'DropAlias'],
  ['createDatabase', { db_name: 'x' }, 'CreateDatabase'],
  ['listDatabases', {}, 'ListDatabases'],
  ['describeDatabase', { db_name: 'x' }, 'DescribeDatabase'],
  ['alterDatabaseProperties', { db_name: 'x', properties: { 'database.max.collections': 5 } }, 'AlterDatabase'],
  ['dropDatabase', { db_name: 'x' }, 'DropDatabase'],
  ['getVersion', undefined, 'GetVersion'],
  ['checkHealth', undefined, 'CheckHealth'],
  ['compact', c, 'ManualCompaction'],
  ['getCompactionState', { compactionID: 1 }, 'GetCompactionState'],
  ['flushAll', undefined, 'FlushAll'],
  ['truncateCollection', c, 'TruncateCollection'],
  ['getQuerySegmentInfo', { collectionName: 'c' }, 'GetQuerySegmentInfo'],
  ['getPersistentSegmentInfo', { collectionName: 'c' }, 'GetPersistentSegmentInfo'],
  ['getIndexState', { ...c, field_name: 'vector' }, 'GetIndexState'],
  ['getIndexBuildProgress', { ...c, field_name: 'vector' }, 'GetIndexBuildProgress'],
  ['alterIndexProperties', { ...c, index_name: 'vector', params: { 'mmap.enabled': true } }, 'AlterIndex'],
  ['getPartitionStatistics', { ...c, partition_name: '_default' }, 'GetPartitionStatistics'],
  ['getReplicas', { collectionID: 1 }, 'GetReplicas'],
  ['getMetric', { request: { metric_type: 'system_info' } }, 'GetMetrics'],
];

const outcome = (promise: Promise<unknown>): Promise<unknown> => promise.then((value) => ({ resolved: value }), (error: unknown) => error);

describe.skipIf(native === undefined)('call guard on the native engine', () => {
  const freshDir = freshDirs('lh-guard-');
  const newPool = poolsClosedAfterEach(native);

  for (const [name, sdk] of sdks) {
    describe(name, () => {
      const clientOf = (uri: string, config: Parameters<typeof milvusClientConfig>[1] = {}): Client => new sdk.MilvusClient(milvusClientConfig(uri, { logLevel: 'error', ...config }));

      it('every RPC milvus-lite lacks fails with an UnsupportedMethodError naming it, never an empty success', async () => {
        await using lease = await newPool().acquire(join(freshDir(), 'app.db'));
        const client = clientOf(lease.resource.uri);
        await client.createCollection({ collection_name: 'c', dimension: 4 });
        const seen: Record<string, string> = {};
        for (const [method, request, rpc] of kUnimplemented) {
          const call = (client as unknown as Record<string, ((request: unknown) => Promise<unknown>) | undefined>)[method];
          if (call === undefined) continue; // not in this SDK version
          const result = await outcome(call.call(client, request));
          seen[method] = result instanceof UnsupportedMethodError ? `${result.method} ${String(result.code)}` : `got ${JSON.stringify(result)?.slice(0, 120)}`;
          if (result instanceof UnsupportedMethodError) expect(result.message).toContain(`milvus-lite does not implement ${rpc}`);
        }
        for (const [method, , rpc] of kUnimplemented) if (method in seen) expect(seen[method], method).toBe(`${rpc} 12`);
        expect(Object.keys(seen).length).toBeGreaterThanOrEqual(28);
        // What milvus-lite does implement still answers.
        expect((await client.hasCollection(c)).value).toBe(true);
        await client.closeConnection();
      });

      it('refuses, unsent, the two request shapes that crash milvus-lite 2.5, naming the field; the server lives on', async () => {
        await using lease = await newPool().acquire(join(freshDir(), 'app.db'));
        const client = clientOf(lease.resource.uri);
        const { DataType } = sdk;
        await client.createCollection({
          collection_name: 'withdefault',
          fields: [
            { name: 'id', data_type: DataType.Int64, is_primary_key: true },
            { name: 'v', data_type: DataType.FloatVector, dim: 4 },
            { name: 'n', data_type: DataType.Int32, default_value: 7 },
            { name: 's', data_type: DataType.VarChar, max_length: 32, default_value: 'x' },
          ],
        });
        await client.createIndex({ collection_name: 'withdefault', field_name: 'v', metric_type: 'L2' });
        await client.loadCollection({ collection_name: 'withdefault' });
        const left = await outcome(client.insert({ collection_name: 'withdefault', data: [{ id: 1, v: [1, 2, 3, 4], n: 1 }] }));
        expect(left).toBeInstanceOf(RefusedRequestError);
        expect(left).toMatchObject({ method: 'Insert', collection: 'withdefault', field: 's' });
        expect((left as Error).message).toMatch(/the field "s", which has a default value.*Give "s" a value in every row/);
        // Leaving out the Int32 field with a default crashes it too (on a loaded collection, with SDK 3.0.6's requests).
        expect(await outcome(client.insert({ collection_name: 'withdefault', data: [{ id: 1, v: [1, 2, 3, 4], s: 'y' }] }))).toMatchObject({ field: 'n' });
        expect((await client.insert({ collection_name: 'withdefault', data: [{ id: 1, v: [1, 2, 3, 4], n: 2, s: 'y' }] })).status.error_code).toBe('Success');

        await client.createCollection({ collection_name: 'auto', dimension: 4, auto_id: true });
        const upsert = await outcome(client.upsert({ collection_name: 'auto', data: [{ vector: [1, 2, 3, 4] }] }));
        expect(upsert).toBeInstanceOf(RefusedRequestError);
        expect(upsert).toMatchObject({ method: 'Upsert', collection: 'auto', field: 'id' });
        expect((await client.insert({ collection_name: 'auto', data: [{ vector: [1, 2, 3, 4] }] })).status.error_code).toBe('Success');

        // The schema cache follows a drop and create: the same name without auto-id takes the upsert.
        await client.dropCollection({ collection_name: 'auto' });
        await client.createCollection({ collection_name: 'auto', dimension: 4 });
        expect((await client.upsert({ collection_name: 'auto', data: [{ id: 5, vector: [1, 2, 3, 4] }] })).status.error_code).toBe('Success');
        expect(lease.signal.aborted).toBe(false);
        expect((await client.count({ collection_name: 'withdefault' })).data).toBe(1);
        await client.closeConnection();
      });
    });
  }

  // Found by a newcomer's test of issue 25: rows leaving out (or nulling) a field with no default
  // value, and upserts without the key into a collection that is not auto-id. Unguarded, milvus-lite
  // 2.5.1 dies of each (SIGSEGV), or, when only some rows leave an Int64 out, acknowledges the insert
  // and stores uninitialised memory for it.
  describe('refuses, unsent, every row that leaves out or nulls a field with no default, and every upsert without the key; the server lives on', () => {
    const { DataType } = sdk3;
    const v = [1, 2, 3, 4];
    const withLease = async (body: (client: Client) => Promise<void>): Promise<void> => {
      await using lease = await newPool().acquire(join(freshDir(), 'app.db'));
      const client = new sdk3.MilvusClient(milvusClientConfig(lease.resource.uri, { logLevel: 'error' }));
      await body(client);
      expect(lease.signal.aborted).toBe(false);
      await client.closeConnection();
    };
    const cases: [name: string, field: Record<string, unknown> | undefined, op: 'insert' | 'upsert', rows: Record<string, unknown>[], refused: string][] = [
      ['omits Int64', { data_type: DataType.Int64 }, 'insert', [{ id: 1, v }], 'x'],
      ['omits VarChar', { data_type: DataType.VarChar, max_length: 8 }, 'insert', [{ id: 1, v }], 'x'],
      ['omits Bool', { data_type: DataType.Bool }, 'insert', [{ id: 1, v }], 'x'],
      ['omits Float', { data_type: DataType.Float }, 'insert', [{ id: 1, v }], 'x'],
      ['omits JSON', { data_type: DataType.JSON }, 'insert', [{ id: 1, v }], 'x'],
      ['omits Array', { data_type: DataType.Array, element_type: DataType.Int64, max_capacity: 4 }, 'insert', [{ id: 1, v }], 'x'],
      ['omits SparseFloatVector', { data_type: DataType.SparseFloatVector }, 'insert', [{ id: 1, v }], 'x'],
      ['nulls Int64', { data_type: DataType.Int64 }, 'insert', [{ id: 1, v, x: null }], 'x'],
      ['nulls JSON', { data_type: DataType.JSON }, 'insert', [{ id: 1, v, x: null }], 'x'],
      // Unguarded: acknowledged, and the second row's x is uninitialised memory, in the file too.
      ['omits Int64 in some rows', { data_type: DataType.Int64 }, 'insert', [{ id: 1, v, x: 777 }, { id: 2, v }], 'x'],
      ['upsert omits Int64', { data_type: DataType.Int64 }, 'upsert', [{ id: 1, v }], 'x'],
      ['upsert without the Int64 key, not auto-id', undefined, 'upsert', [{ v }], 'id'],
      // Found by the property test: an insert without the key into a collection that is not auto-id.
      ['insert without the Int64 key, not auto-id', undefined, 'insert', [{ v }, { v }], 'id'],
    ];
    for (const [name, field, op, rows, refused] of cases) {
      it(name, () =>
        withLease(async (client) => {
          const collection_name = 'c';
          const fields = [{ name: 'id', data_type: DataType.Int64, is_primary_key: true }, { name: 'v', data_type: DataType.FloatVector, dim: 4 }, ...(field === undefined ? [] : [{ name: 'x', ...field }])];
          const index_params = [{ field_name: 'v', index_type: 'AUTOINDEX', metric_type: 'L2' }, ...(field?.['data_type'] === DataType.SparseFloatVector ? [{ field_name: 'x', index_type: 'SPARSE_INVERTED_INDEX', metric_type: 'IP' }] : [])];
          expect((await client.createCollection({ collection_name, fields, index_params } as never)).error_code).toBe('Success');
          const result = await outcome(client[op]({ collection_name, data: rows as never }));
          expect(result).toBeInstanceOf(RefusedRequestError);
          expect(result).toMatchObject({ method: op === 'insert' ? 'Insert' : 'Upsert', collection: collection_name, field: refused });
          expect((result as Error).message).toMatch(refused === 'id' ? /primary key "id".*Give every row its "id"/ : /leave out the field "x" \(or give it null\), which is not nullable and has no default value.*Give "x" a value in every row/);
        }),
      );
    }

    it('upsert without the key, quick form (Int64 key) and VarChar key; what milvus-lite accepts still goes through', () =>
      withLease(async (client) => {
        await client.createCollection({ collection_name: 'q', dimension: 4 });
        expect(await outcome(client.upsert({ collection_name: 'q', data: [{ vector: v }] }))).toMatchObject({ method: 'Upsert', collection: 'q', field: 'id' });
        await client.createCollection({
          collection_name: 'vk',
          fields: [{ name: 'pk', data_type: DataType.VarChar, max_length: 16, is_primary_key: true }, { name: 'v', data_type: DataType.FloatVector, dim: 4 }],
          index_params: [{ field_name: 'v', index_type: 'AUTOINDEX', metric_type: 'L2' }],
        });
        expect(await outcome(client.upsert({ collection_name: 'vk', data: [{ v }] }))).toMatchObject({ method: 'Upsert', collection: 'vk', field: 'pk' });
        // Every field given, extra keys into the quick form's dynamic field: sent, and stored as given.
        expect((await client.upsert({ collection_name: 'q', data: [{ id: 1, vector: v, extra: 'x' }] })).status.error_code).toBe('Success');
        expect((await client.upsert({ collection_name: 'vk', data: [{ pk: 'a', v }] })).status.error_code).toBe('Success');
        expect((await client.query({ collection_name: 'q', filter: 'id > 0', output_fields: ['id'] })).data.map((row) => String(row['id']))).toEqual(['1']);
      }),
    );
  });

  it("a crash the guard does not know revokes the leases with the reason, and the call's error says what it sent", async () => {
    await using lease = await newPool().acquire(join(freshDir(), 'app.db'));
    const { DataType } = sdk3;
    // The caller's own transformer runs after the guard: it turns the insert into the crashing shape.
    const client = new sdk3.MilvusClient(
      milvusClientConfig(lease.resource.uri, {
        logLevel: 'error',
        channelOptions: {
          callInvocationTransformer: (properties: { methodDefinition: { path: string; requestSerialize: (value: unknown) => Buffer } }) => {
            if (!properties.methodDefinition.path.endsWith('/Insert')) return properties;
            const serialize = properties.methodDefinition.requestSerialize;
            const crashing = (value: { fields_data: { field_name: string; scalars?: unknown; valid_data?: boolean[] }[] }) => ({
              ...value,
              fields_data: value.fields_data.map((f) => (f.field_name === 's' ? { ...f, scalars: { string_data: { data: [] } }, valid_data: [false] } : f)),
            });
            return { ...properties, methodDefinition: { ...properties.methodDefinition, requestSerialize: (value: never) => serialize(crashing(value)) } };
          },
        } as never,
      }),
    );
    await client.createCollection({
      collection_name: 's',
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'v', data_type: DataType.FloatVector, dim: 4 },
        { name: 's', data_type: DataType.VarChar, max_length: 32, default_value: 'x' },
      ],
    });
    await client.createIndex({ collection_name: 's', field_name: 'v', metric_type: 'L2' });
    await client.loadCollection({ collection_name: 's' });
    const died = await outcome(client.insert({ collection_name: 's', data: [{ id: 1, v: [1, 2, 3, 4], s: 'y' }] }));
    expect(died).toBeInstanceOf(MilvusCallError);
    expect((died as Error).message).toMatch(/milvus-lite died \(killed by SIGSEGV\) while handling this Insert on collection s; the request was \{.*"field_name":"s".*"valid_data":\[false\]/);
    expect(lease.signal.aborted).toBe(true);
    expect((lease.signal.reason as Error).cause).toBeInstanceOf(ServerExitedError);
    expect(((lease.signal.reason as Error).cause as Error).message).toMatch(/exited unexpectedly \(killed by SIGSEGV\)/);
    await client.closeConnection();
  });
});

// milvus-lite 3.2.2 (the python engine) takes nullable fields, which 2.5 refuses at create: the
// guard's rules must not refuse a row that leaves one out or nulls it. The guard is off for a python
// engine this process runs, so the rules run here beside the SDK, on its real requests.
describe.skipIf(python === undefined)('the guard rules against milvus-lite 3.2.2 (python engine)', () => {
  const freshDir = freshDirs('lh-guard-py-');
  const newPool = poolsClosedAfterEach(python);

  it('refuse no row that leaves out or nulls a nullable field (3.2.2 accepts them), and still refuse a field with no default', async () => {
    await using lease = await newPool().acquire(join(freshDir(), 'app.db'));
    const shapes = new RequestShapes();
    const refused: string[] = [];
    const client = new sdk3.MilvusClient(
      milvusClientConfig(lease.resource.uri, {
        logLevel: 'error',
        channelOptions: {
          callInvocationTransformer: (properties: { methodDefinition: { path: string }; argument?: unknown; callback?: (error: unknown, value?: unknown) => void }) => {
            const method = properties.methodDefinition.path.slice(properties.methodDefinition.path.lastIndexOf('/') + 1);
            try {
              shapes.check(method, properties.argument);
            } catch (error) {
              refused.push(`${method} ${(error as RefusedRequestError).field}`);
            }
            const callback = properties.callback;
            if (method !== 'DescribeCollection' || callback === undefined) return properties;
            return { ...properties, callback: (error: unknown, value?: unknown) => (shapes.remember(properties.argument, value), callback(error, value)) };
          },
        } as never,
      }),
    );
    const { DataType } = sdk3;
    const v = [1, 2, 3, 4];
    await client.createCollection({
      collection_name: 'n',
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'v', data_type: DataType.FloatVector, dim: 4 },
        { name: 'i', data_type: DataType.Int64, nullable: true },
        { name: 's', data_type: DataType.VarChar, max_length: 8, nullable: true },
        { name: 'j', data_type: DataType.JSON, nullable: true },
      ],
      index_params: [{ field_name: 'v', index_type: 'AUTOINDEX', metric_type: 'L2' }],
    });
    const rows = [{ id: 1, v }, { id: 2, v, i: null, s: null, j: null }, { id: 3, v, i: 3, s: 'c', j: { k: 3 } }];
    expect((await client.insert({ collection_name: 'n', data: rows })).status.error_code).toBe('Success');
    expect((await client.upsert({ collection_name: 'n', data: [{ id: 1, v, s: 'a' }] })).status.error_code).toBe('Success');
    expect(refused).toEqual([]);
    const stored = await client.query({ collection_name: 'n', filter: 'id > 0', output_fields: ['id', 'i', 's'] });
    expect(stored.data.map((row) => [String(row['id']), row['i'], row['s']]).sort()).toEqual([['1', null, 'a'], ['2', null, null], ['3', '3', 'c']]);
    // A field that is not nullable and has no default: 3.2.2 fails the insert; the rules refuse it too.
    await client.createCollection({ collection_name: 'q', dimension: 4 });
    await outcome(client.upsert({ collection_name: 'q', data: [{ vector: v }] }));
    expect(refused).toEqual(['Upsert id']);
    await client.closeConnection();
  });
});

describe('whom the layer changes', () => {
  it('keepalive and telemetry change for milvus-lite URIs only: unix sockets, servers this process runs, or milvusLite: true', () => {
    const keepalive = (config: ReturnType<typeof milvusClientConfig>): unknown => config.channelOptions?.['grpc.keepalive_time_ms'];
    expect(keepalive(milvusClientConfig('unix:/tmp/x.sock'))).toBe(2 ** 31 - 1);
    // A Milvus on loopback (the standalone of the tests) is a real Milvus: the SDK's own settings.
    expect(keepalive(milvusClientConfig('http://127.0.0.1:19530'))).toBeUndefined();
    expect(milvusClientConfig('http://127.0.0.1:19530')).not.toHaveProperty('telemetry');
    expect(keepalive(milvusClientConfig('http://127.0.0.1:19530', { milvusLite: true }))).toBe(2 ** 31 - 1);
    expect(keepalive(milvusClientConfig('unix:/tmp/x.sock', { milvusLite: false }))).toBeUndefined();
    expect(milvusClientConfig('unix:/tmp/x.sock', { milvusLite: true })).not.toHaveProperty('milvusLite');
    expect(() => milvusClientConfig('unix:/tmp/x.sock', { milvusLite: 'yes' as never })).toThrow(new TypeError('milvusLite must be a boolean, got yes'));
  });
});
