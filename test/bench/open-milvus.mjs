// openMilvus: warm open with the shared client vs a new MilvusClient per call; a cold open as a
// whole fresh process vs Python's MilvusClient(path); an HTTP handler with a handle per request vs
// one client held for life, at 1 and 50 concurrent connections. Peers run in the same run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { benchVenv, kPymilvusPeer } from './venvs.mjs';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { createMilvusLitePool, findMilvusLite, milvusClientConfig, openMilvus } from '../../packages/milvus-lite/dist/index.js';

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const kIndex = fileURLToPath(new URL('../../packages/milvus-lite/dist/index.js', import.meta.url));
const kDim = 8;
const vectorOf = (i) => Array.from({ length: kDim }, (_, d) => Math.sin(i * 7 + d));

// The fresh-process programs: each prints "ok <ms since process start>" once listCollections answered.
const kNode = `
import { openMilvus } from ${JSON.stringify(kIndex)};
const client = await openMilvus(process.argv[2]);
const listed = await client.listCollections();
console.log(listed.status.error_code === 'Success' ? 'ok' : 'failed');
await client[Symbol.asyncDispose]();
`;
const kPython = `
import sys, logging
logging.disable(logging.CRITICAL)
from pymilvus import MilvusClient
MilvusClient(sys.argv[1]).list_collections()
print("ok", flush=True)
`;

/** Wall time from spawn until the program printed "ok". */
async function timeUntilOk(file, args) {
  const t0 = performance.now();
  const child = execa(file, args, { reject: false, buffer: false, stdin: 'ignore' });
  const ms = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('ok')) resolve(performance.now() - t0);
    });
    child.then((r) => reject(new Error(`${file} exited (${r.exitCode}) before answering: ${out}${r.stderr ?? ''}`)));
  });
  await child;
  return ms;
}

/** A bounded loopback load generator: `connections` loops, each one request at a time, for `ms`. */
async function load(port, connections, ms) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const deadline = performance.now() + ms;
  let done = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        await one();
        done++;
      }
    }),
  );
  const rps = done / ((performance.now() - t0) / 1000);
  agent.destroy();
  return rps;
}

async function serve(handler) {
  const server = createServer((req, res) => {
    handler().then(
      () => res.end('ok'),
      (error) => {
        res.statusCode = 500;
        res.end(String(error));
      },
    );
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => new Promise((resolve) => server.close(resolve)) };
}

export async function bench({ runs, log }) {
  const installation = await findMilvusLite({ engine: 'native' });
  const python = await benchVenv(kPymilvusPeer, log);
  const root = mkdtempSync(join(tmpdir(), 'leasehold-bench-open-'));
  const nodeScript = join(root, 'open.mjs');
  writeFileSync(nodeScript, kNode);
  const pool = createMilvusLitePool({ installation, idleTimeoutMs: 60_000 });
  const dbPath = join(root, 'warm.db');
  const holder = await openMilvus(dbPath, { pool });
  await holder.createCollection({ collection_name: 'docs', dimension: kDim });
  await holder.insert({ collection_name: 'docs', data: Array.from({ length: 200 }, (_, id) => ({ id, vector: vectorOf(id) })) });
  const r = { warm: [], newClient: [], cold: [], pyCold: [], h1: [], h1peer: [], h50: [], h50peer: [] };
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

    const cold = [];
    const pyCold = [];
    for (let k = 0; k < 3; k++) {
      const dir = mkdtempSync(join(root, `cold-${run}-${k}-`));
      cold.push(await timeUntilOk(process.execPath, [nodeScript, join(dir, 'node.db')]));
      pyCold.push(await timeUntilOk(python, ['-c', kPython, join(dir, 'python.db')]));
    }
    r.cold.push(median(cold));
    r.pyCold.push(median(pyCold));

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
    log(`run ${run + 1}: warm ${r.warm.at(-1).toFixed(2)} µs (new client ${(r.newClient.at(-1) / 1000).toFixed(0)} ms), cold ${r.cold.at(-1).toFixed(0)} ms vs python ${r.pyCold.at(-1).toFixed(0)} ms, http 50: ${r.h50.at(-1).toFixed(0)} vs ${r.h50peer.at(-1).toFixed(0)} req/s`);
  }
  await holder[Symbol.asyncDispose]();
  await pool.close();
  rmSync(root, { recursive: true, force: true });
  const section = 'openMilvus';
  return [
    { section, metric: 'warm openMilvus + dispose (server and shared client up), median of 5000', unit: 'µs', ours: r.warm, peerName: 'new MilvusClient per call (connect)', peer: r.newClient },
    { section, metric: `cold open, whole fresh process: openMilvus(path) then listCollections answered (milvus-lite ${installation.version}), median of 3 pairs per run`, unit: 'ms', ours: r.cold, peerName: 'Python: MilvusClient(path).list_collections() (pymilvus 2.5, milvus-lite 2.5.1)', peer: r.pyCold },
    { section, metric: 'HTTP handler, `await using client = await openMilvus(path)` + one search, 1 connection', unit: 'req/s', lowerIsBetter: false, ours: r.h1, peerName: 'same handler holding one client for life', peer: r.h1peer },
    { section, metric: 'HTTP handler, openMilvus per request + one search, 50 connections', unit: 'req/s', lowerIsBetter: false, ours: r.h50, peerName: 'same handler holding one client for life', peer: r.h50peer },
  ];
}
