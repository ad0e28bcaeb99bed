// Small helpers the examples share: a schema, deterministic "embeddings", and where to put data.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';

export const kDim = 128;
const kStopWords = new Set(['the', 'and', 'are', 'for', 'with', 'can', 'have', 'has', 'when', 'where', 'what', 'who', 'why', 'how', 'our', 'you', 'your', 'must', 'all', 'each', 'every', 'need', 'send', 'did', 'from', 'after', 'within', 'times']);

/**
 * A toy embedding (a real application calls a model): hashed word stems, so texts that share words
 * land close together. The same text always gives the same vector.
 */
export function embed(text: string): number[] {
  const v = new Array<number>(kDim).fill(0);
  for (const word of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (word.length < 3 || kStopWords.has(word)) continue;
    let h = 2166136261;
    for (const ch of word.slice(0, 5)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    v[(h >>> 0) % kDim]! += 1;
  }
  v[0]! += 1e-3; // never the zero vector
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** The quick form, as in Python's `create_collection(name, dimension=128)`: id, vector, dynamic fields; indexed and loaded. */
export async function createTextCollection(client: MilvusClient, name: string): Promise<void> {
  const created = await client.createCollection({ collection_name: name, dimension: kDim });
  if (created.error_code !== 'Success') throw new Error(`createCollection ${name}: ${created.reason}`);
}

export async function insertTexts(client: MilvusClient, name: string, texts: readonly string[]): Promise<void> {
  const data = texts.map((text, id) => ({ id, text, vector: embed(text) }));
  const result = await client.insert({ collection_name: name, data });
  if (result.status.error_code !== 'Success') throw new Error(`insert ${name}: ${result.status.reason}`);
}

/** The texts nearest to `query`, best first. */
export async function searchTexts(client: MilvusClient, name: string, query: string, limit = 2): Promise<string[]> {
  const result = await client.search({ collection_name: name, data: [embed(query)], limit, output_fields: ['text'] });
  if (result.status.error_code !== 'Success') throw new Error(`search ${name}: ${result.status.reason}`);
  // milvus-lite 2.5 returns dynamic fields under $meta; a real Milvus returns them flat.
  return result.results.map((hit) => String(hit['text'] ?? (hit['$meta'] as { text?: string } | undefined)?.text));
}

/** The directory the examples write to: argv[2], or a fresh temporary one. */
export function dataDir(): string {
  return process.argv[2] ?? mkdtempSync(join(tmpdir(), 'leasehold-example-'));
}
