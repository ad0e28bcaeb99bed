// openMilvus: warm open with the shared client vs a new MilvusClient per call; an HTTP handler with
// a handle per request (a pool with an idle time) vs one client held for life, at 1 and 50
// concurrent connections. Peers run in the same run. The cold open is cold-path.mjs's.
import { mkdtempSync, rmSync } from 'node:fs';
import { load, serve } from './http-load.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { createMilvusLitePool, findMilvusLite, milvusClientConfig, openMilvus } from '../../packages/milvus-lite/dist/index.js';

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const kDim = 8;
const vectorOf = (i) => Array.from({ length: kDim }, (_, d) => Math.sin(i * 7 + d));

export async function bench({ runs, log }) {
  const installation = await findMilvusLite({ engine: 'native' });
  const root = mkdtempSync(join(tmpdir(), 'leasehold-bench-open-'));
  const pool = createMilvusLitePool({ installation, idleTimeoutMs: 60_000 });
  const dbPath = join(root, 'warm.db');
  const holder = await openMilvus(dbPath, { pool });
  await holder.createCollection({ collection_name: 'docs', dimension: kDim });
  await holder.insert({ collection_name: 'docs', data: Array.from({ length: 200 }, (_, id) => ({ id, vector: vectorOf(id) })) });
  const r = { warm: [], newClient: [], h1: [], h1peer: [], h50: [], h50peer: [] };
  for (let run = 0; run < runs; run++) {
    const warm = [];
    for (let i = 0; i < 5000; i++) {
      const t0 = performance.now();
      const handle = await openMilvus(dbPath, { pool });
      warm.push(performance.now() - t0);
      await handle[Symbol.asyncDispose]();
    }
    r.warm.push(median(warm) * 1000);
    const fresh = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const client = new MilvusClient(milvusClientConfig(holder.lease.resource.uri, { logLevel: 'error' }));
      await client.connectPromise;
      fresh.push(performance.now() - t0);
      await client.closeConnection();
    }
    r.newClient.push(median(fresh) * 1000);

    const search = (client) => client.search({ collection_name: 'docs', data: vectorOf(run), limit: 3 });
    const perRequest = await serve(async () => {
      // \`await using client = await openMilvus(dbPath, { pool })\`, written out for Node 20's plain JS.
      const client = await openMilvus(dbPath, { pool });
      try {
        await search(client);
      } finally {
        await client[Symbol.asyncDispose]();
      }
    });
    const held = await serve(() => search(holder));
    for (const [connections, ours, peer] of [
      [1, r.h1, r.h1peer],
      [50, r.h50, r.h50peer],
    ]) {
      ours.push(await load(perRequest.port, connections, 2000));
      peer.push(await load(held.port, connections, 2000));
    }
    await perRequest.close();
    await held.close();
    log(`run ${run + 1}: warm ${r.warm.at(-1).toFixed(2)} µs (new client ${(r.newClient.at(-1) / 1000).toFixed(0)} ms), http 50: ${r.h50.at(-1).toFixed(0)} vs ${r.h50peer.at(-1).toFixed(0)} req/s`);
  }
  await holder[Symbol.asyncDispose]();
  await pool.close();
  rmSync(root, { recursive: true, force: true });
  const section = 'openMilvus';
  return [
    { section, metric: 'warm openMilvus + dispose (server and shared client up), median of 5000', unit: 'µs', ours: r.warm, peerName: 'new MilvusClient per call (connect)', peer: r.newClient },
    { section, metric: 'HTTP handler, `await using client = await openMilvus(path)` + one search, 1 connection', unit: 'req/s', lowerIsBetter: false, ours: r.h1, peerName: 'same handler holding one client for life', peer: r.h1peer },
    { section, metric: 'HTTP handler, openMilvus per request + one search, 50 connections', unit: 'req/s', lowerIsBetter: false, ours: r.h50, peerName: 'same handler holding one client for life', peer: r.h50peer },
  ];
}
