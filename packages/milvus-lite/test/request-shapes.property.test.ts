// Issue 25, item 2: over the field types and row shapes milvus-lite accepts, no write that goes
// through leasehold's client kills the server. Bounded here (40 runs, 60 s); `pnpm soak` runs it
// long (LEASEHOLD_SHAPE_RUNS, LEASEHOLD_SHAPE_SECONDS). Each case is a fresh collection on one real
// native server. Unguarded (milvusLite: false), 120 runs crashed it 26 times, of two kinds: a row
// leaving out a field with a default value (Bool, Int8, Int16, Int32, Int64, VarChar; Float and
// Double fail in the SDK first), and an upsert into an auto-id collection without the key. A
// newcomer's test found more, now generated too: rows leaving out or nulling a field with no default
// (any scalar type; SIGSEGV, or, in only some rows, uninitialised memory stored), and an upsert
// without the key into a collection that is not auto-id.
import { join } from 'node:path';
import fc from 'fast-check';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { describe, expect, it } from 'vitest';
import { milvusClientConfig, type Lease, type MilvusLiteServer } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { kindOf, runShape, shapeCase } from './support/request-shapes.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

const native = installationOf('native');

describe.skipIf(native === undefined)('request shapes (fast-check, real native server)', () => {
  const freshDir = freshDirs('lh-shapes-');
  const newPool = poolsClosedAfterEach(native);

  it('no generated insert or upsert crashes milvus-lite through the guarded client', async () => {
    const pool = newPool();
    const dbPath = join(freshDir(), 'app.db');
    let lease: Lease<MilvusLiteServer> = await pool.acquire(dbPath);
    let client = new MilvusClient(milvusClientConfig(lease.resource.uri, { logLevel: 'error' }));
    let n = 0;
    const crashes: string[] = [];
    await fc.assert(
      fc.asyncProperty(shapeCase, async (shape) => {
        // A refusal or a failed status is fine (the raw SDK may reject with a status object); a dead server is not.
        const outcome = (await runShape(client, `c${++n}`, shape)) as { value?: unknown; error?: unknown };
        if (lease.signal.aborted || (outcome.error as { code?: number } | undefined)?.code === 14) {
          crashes.push(kindOf(shape));
          await client.closeConnection();
          await lease.release();
          lease = await pool.acquire(dbPath);
          client = new MilvusClient(milvusClientConfig(lease.resource.uri, { logLevel: 'error' }));
        }
        expect(crashes).toEqual([]);
      }),
      { numRuns: Number(process.env['LEASEHOLD_SHAPE_RUNS'] ?? 40), interruptAfterTimeLimit: 1000 * Number(process.env['LEASEHOLD_SHAPE_SECONDS'] ?? 60), endOnFailure: true },
    );
    await client.closeConnection();
    await lease.release();
  }, 1000 * (Number(process.env['LEASEHOLD_SHAPE_SECONDS'] ?? 60) + 60));
});
