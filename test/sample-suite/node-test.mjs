// A sample node:test suite using scratchDatabase from @leasehold/milvus-lite/testing.
// Run: node --test test/sample-suite/node-test.mjs (the vitest test next to it runs it).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { MilvusClient, DataType } from '@zilliz/milvus2-sdk-node';
import { scratchDatabase, drainScratchDatabases } from '@leasehold/milvus-lite/testing';

const installation = process.env.MILVUS_LITE_INSTALLATION ? JSON.parse(process.env.MILVUS_LITE_INSTALLATION) : undefined;
const options = installation ? { installation } : {};
after(() => drainScratchDatabases());
let first;

test('a scratch database is running and empty', async (t) => {
  const db = await scratchDatabase(t, options);
  first = db.dbPath;
  const client = new MilvusClient({ address: db.uri });
  assert.deepEqual((await client.listCollections()).data, []);
  const created = await client.createCollection({
    collection_name: 'c',
    fields: [
      { name: 'id', data_type: DataType.Int64, is_primary_key: true },
      { name: 'v', data_type: DataType.FloatVector, dim: 2 },
    ],
  });
  assert.equal(created.error_code, 'Success');
  await client.closeConnection();
});

test('the next test gets a new one, and the last one was destroyed', async (t) => {
  const db = await scratchDatabase(t, options);
  assert.notEqual(db.dbPath, first);
  assert.equal(existsSync(dirname(first)), false);
  const client = new MilvusClient({ address: db.uri });
  assert.deepEqual((await client.listCollections()).data, []);
  await client.closeConnection();
});
