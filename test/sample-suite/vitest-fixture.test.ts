// A sample suite using the vitest fixture of @leasehold/milvus-lite/testing as a user would.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { test as base, describe, expect } from 'vitest';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { milvusClientConfig } from '@leasehold/milvus-lite';
import { milvusFixture } from '@leasehold/milvus-lite/testing';
import { installationOf } from '../../packages/milvus-lite/test/support/installations.js';
import { createDocs, insertRows, countRows } from '../../packages/milvus-lite/test/support/milvus-data.js';

const installation = installationOf('native');
const test = milvusFixture(base, installation ? { installation, min: 1, max: 2 } : {});
const seen: string[] = [];

describe.skipIf(installation === undefined)('the milvus fixture', () => {
  test('gives a running, empty database', async ({ milvus }) => {
    seen.push(milvus.dbPath);
    const client = new MilvusClient({ address: milvus.uri });
    expect((await client.listCollections()).data).toEqual([]);
    await createDocs(client, 'docs');
    await insertRows(client, 'docs', 0, 5);
    expect(await countRows(client, 'docs')).toBe(5);
    await client.closeConnection();
  });

  test('the next test gets another empty database, and the last one is gone', async ({ milvus }) => {
    seen.push(milvus.dbPath);
    expect(seen[1]).not.toBe(seen[0]);
    expect(existsSync(dirname(seen[0]!))).toBe(false);
    const client = new MilvusClient({ address: milvus.uri });
    expect((await client.listCollections()).data).toEqual([]);
    await client.closeConnection();
  });

  // The README's form: milvusClientConfig, then the SDK's quick createCollection and plain rows
  // (with a bare { address } the quick form fails on milvus-lite 2.5.1 inside the SDK).
  test("the README's example: milvusClientConfig, a quick createCollection, an insert, a search", async ({ milvus }) => {
    const client = new MilvusClient(milvusClientConfig(milvus.uri));
    await client.createCollection({ collection_name: 'docs', dimension: 4 });
    const inserted = await client.insert({ collection_name: 'docs', data: [{ id: 1, vector: [0.1, 0.2, 0.3, 0.4] }] });
    expect(Number(inserted.insert_cnt)).toBe(1);
    const { results } = await client.search({ collection_name: 'docs', data: [0.1, 0.2, 0.3, 0.4], limit: 1 });
    expect(results.map((hit) => hit.id)).toEqual(['1']);
    await client.closeConnection();
  });
});
