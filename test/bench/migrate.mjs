// Migration throughput: 10,000 rows of 128-dim vectors from milvus-lite (native 2.5.1) to a real
// Milvus standalone (PyPI milvus 2.3.5), `migrateDatabase` beside a straightforward Python copy
// (pymilvus 2.5 query_iterator, then insert; test/bench/migrate-copy.py; setuptools<81 for the
// pkg_resources milvus-lite 2.5.1 imports) with the same batch size,
// interleaved in one run. Both include starting the source's lite server, the target's schema and
// index, and a Strong count at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { benchVenv, kPymilvusPeer } from './venvs.mjs';
import { DataType, MilvusClient } from '@zilliz/milvus2-sdk-node';
import { createMilvusLitePool, findMilvusLite, migrateDatabase } from '@leasehold/milvus-lite';

const kRows = 10_000;
const kDim = 128;
const kBatch = 1000;
const launcher = fileURLToPath(new URL('../../packages/milvus-lite/test/fixtures/milvus-standalone.py', import.meta.url));
const copyScript = fileURLToPath(new URL('./migrate-copy.py', import.meta.url));

async function freePorts(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = createServer();
    await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
    servers.push(s);
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** The test fixture's launcher (packages/milvus-lite/test/fixtures/milvus-standalone.py), run the same way. */
async function startStandalone(python, dataDir) {
  const keys = ['proxy_port', 'proxy_internal_port', 'etcd_port', 'root_coord_port', 'query_coord_port', 'query_node_port', 'index_coord_port', 'index_node_port', 'data_coord_port', 'data_node_port', 'metrics_port'];
  const ports = await freePorts(keys.length);
  const child = execa(python, [launcher, dataDir, JSON.stringify(Object.fromEntries(keys.map((k, i) => [k, ports[i]])))], { stdin: 'pipe', reject: false, all: true });
  const ready = await new Promise((resolve, reject) => {
    let out = '';
    child.all.on('data', (chunk) => {
      out += String(chunk);
      const line = out.split('\n').find((l) => l.startsWith('{"pid"'));
      if (line) resolve(JSON.parse(line));
    });
    void child.then(() => reject(new Error(`Milvus standalone exited:\n${out.slice(-2000)}`)));
  });
  return { uri: `http://127.0.0.1:${ready.proxyPort}`, stop: async () => (child.kill('SIGINT'), await child) };
}

async function makeSource(installation, dbPath) {
  const pool = createMilvusLitePool({ installation });
  const lease = await pool.acquire(dbPath);
  const client = new MilvusClient({ address: lease.resource.uri, logLevel: 'error' });
  await client.createCollection({
    collection_name: 'bench',
    fields: [
      { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: false },
      { name: 'vector', data_type: DataType.FloatVector, dim: kDim },
    ],
  });
  await client.createIndex({ collection_name: 'bench', field_name: 'vector', index_type: 'FLAT', metric_type: 'L2' });
  for (let from = 0; from < kRows; from += 2000) {
    const data = Array.from({ length: 2000 }, (_, k) => ({ id: from + k, vector: Array.from({ length: kDim }, (_, d) => Math.sin((from + k) * 31 + d)) }));
    await client.insert({ collection_name: 'bench', data });
  }
  await client.closeConnection();
  await lease.release();
  await pool.close();
}

export async function bench({ runs, log }) {
  const n = Math.min(runs, 3);
  const standalonePython = await benchVenv({ name: 'milvus-standalone-2.3.5', packages: ['milvus==2.3.5'], probe: 'import milvus' }, log);
  const copyPython = await benchVenv(kPymilvusPeer, log);
  const installation = await findMilvusLite({ engine: 'native' });
  const scratch = mkdtempSync(join(tmpdir(), 'lh-bench-migrate-'));
  const source = join(scratch, 'source.db');
  log(`making the source: ${kRows} rows of ${kDim}-dim vectors`);
  await makeSource(installation, source);
  log('starting Milvus standalone');
  const standalone = await startStandalone(standalonePython, join(scratch, 'standalone'));
  const ours = [];
  const peer = [];
  try {
    for (let i = 0; i < n; i++) {
      const summary = await migrateDatabase(source, standalone.uri, { batchSize: kBatch, replace: true, sourceServer: { installation } });
      ours.push(kRows / (summary.elapsedMs / 1000));
      log(`run ${i + 1}: leasehold migrate ${ours.at(-1).toFixed(0)} rows/s`);
      const copied = await execa(copyPython, [copyScript, source, standalone.uri, 'bench_py', String(kBatch)], { reject: false, all: true });
      if (copied.exitCode !== 0) throw new Error(`the Python copy failed:\n${copied.all}`);
      const result = JSON.parse(copied.stdout.trim().split('\n').at(-1));
      if (result.count !== kRows) throw new Error(`the Python copy counted ${result.count} rows, not ${kRows}`);
      peer.push(kRows / result.seconds);
      log(`run ${i + 1}: python copy ${peer.at(-1).toFixed(0)} rows/s`);
    }
  } finally {
    await standalone.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  return [
    {
      section: 'Migration (lite → Milvus standalone)',
      metric: `migrate ${kRows} rows × ${kDim}-dim, batch ${kBatch}`,
      unit: 'rows/s',
      ours,
      peer,
      peerName: 'pymilvus query_iterator + insert',
      lowerIsBetter: false,
    },
  ];
}
