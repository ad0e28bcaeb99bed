import { expect, inject, test } from 'vitest';
import { DataType, MilvusClient } from '@zilliz/milvus2-sdk-node';
import './global-setup.js';

test('worker a writes its own collection into the shared database', async () => {
  const client = new MilvusClient({ address: inject('milvusUri') });
  const created = await client.createCollection({
    collection_name: 'from_a',
    fields: [
      { name: 'id', data_type: DataType.Int64, is_primary_key: true },
      { name: 'v', data_type: DataType.FloatVector, dim: 2 },
    ],
  });
  expect(created.error_code).toBe('Success');
  expect((await client.hasCollection({ collection_name: 'from_a' })).value).toBe(true);
  console.log(`pid ${process.pid} uri ${inject('milvusUri')}`);
  await client.closeConnection();
});
