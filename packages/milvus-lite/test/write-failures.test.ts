// Issue 22: never a write acknowledged and then lost. A database file this user cannot write, a file
// system that turns read-only or fills up under a running server (real servers, real tmpfs mounts:
// the tests run as root), and the SDK's retries of non-idempotent calls (a stand-in gRPC server).
import { chmodSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sdk3 from '@zilliz/milvus2-sdk-node';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskFullError, InvalidDatabaseError, MilvusCallError, MilvusStatusError, milvusClientConfig, openMilvus } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

type Sdk = typeof sdk3;
const native = installationOf('native');
const probe = fileURLToPath(new URL('./fixtures/write-probe.mjs', import.meta.url));
const readonlyAfterCheck = fileURLToPath(new URL('./fixtures/readonly-after-check.mjs', import.meta.url));
const kDim = 128;
const rowsFrom = (from: number, count: number, dim = 4): { id: number; vector: number[] }[] =>
  Array.from({ length: count }, (_, i) => ({ id: from + i, vector: Array.from({ length: dim }, (_, d) => Math.sin((from + i) * 7 + d)) }));
const outcome = (promise: Promise<unknown>): Promise<unknown> => promise.then((value) => ({ resolved: value }), (error: unknown) => error);

/** What a new process sees of `dbPath` (argv: count | open), as a user file modes apply to when `asUser`. */
async function probeFrom(dbPath: string, what: 'count' | 'open', asUser = false): Promise<{ count?: number; error?: { name: string; message: string } }> {
  // Root without CAP_DAC_OVERRIDE: file modes apply to it as to any user.
  const command = asUser ? ['setpriv', '--inh-caps=-dac_override', '--bounding-set=-dac_override', process.execPath] : [process.execPath];
  const { stdout } = await execa(command[0]!, [...command.slice(1), probe, dbPath, what]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { count?: number; error?: { name: string; message: string } };
}

// tmpfs mounts made by a test, unmounted after it.
const mounts: string[] = [];
afterEach(async () => {
  for (const dir of mounts.splice(0)) await execa('umount', ['-l', dir], { reject: false });
});
async function tmpfs(dir: string, size: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

describe.skipIf(native === undefined)('writes on the native engine', () => {
  const freshDir = freshDirs('lh-writes-');
  const newPool = poolsClosedAfterEach(native);

  async function withRows(dbPath: string, count: number): Promise<void> {
    await using client = await openMilvus(dbPath, { pool: newPool(), client: { logLevel: 'error' } });
    await client.createCollection({ collection_name: 'c', dimension: 4 });
    await client.insert({ collection_name: 'c', data: rowsFrom(0, count) });
  }

  it('a database file this user cannot write is refused at open, naming the file, what is wrong and what to do', async () => {
    const dbPath = join(freshDir(), 'app.db');
    await withRows(dbPath, 100);
    chmodSync(dbPath, 0o444);
    // A user file modes apply to: refused (before, the open worked and an insert of 5 was acknowledged, then lost).
    const refused = await probeFrom(dbPath, 'open', true);
    expect(refused.error?.message).toContain(`cannot open ${dbPath}: this user cannot write the file (EACCES)`);
    expect(refused.error?.message).toContain('chmod u+w');
    // Root too, by the mode: a file without write bits was made read-only on purpose.
    const mine = await outcome(openMilvus(dbPath, { pool: newPool() }));
    expect((mine as Error).cause).toBeInstanceOf(InvalidDatabaseError);
    expect((mine as Error).message).toContain('the file is read-only (its mode has no write bit)');
    chmodSync(dbPath, 0o644);
    expect(await probeFrom(dbPath, 'count', true)).toEqual({ count: 100 });
  });

  it("a file the server cannot write (made read-only after the open check): the server's log reaches the caller, and no write is acknowledged", async () => {
    const dbPath = join(freshDir(), 'app.db');
    await withRows(dbPath, 100);
    // As a user file modes apply to, the file made read-only between leasehold's check and the spawn.
    const { stdout } = await execa('setpriv', ['--inh-caps=-dac_override', '--bounding-set=-dac_override', process.execPath, readonlyAfterCheck, dbPath]);
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, { value?: { status: { reason: string; error_code: string } }; error?: { name: string; message: string; serverLog: string[] } }> & { revoked: boolean };
    expect(seen['delete']!.value?.status.error_code).toBe('UnexpectedError');
    expect(seen['delete']!.value?.status.reason).toMatch(/^internal error \(server log: \[SERVER\]\[Delete\].*Delete data failed, errs: attempt to write a readonly database\)$/);
    // A delete that failed with a status left the server's memory as its file: nothing to restart.
    expect((seen['countAfterDelete'] as unknown as { value?: { data: number } }).value?.data).toBe(100);
    // Before: code 0, insert_cnt 1, and the row gone at the next start.
    expect(seen['insert']!.error?.name).toBe('MilvusCallError');
    expect(seen['insert']!.error?.message).toContain(`Insert on ${dbPath}: milvus-lite answered success, but its log says the write failed`);
    expect(seen['insert']!.error?.serverLog.join('\n')).toMatch(/\[SERVER\]\[Insert\].*attempt to write a readonly database/);
    expect(seen.revoked).toBe(true);
    chmodSync(dbPath, 0o644);
    expect(await probeFrom(dbPath, 'count')).toEqual({ count: 100 });
  }, 60_000);

  it('sibling: a file made immutable under a running server: writes fail (UNKNOWN, not retried) as Errors, the server restarts, nothing is lost', async () => {
    const dbPath = join(freshDir(), 'app.db');
    const pool = newPool();
    const client = await openMilvus(dbPath, { pool, client: { logLevel: 'error' } });
    await client.createCollection({ collection_name: 'c', dimension: 4 });
    await client.insert({ collection_name: 'c', data: rowsFrom(0, 100) });
    await execa('chattr', ['+i', dbPath]);
    try {
      const inserted = await outcome(client.insert({ collection_name: 'c', data: rowsFrom(1000, 5) }));
      expect(inserted).toBeInstanceOf(MilvusCallError);
      expect((inserted as Error).message).toMatch(/failed inside milvus-lite \(UNKNOWN: .*\); not retried/);
      expect(client.lease.signal.aborted).toBe(true);
      // The handle says why it is done, and what to do.
      expect(() => client.count({ collection_name: 'c' })).toThrow(/is gone \(.*Insert on .*failed inside milvus-lite.*\); call openMilvus\(/s);
    } finally {
      await execa('chattr', ['-i', dbPath]);
    }
    await client[Symbol.asyncDispose]();
    await using again = await openMilvus(dbPath, { pool, client: { logLevel: 'error' } });
    expect(Number((await again.count({ collection_name: 'c' })).data)).toBe(100);
    // The SDK throws the status object of a failed describe (an insert into a missing collection): now an Error that carries it.
    const missing = await outcome(again.insert({ collection_name: 'nope', data: rowsFrom(0, 1) }));
    expect(missing).toBeInstanceOf(MilvusStatusError);
    expect(missing).toMatchObject({ status: { error_code: 'CollectionNotExists', code: 100 } });
    expect((missing as Error).message).toBe('insert failed: collection not found (error_code CollectionNotExists, code 100)');
    await again[Symbol.asyncDispose]();
    expect(await probeFrom(dbPath, 'count')).toEqual({ count: 100 });
  }, 60_000);

  it('a full disk: an error that says so and names the database; then this process and a new one count the same rows', async () => {
    const dir = await tmpfs(join(freshDir(), 'mnt'), '30m');
    const dbPath = join(dir, 'app.db');
    // Room to free once the disk has filled, so that the server can start again.
    writeFileSync(join(dir, 'ballast'), Buffer.alloc(2 * 1024 * 1024));
    const pool = newPool();
    const client = await openMilvus(dbPath, { pool, client: { logLevel: 'error' } });
    await client.createCollection({ collection_name: 'c', dimension: kDim });
    let acknowledged = 0;
    let failure: unknown;
    for (let batch = 0; batch < 100 && failure === undefined; batch++) {
      const result = await outcome(client.insert({ collection_name: 'c', data: rowsFrom(batch * 1000, 1000, kDim) }));
      if (result instanceof Error) failure = result;
      else acknowledged += Number((result as { resolved: { insert_cnt: string } }).resolved.insert_cnt);
    }
    expect(failure).toBeInstanceOf(DiskFullError);
    expect((failure as Error).message).toContain(`Insert on ${dbPath}: the disk is full`);
    expect(acknowledged).toBeGreaterThan(10_000);
    expect(client.lease.signal.aborted).toBe(true);
    await client[Symbol.asyncDispose]();
    rmSync(join(dir, 'ballast'));

    await using again = await openMilvus(dbPath, { pool, client: { logLevel: 'error' } });
    expect(Number((await again.count({ collection_name: 'c' })).data)).toBe(acknowledged);
    await again[Symbol.asyncDispose]();
    expect(await probeFrom(dbPath, 'count')).toEqual({ count: acknowledged });
  }, 180_000);
});

// A stand-in Milvus that answers UNKNOWN to every call but DescribeCollection: it tests the client's
// retry policy, not a server.
/** What the test uses of grpc-js (the SDK's own copy; not a dependency of this package). */
interface GrpcJs {
  Server: new () => { addService(definition: unknown, handlers: unknown): void; bindAsync(address: string, credentials: unknown, callback: (error: Error | null, port: number) => void): void; forceShutdown(): void };
  ServerCredentials: { createInsecure(): unknown };
  status: { UNKNOWN: number };
}
const grpcOf = (sdkName: string): GrpcJs => createRequire(createRequire(import.meta.url).resolve(sdkName))('@grpc/grpc-js') as GrpcJs;
const kService = 'milvus.proto.milvus.MilvusService';
const kMethods = ['DescribeCollection', 'HasCollection', 'ShowCollections', 'Query', 'Insert', 'Upsert', 'Delete', 'CreateCollection', 'DropCollection', 'CreateIndex', 'DropIndex', 'CreatePartition'];

async function standIn(grpc: GrpcJs, describeAnswer: Buffer): Promise<{ uri: string; calls: string[]; close: () => void }> {
  const calls: string[] = [];
  const server = new grpc.Server();
  const same = (value: Buffer): Buffer => value;
  const definition = Object.fromEntries(kMethods.map((name) => [name, { path: `/${kService}/${name}`, requestStream: false, responseStream: false, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same }]));
  const handlers = Object.fromEntries(
    kMethods.map((name) => [
      name,
      (_call: unknown, callback: (error: { code: number; details: string } | null, value?: Buffer) => void) => {
        calls.push(name);
        if (name === 'DescribeCollection') callback(null, describeAnswer);
        else callback({ code: grpc.status.UNKNOWN, details: 'stand-in: Unexpected error in RPC handling' });
      },
    ]),
  );
  server.addService(definition as never, handlers as never);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  return { uri: `127.0.0.1:${port}`, calls, close: () => server.forceShutdown() };
}

describe('no retried writes: the SDK retries every call on UNKNOWN; leasehold clients retry reads only', () => {
  // SDK 2.5 (grpc-js 1.7) gets "Stream refused" from a grpc-js 1.14 stand-in; its retry interceptor is the same code.
  const sdks: [string, string, Sdk][] = [['SDK 3', '@zilliz/milvus2-sdk-node', sdk3]];
  for (const [label, sdkName, sdk] of sdks) {
    it(`${label}: insert, upsert, delete, create and drop reach the server once; a read is retried`, async () => {
      const grpc = grpcOf(sdkName);
      // The describe answer the SDK needs before an insert, encoded with the SDK's own protos.
      const scratch = new sdk.MilvusClient({ address: '127.0.0.1:1', __SKIP_CONNECT__: true } as never) as unknown as { milvusProto: { lookupType(name: string): { encode(value: unknown): { finish(): Uint8Array } } } };
      const describeAnswer = Buffer.from(
        scratch.milvusProto
          .lookupType('milvus.proto.milvus.DescribeCollectionResponse')
          .encode({ status: { code: 0 }, collection_name: 'c', schema: { name: 'c', fields: [{ fieldID: 100, name: 'id', is_primary_key: true, data_type: 5 }, { fieldID: 101, name: 'vector', data_type: 101, type_params: [{ key: 'dim', value: '4' }] }] } })
          .finish(),
      );
      const server = await standIn(grpc, describeAnswer);
      // The raw SDK's hung retries stay open on a server of their own.
      const rawServer = await standIn(grpc, describeAnswer);
      try {
        // Every attempt, retries included, is a call made on the channel: the caller's transformer counts them.
        const attempts: string[] = [];
        const counting = {
          callInvocationTransformer: (properties: { channel: { createCall: (path: string, ...rest: unknown[]) => unknown } }) => ({
            ...properties,
            channel: new Proxy(properties.channel, {
              get: (target, key) => {
                if (key === 'createCall') return (path: string, ...rest: unknown[]) => (attempts.push(path.slice(path.lastIndexOf('/') + 1)), target.createCall(path, ...rest));
                const value: unknown = Reflect.get(target, key, target);
                return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
              },
            }),
          }),
        };
        // timeout: the SDK's retry of a unary call never half-closes it, so a grpc-js server waits for its deadline.
        const config = { logLevel: 'error', retryDelay: 1, timeout: 1000, channelOptions: counting } as never;
        const raw = new sdk.MilvusClient({ address: rawServer.uri, ...(config as object), __SKIP_CONNECT__: true } as never);
        await outcome(raw.dropCollection({ collection_name: 'c' }));
        // The fault: the SDK alone sends a drop again after UNKNOWN.
        expect(attempts.filter((name) => name === 'DropCollection').length).toBeGreaterThan(1);

        const client = new sdk.MilvusClient({ ...milvusClientConfig(server.uri, config), __SKIP_CONNECT__: true } as never);
        const writes: [string, () => Promise<unknown>][] = [
          ['Insert', () => client.insert({ collection_name: 'c', data: [{ id: 1, vector: [1, 2, 3, 4] }] })],
          ['Upsert', () => client.upsert({ collection_name: 'c', data: [{ id: 1, vector: [1, 2, 3, 4] }] })],
          ['Delete', () => client.deleteEntities({ collection_name: 'c', expr: 'id in [1]' })],
          ['CreateCollection', () => client.createCollection({ collection_name: 'd', fields: [{ name: 'id', data_type: sdk.DataType.Int64, is_primary_key: true }, { name: 'v', data_type: sdk.DataType.FloatVector, dim: 4 }] })],
          ['DropCollection', () => client.dropCollection({ collection_name: 'c' })],
          ['CreateIndex', () => client.createIndex({ collection_name: 'c', field_name: 'vector', index_type: 'FLAT', metric_type: 'L2' })],
        ];
        for (const [rpc, write] of writes) {
          server.calls.length = 0;
          attempts.length = 0;
          const failed = await outcome(write());
          expect(failed, rpc).toBeInstanceOf(MilvusCallError);
          expect(failed, rpc).toMatchObject({ method: rpc, code: grpc.status.UNKNOWN, details: 'stand-in: Unexpected error in RPC handling' });
          expect((failed as Error).message).toContain(`not retried: ${rpc} is not idempotent`);
          expect(server.calls.filter((name) => name === rpc), rpc).toHaveLength(1);
          expect(attempts.filter((name) => name === rpc), rpc).toHaveLength(1);
        }
        attempts.length = 0;
        await outcome(client.showCollections());
        expect(attempts.filter((name) => name === 'ShowCollections').length).toBeGreaterThan(1);
        await client.closeConnection();
        await raw.closeConnection();
      } finally {
        server.close();
        rawServer.close();
      }
    }, 30_000);
  }
});
