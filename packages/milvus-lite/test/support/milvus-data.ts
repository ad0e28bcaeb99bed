import { DataType, MilvusClient } from '@zilliz/milvus2-sdk-node';

export const kDim = 8;

/** A deterministic vector for row `i`, so searches have a known nearest neighbour. */
export function vectorOf(i: number): number[] {
  return Array.from({ length: kDim }, (_, d) => Math.sin(i * 7 + d));
}

export async function connect(uri: string): Promise<MilvusClient> {
  const client = new MilvusClient({ address: uri, logLevel: 'error' });
  await client.connectPromise;
  return client;
}

/** Creates `name` with an int64 primary key `id`, a `tag` and a float vector, indexed and loaded. */
export async function createDocs(client: MilvusClient, name: string): Promise<void> {
  const created = await client.createCollection({
    collection_name: name,
    fields: [
      { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: false },
      { name: 'tag', data_type: DataType.VarChar, max_length: 64 },
      { name: 'vector', data_type: DataType.FloatVector, dim: kDim },
    ],
  });
  if (created.error_code !== 'Success') throw new Error(`createCollection ${name}: ${created.reason}`);
  const indexed = await client.createIndex({ collection_name: name, field_name: 'vector', index_type: 'FLAT', metric_type: 'L2' });
  if (indexed.error_code !== 'Success') throw new Error(`createIndex ${name}: ${indexed.reason}`);
  await client.loadCollection({ collection_name: name });
}

export async function insertRows(client: MilvusClient, name: string, from: number, count: number): Promise<void> {
  const data = Array.from({ length: count }, (_, k) => ({ id: from + k, tag: `row-${from + k}`, vector: vectorOf(from + k) }));
  const result = await client.insert({ collection_name: name, data });
  if (result.status.error_code !== 'Success') throw new Error(`insert ${name}: ${result.status.reason}`);
}

export async function countRows(client: MilvusClient, name: string): Promise<number> {
  const result = await client.query({ collection_name: name, filter: '', output_fields: ['count(*)'] });
  if (result.status.error_code !== 'Success') throw new Error(`count ${name}: ${result.status.reason}`);
  return Number(result.data[0]?.['count(*)']);
}

/** The ids of the `limit` nearest rows to `vector`. */
export async function searchIds(client: MilvusClient, name: string, vector: number[], limit = 3): Promise<number[]> {
  const result = await client.search({ collection_name: name, data: [vector], limit, output_fields: ['id'] });
  if (result.status.error_code !== 'Success') throw new Error(`search ${name}: ${result.status.reason}`);
  return result.results.map((hit) => Number(hit['id']));
}
