import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lease } from '@leasehold/pool';
import type { MilvusLiteServer } from '../target/milvus-lite-server.js';
import { MilvusLiteError } from '../errors.js';
import { loadSdk } from '../client/sdk.js';

/** Options of `dumpCollection`. */
export interface DumpOptions {
  readonly collection: string;
  /** The directory that receives `<collection>/<n>.json`; created if missing (its parent must exist). */
  readonly outDir: string;
  /** Rows per JSON file. Default 100000. */
  readonly rowsPerFile?: number;
  /** Called after each batch with rows written so far and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What `dumpCollection` wrote. */
export interface DumpResult {
  readonly rows: number;
  readonly files: readonly string[];
}

/**
 * Exports a collection as Milvus bulk-insert JSON files (`{"rows": [...]}`), as milvus-lite's own
 * `milvus-lite dump` does: every field, the primary key left out when it is auto-generated.
 */
export async function dumpCollection(lease: Lease<MilvusLiteServer>, options: DumpOptions): Promise<DumpResult> {
  const { MilvusClient } = await loadSdk('dump');
  const client = new MilvusClient({ address: lease.resource.uri, logLevel: 'error' });
  try {
    await client.connectPromise;
    const { collection } = options;
    const has = await client.hasCollection({ collection_name: collection });
    const names = (await client.listCollections()).data.map((c) => c.name);
    if (!has.value || !names.includes(collection)) {
      throw new MilvusLiteError(`collection ${JSON.stringify(collection)} does not exist in ${lease.key}; it has: ${names.join(', ') || 'no collections'}`);
    }
    const described = await client.describeCollection({ collection_name: collection });
    const pk = described.schema.fields.find((f) => f.is_primary_key);
    await client.loadCollection({ collection_name: collection });
    const counted = await client.query({ collection_name: collection, filter: '', output_fields: ['count(*)'] });
    const total = Number(counted.data[0]?.['count(*)'] ?? 0);
    const dir = join(options.outDir, collection);
    await mkdir(dir, { recursive: true });
    // Never over an earlier export: its files would be mixed with this one's (newcomer: the raw EEXIST of the first write).
    const earlier = (await readdir(dir)).filter((name) => /^\d+\.json$/.test(name));
    if (earlier.length > 0) throw new MilvusLiteError(`${dir} already holds an export (${earlier.sort().slice(0, 3).join(', ')}${earlier.length > 3 ? ', …' : ''}); dump never overwrites one: remove it, or pass another directory`);
    const rowsPerFile = options.rowsPerFile ?? 100_000;
    const files: string[] = [];
    let rows: Record<string, unknown>[] = [];
    let done = 0;
    const flush = async (): Promise<void> => {
      if (rows.length === 0) return;
      const file = join(dir, `${files.length + 1}.json`);
      await writeFile(file, JSON.stringify({ rows }), { flag: 'wx' });
      files.push(file);
      rows = [];
    };
    const iterator = (await client.queryIterator({ collection_name: collection, batchSize: 1000, output_fields: ['*'] })) as AsyncIterable<Record<string, unknown>[]>;
    for await (const batch of iterator) {
      for (const row of batch) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(row)) {
          if (k === pk?.name && pk.autoID) continue;
          out[k] = Buffer.isBuffer(v) ? [...v] : v;
        }
        rows.push(out);
        if (rows.length >= rowsPerFile) await flush();
      }
      done += batch.length;
      options.onProgress?.(done, total);
    }
    await flush();
    return { rows: done, files };
  } finally {
    await client.closeConnection();
  }
}
