import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as sdk3 from '@zilliz/milvus2-sdk-node';
import * as sdk25 from 'milvus-sdk-25';
import { describe, expect, it } from 'vitest';
import { milvusClientConfig, type Installation } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

type Sdk = typeof sdk3;
const versionOf = (name: string): string => (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;
const sdks: [string, Sdk][] = [
  [`SDK ${versionOf('@zilliz/milvus2-sdk-node')}`, sdk3],
  [`SDK ${versionOf('milvus-sdk-25')}`, sdk25 as unknown as Sdk],
];
const kDim = 4;
const vectorOf = (i: number): number[] => Array.from({ length: kDim }, (_, d) => Math.sin(i * 7 + d));

describe('milvusClientConfig', () => {
  it('rejects an empty or non-string URI with a TypeError naming it', () => {
    expect(() => milvusClientConfig('')).toThrow(new TypeError('uri must be a non-empty string, got ""'));
    expect(() => milvusClientConfig(undefined as never)).toThrow(/got undefined/);
    expect(() => milvusClientConfig(42 as never)).toThrow(/got 42/);
  });

  it("keeps the caller's channelOptions and config, and turns keepalive and telemetry off only for local servers", () => {
    const local = milvusClientConfig('unix:/tmp/x.sock', { logLevel: 'error', channelOptions: { 'grpc.max_send_message_length': 7 } });
    expect(local).toMatchObject({ address: 'unix:/tmp/x.sock', logLevel: 'error', telemetry: { enabled: false } });
    expect(local.channelOptions).toMatchObject({ 'grpc.max_send_message_length': 7, 'grpc.keepalive_time_ms': 2 ** 31 - 1, 'grpc.keepalive_permit_without_calls': 0 });
    const remote = milvusClientConfig('milvus.example.com:19530');
    expect(remote.channelOptions?.['grpc.keepalive_time_ms']).toBeUndefined();
    expect(remote).not.toHaveProperty('telemetry');
    expect(milvusClientConfig('http://127.0.0.1:19530', { channelOptions: { 'grpc.keepalive_time_ms': 30_000 } }).channelOptions?.['grpc.keepalive_time_ms']).toBe(30_000);
  });
});

/** The SDK's quick forms, as its README teaches them, through milvusClientConfig, on one engine and one SDK. */
function compatSuite(engine: 'native' | 'python', installation: Installation | undefined): void {
  describe.skipIf(installation === undefined)(`${engine} engine`, () => {
    const freshDir = freshDirs(`lh-compat-${engine}-`);
    const newPool = poolsClosedAfterEach(installation);
    const dbName = engine === 'native' ? 'app.db' : 'app';

    it('the raw SDK misreads this server (the faults milvusClientConfig exists for)', async () => {
      await using lease = await newPool().acquire(join(freshDir(), dbName));
      const client = new sdk3.MilvusClient({ address: lease.resource.uri, logLevel: 'error' });
      if (engine === 'native') expect((await client.hasCollection({ collection_name: 'nope' })).value).toBe(true);
      else {
        // The quick form works on python since the wrapper defaults index_type to AUTOINDEX; the
        // legacy number stays wrong: IndexNotExist (code 700) arrives as IllegalRowRecord (11).
        const { DataType } = sdk3;
        await client.createCollection({ collection_name: 'plain', fields: [{ name: 'id', data_type: DataType.Int64, is_primary_key: true }, { name: 'v', data_type: DataType.FloatVector, dim: kDim }] });
        const { status } = await client.describeIndex({ collection_name: 'plain', field_name: 'v' });
        expect(status).toMatchObject({ code: 700, error_code: 'IllegalRowRecord' });
        const fixed = new sdk3.MilvusClient(milvusClientConfig(lease.resource.uri, { logLevel: 'error' }));
        expect((await fixed.describeIndex({ collection_name: 'plain', field_name: 'v' })).status).toMatchObject({ code: 700, error_code: 'IndexNotExist' });
        await fixed.closeConnection();
      }
      await client.closeConnection();
    });

    for (const [name, sdk] of sdks) {
      describe(name, () => {
        it("passes channelOptions through: the caller's transformer runs on every call, after ours", async () => {
          await using lease = await newPool().acquire(join(freshDir(), dbName));
          const paths: string[] = [];
          const client = new sdk.MilvusClient(
            milvusClientConfig(lease.resource.uri, {
              logLevel: 'error',
              channelOptions: {
                callInvocationTransformer: (properties: { methodDefinition: { path: string } }) => {
                  paths.push(properties.methodDefinition.path);
                  return properties;
                },
              } as never,
            }),
          );
          await client.connectPromise;
          paths.length = 0;
          // Concurrent calls spread over the SDK's pool of gRPC clients: every one must be fixed.
          const answers = await Promise.all(Array.from({ length: 12 }, () => client.hasCollection({ collection_name: 'nope' })));
          expect(answers.map((a) => a.value)).toEqual(Array(12).fill(false));
          expect(paths.length).toBeGreaterThanOrEqual(12);
          await client.closeConnection();
        });

        it('quick forms: create, insert (with a dynamic field), search, query, get, delete, describe, drop; twice on one database', async () => {
          await using lease = await newPool().acquire(join(freshDir(), dbName));
          const client = new sdk.MilvusClient(milvusClientConfig(lease.resource.uri, { logLevel: 'error' }));
          for (const round of [1, 2]) {
            expect((await client.hasCollection({ collection_name: 'quick' })).value, `round ${round}`).toBe(false);
            expect((await client.createCollection({ collection_name: 'quick', dimension: kDim })).error_code).toBe('Success');
            expect((await client.hasCollection({ collection_name: 'quick' })).value).toBe(true);
            const described = await client.describeCollection({ collection_name: 'quick' });
            expect(described.status.error_code).toBe('Success');
            expect(described.schema.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['id', 'vector']));
            const rows = Array.from({ length: 10 }, (_, id) => ({ id, vector: vectorOf(id) }));
            expect((await client.insert({ collection_name: 'quick', data: rows })).status.error_code).toBe('Success');
            const dynamic = await client.insert({ collection_name: 'quick', data: [{ id: 10, vector: vectorOf(10), color: 'red' }] });
            expect(dynamic.status.error_code).toBe('Success');
            const found = await client.search({ collection_name: 'quick', data: vectorOf(3), limit: 2 });
            expect(found.status.error_code).toBe('Success');
            expect(Number(found.results[0]!['id'])).toBe(3);
            const queried = await client.query({ collection_name: 'quick', filter: 'id >= 8', output_fields: ['id', 'color'] });
            expect(queried.data.map((r) => Number(r['id'])).sort((a, b) => a - b)).toEqual([8, 9, 10]);
            // milvus-lite leaves dynamic fields under $meta where a real Milvus flattens them.
            const ten = queried.data.find((r) => Number(r['id']) === 10);
            expect(ten?.['color'] ?? (ten?.['$meta'] as { color?: string } | undefined)?.color).toBe('red');
            const got = await client.get({ collection_name: 'quick', ids: [1, 2], output_fields: ['id'] });
            expect(got.data.map((r) => Number(r['id'])).sort()).toEqual([1, 2]);
            expect((await client.delete({ collection_name: 'quick', ids: [1, 2] })).status.error_code).toBe('Success');
            const left = await client.query({ collection_name: 'quick', filter: 'id < 3', output_fields: ['id'] });
            expect(left.data.map((r) => Number(r['id']))).toEqual([0]);
            expect((await client.dropCollection({ collection_name: 'quick' })).error_code).toBe('Success');
          }
          await client.closeConnection();
        });

        it('error paths answer with statuses, never TypeErrors', async () => {
          await using lease = await newPool().acquire(join(freshDir(), dbName));
          const client = new sdk.MilvusClient(milvusClientConfig(lease.resource.uri, { logLevel: 'error' }));
          const outcome = async (call: () => Promise<unknown>): Promise<unknown> => call().catch((error: unknown) => error);
          expect((await client.describeCollection({ collection_name: 'nope' })).status.error_code).toBe('CollectionNotExists');
          expect((await client.describeIndex({ collection_name: 'nope' })).status.error_code).toBe('CollectionNotExists');
          for (const call of [
            () => client.insert({ collection_name: 'nope', data: [{ id: 1, vector: vectorOf(1) }] }),
            () => client.query({ collection_name: 'nope', filter: 'id > 0' }),
          ]) {
            const result = await outcome(call);
            expect(result).not.toBeInstanceOf(TypeError);
            if (!(result instanceof Error)) expect((result as { status: { error_code: string } }).status.error_code).not.toBe('Success');
          }
          await client.createCollection({ collection_name: 'c', dimension: kDim });
          const { DataType } = sdk;
          const unindexed = await client.createCollection({
            collection_name: 'unindexed',
            fields: [
              { name: 'id', data_type: DataType.Int64, is_primary_key: true },
              { name: 'vector', data_type: DataType.FloatVector, dim: kDim },
            ],
          });
          expect(unindexed.error_code).toBe('Success');
          // milvus-lite 2.5 indexes every vector field itself; 3.x answers 700 with the legacy 11.
          if (engine === 'python') expect((await client.describeIndex({ collection_name: 'unindexed', field_name: 'vector' })).status.error_code).toBe('IndexNotExist');
          const badRow = await outcome(() => client.insert({ collection_name: 'c', data: [{ id: 1, vector: [1, 2] }] }));
          expect(badRow).not.toBeInstanceOf(TypeError);
          const badFilter = await outcome(() => client.query({ collection_name: 'c', filter: 'id >>> 3' }));
          expect(badFilter).not.toBeInstanceOf(TypeError);
          await client.closeConnection();
        });
      });
    }
  });
}

compatSuite('native', installationOf('native'));
compatSuite('python', installationOf('python'));
