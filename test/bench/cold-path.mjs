// The user's first second (issue 24), measured as the "How to measure" says: whole fresh
// processes (spawn until exit), interleaved in rounds (one of each program per round, in an order
// that alternates), the first round thrown away, and the medians of the paired differences and
// ratios. Each SDK line (3.x, 2.5.x) is installed, with leasehold's packed tarballs, in a project
// of its own under the OS temp dir (not the repo's milvus-sdk-25 alias); LanceDB only in the 3.x
// project (a dependency of this bench only). Node is the one running the bench (Node 20 here).
// Also: the HTTP handler with openMilvus's DEFAULT pool, at 1 and 20 connections.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { load, serve } from './http-load.mjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { benchVenv, kPymilvusPeer } from './venvs.mjs';
import { createMilvusLitePool, findMilvusLite, openMilvus } from '../../packages/milvus-lite/dist/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const kSdkLines = [
  { line: '3.x', sdk: '@zilliz/milvus2-sdk-node@3.0.6', extra: ['@lancedb/lancedb@0.31.0'] },
  { line: '2.5.x', sdk: '@zilliz/milvus2-sdk-node@2.5.12', extra: [] },
];

// The programs, one file each in every project. Each takes its target as argv[2] and exits when done.
const kPrograms = {
  // The cold-open floor: the SDK alone, against a server already running.
  'floor-open.mjs': `
process.on('exit', () => { const { user, system } = process.cpuUsage(); process.stderr.write('__cpu ' + (user + system) / 1000 + '\\n'); });
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
const client = new MilvusClient({ address: process.argv[2], logLevel: 'error' });
const listed = await client.listCollections();
if (listed.status.error_code !== 'Success') throw new Error(listed.status.reason);
await client.closeConnection();
`,
  'open.mjs': `
process.on('exit', () => { const { user, system } = process.cpuUsage(); process.stderr.write('__cpu ' + (user + system) / 1000 + '\\n'); });
import { openMilvus } from '@leasehold/milvus-lite';
const client = await openMilvus(process.argv[2]);
const listed = await client.listCollections();
if (listed.status.error_code !== 'Success') throw new Error(listed.status.reason);
await client[Symbol.asyncDispose]();
`,
  // The README quick start, in plain JS for Node 20.
  'quick.mjs': `
process.on('exit', () => { const { user, system } = process.cpuUsage(); process.stderr.write('__cpu ' + (user + system) / 1000 + '\\n'); });
import { openMilvus } from '@leasehold/milvus-lite';
const client = await openMilvus(process.argv[2]);
try {
  await client.createCollection({ collection_name: 'docs', dimension: 4 });
  await client.insert({ collection_name: 'docs', data: [{ id: 1, vector: [0.1, 0.2, 0.3, 0.4] }] });
  const { results } = await client.search({ collection_name: 'docs', data: [0.1, 0.2, 0.3, 0.4], limit: 1 });
  if (results.length !== 1) throw new Error('no hit');
} finally {
  await client[Symbol.asyncDispose]();
}
`,
  // The quick-start floor: the same four SDK calls on a server already running. milvusClientConfig
  // because the SDK's quick createCollection does not work on milvus-lite 2.5.1 without it; the
  // SDK's own loadCollection (its 400 ms sleep included) unless argv[3] is 'no-sleep', where the
  // client gets the same no-sleep load as openMilvus's (the strictest floor).
  'floor-quick.mjs': `
process.on('exit', () => { const { user, system } = process.cpuUsage(); process.stderr.write('__cpu ' + (user + system) / 1000 + '\\n'); });
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { milvusClientConfig } from '@leasehold/milvus-lite';
const client = new MilvusClient(milvusClientConfig(process.argv[2], { logLevel: 'error' }));
if (process.argv[4] === 'no-sleep') {
  client.loadCollectionSync = client.loadCollection = async (data) => {
    const status = await client.loadCollectionAsync(data);
    for (let ms = 10; ; ms = Math.min(ms * 2, 400)) {
      const { progress } = await client.getLoadingProgress({ collection_name: data.collection_name });
      if (Number(progress) >= 100) return status;
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
  };
}
const name = process.argv[3];
await client.createCollection({ collection_name: name, dimension: 4 });
await client.insert({ collection_name: name, data: [{ id: 1, vector: [0.1, 0.2, 0.3, 0.4] }] });
const { results } = await client.search({ collection_name: name, data: [0.1, 0.2, 0.3, 0.4], limit: 1 });
if (results.length !== 1) throw new Error('no hit');
await client.closeConnection();
`,
  // LanceDB's equivalent: connect, a table of one row, search.
  'lancedb.mjs': `
import * as lancedb from '@lancedb/lancedb';
const db = await lancedb.connect(process.argv[2]);
const table = await db.createTable('docs', [{ id: 1, vector: [0.1, 0.2, 0.3, 0.4] }]);
const hits = await table.search([0.1, 0.2, 0.3, 0.4]).limit(1).toArray();
if (hits.length !== 1) throw new Error('no hit');
`,
  'import-execa.mjs': `
process.on('exit', () => { const { user, system } = process.cpuUsage(); process.stderr.write('__cpu ' + (user + system) / 1000 + '\\n'); });await import('execa');`,
  // The native engine's spawner thread as a cold open starts it: boot, its entry (execa bundled in,
  // dist/bundle/spawner/), and one message answered (an empty sweep); argv[2] 'empty': the same
  // round trip with a worker of one line, the floor of any worker thread.
  'spawner-thread.mjs': `
process.on('exit', () => { const { user, system } = process.cpuUsage(); process.stderr.write('__cpu ' + (user + system) / 1000 + '\\n'); });
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
const worker = process.argv[2] === 'empty'
  ? new Worker("const { parentPort } = require('node:worker_threads'); parentPort.on('message', () => parentPort.postMessage({ op: 'swept' }));", { eval: true, execArgv: [] })
  : new Worker(join(dirname(createRequire(import.meta.url).resolve('@leasehold/milvus-lite/package.json')), 'dist/bundle/spawner/spawn-worker.js'), { execArgv: [] });
worker.postMessage({ op: 'sweep', base: process.cwd() });
const [reply] = await once(worker, 'message');
if (reply.op !== 'swept') throw new Error('unexpected reply ' + JSON.stringify(reply));
await worker.terminate();
`,
  // The SDK alone, loaded as openMilvus loads it (argv[2] 'require': client/sdk.ts) or as an
  // application's \`import\` does: on Node 20 the ESM loader's import of the CommonJS SDK costs more.
  'load-sdk.mjs': `
process.on('exit', () => { const { user, system } = process.cpuUsage(); process.stderr.write('__cpu ' + (user + system) / 1000 + '\\n'); });
import { createRequire } from 'node:module';
const sdk = process.argv[2] === 'require' ? createRequire(import.meta.url)('@zilliz/milvus2-sdk-node') : await import('@zilliz/milvus2-sdk-node');
if (typeof sdk.MilvusClient !== 'function') throw new Error('no MilvusClient');
`,
  'empty.mjs': `
process.on('exit', () => { const { user, system } = process.cpuUsage(); process.stderr.write('__cpu ' + (user + system) / 1000 + '\\n'); });`,
};

const kPythonOpen = `
import sys, logging
logging.disable(logging.CRITICAL)
from pymilvus import MilvusClient
MilvusClient(sys.argv[1]).list_collections()
`;
const kPythonQuick = `
import sys, logging
logging.disable(logging.CRITICAL)
from pymilvus import MilvusClient
client = MilvusClient(sys.argv[1])
client.create_collection(collection_name="docs", dimension=4)
client.insert(collection_name="docs", data=[{"id": 1, "vector": [0.1, 0.2, 0.3, 0.4]}])
hits = client.search(collection_name="docs", data=[[0.1, 0.2, 0.3, 0.4]], limit=1)
assert len(hits[0]) == 1
client.close()
`;

/** Packs both packages and installs them with each SDK line into a project of its own; resolves the project dirs by line. */
export async function sdkProjects(base, log) {
  const tarballs = join(base, 'tarballs');
  mkdirSync(tarballs, { recursive: true });
  for (const pkg of ['pool', 'milvus-lite']) await execa('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(root, 'packages', pkg) });
  const files = readdirSync(tarballs).map((name) => join(tarballs, name));
  const projects = {};
  for (const { line, sdk, extra } of kSdkLines) {
    const dir = join(base, `sdk-${line}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `bench-sdk-${line.replace(/\W/g, '')}`, private: true, type: 'module' }));
    log(`installing ${sdk} ${extra.join(' ')} with the packed tarballs in ${dir}`);
    await execa('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files, sdk, 'execa@9', ...extra], { cwd: dir, timeout: 900_000 });
    for (const [file, text] of Object.entries(kPrograms)) writeFileSync(join(dir, file), text);
    projects[line] = dir;
  }
  return projects;
}

/** Wall time of a whole process, from spawn until exit; throws with its output if it fails. */
async function wall(file, args, cwd) {
  const t0 = performance.now();
  const result = await execa(file, args, { cwd, reject: false, stdin: 'ignore', env: { LEASEHOLD_NO_INSTALL: '1' } });
  const ms = performance.now() - t0;
  if (result.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.exitCode}: ${result.stderr.slice(-2000)}`);
  // The Node programs report their own process's CPU time (user + system, children not included) at exit.
  const cpu = /__cpu ([\d.]+)/.exec(result.stderr);
  lastCpu = cpu ? Number(cpu[1]) : undefined;
  return ms;
}
// The CPU time the last process measured reported (a figure the machine's load disturbs much less than wall time).
let lastCpu;

/** A row of paired CPU-time differences, the first round dropped. */
function cpuPaired(section, metric, ours = [], peer = [], note) {
  const [o, p] = [ours.slice(1), peer.slice(1)];
  return { section, metric, unit: 'ms', ours: o.map((x, i) => x - p[i]), note: note ?? `median of ${o.length} paired differences` };
}

/** Paired rows: ours[i] and peer[i] from the same round; the first round is dropped. */
function paired(section, metric, ours, peer, peerName, note) {
  const [o, p] = [ours.slice(1), peer.slice(1)];
  return [
    { section, metric: `${metric}`, unit: 'ms', ours: o, peerName, peer: p, ...(note ? { note } : {}) },
    { section, metric: `${metric}: paired difference (ours − peer)`, unit: 'ms', ours: o.map((x, i) => x - p[i]), note: `median of ${o.length} paired differences` },
    { section, metric: `${metric}: paired ratio (ours / peer)`, unit: 'x', ours: o.map((x, i) => x / p[i]), note: `median of ${o.length} paired ratios` },
  ];
}

export async function bench({ runs, log }) {
  const rounds = Math.max(11, runs);
  const installation = await findMilvusLite({ engine: 'native' });
  const python = await benchVenv(kPymilvusPeer, log);
  const base = mkdtempSync(join(tmpdir(), 'leasehold-bench-cold-'));
  // LEASEHOLD_BENCH_SDK_PROJECTS=<dir>: projects sdkProjects made there before (same build), reused as they are.
  const reuse = process.env['LEASEHOLD_BENCH_SDK_PROJECTS'];
  const projects = reuse ? Object.fromEntries(kSdkLines.map(({ line }) => [line, join(reuse, `sdk-${line}`)])) : await sdkProjects(base, log);
  if (reuse) for (const dir of Object.values(projects)) for (const [file, text] of Object.entries(kPrograms)) writeFileSync(join(dir, file), text);
  // The floors' server, already running (milvus-lite 2.5.1, native), held by this process.
  const pool = createMilvusLitePool({ installation, idleTimeoutMs: 60_000 });
  const floorLease = await pool.acquire(join(base, 'floor.db'));
  const floorUri = floorLease.resource.uri;
  const m = {};
  const cpu = {};
  const add = (name, ms) => {
    (m[name] ??= []).push(ms);
    if (lastCpu !== undefined) (cpu[name] ??= []).push(lastCpu);
  };
  for (let round = 0; round < rounds; round++) {
    const dir = join(base, `round-${round}`);
    mkdirSync(dir);
    const steps = [];
    for (const [line, cwd] of Object.entries(projects)) {
      const node = (file, ...args) => wall(process.execPath, [file, ...args], cwd);
      steps.push(
        [`open ${line}`, () => node('open.mjs', join(dir, `open-${line}.db`))],
        [`floor-open ${line}`, () => node('floor-open.mjs', floorUri)],
        [`quick ${line}`, () => node('quick.mjs', join(dir, `quick-${line}.db`))],
        [`floor-quick ${line}`, () => node('floor-quick.mjs', floorUri, `sdk_${line.replace(/\W/g, '')}_${round}`)],
        [`floor-quick-no-sleep ${line}`, () => node('floor-quick.mjs', floorUri, `nosleep_${line.replace(/\W/g, '')}_${round}`, 'no-sleep')],
        [`sdk-import ${line}`, () => node('load-sdk.mjs', 'import')],
        [`sdk-require ${line}`, () => node('load-sdk.mjs', 'require')],
      );
      if (line === '3.x') {
        steps.push(
          ['lancedb', () => node('lancedb.mjs', join(dir, 'lance'))],
          ['import-execa', () => node('import-execa.mjs')],
          ['spawner-thread', () => node('spawner-thread.mjs')],
          ['empty-thread', () => node('spawner-thread.mjs', 'empty')],
          ['empty', () => node('empty.mjs')],
        );
      }
    }
    steps.push(
      ['python-open', () => wall(python, ['-c', kPythonOpen, join(dir, 'py-open.db')], dir)],
      ['python-quick', () => wall(python, ['-c', kPythonQuick, join(dir, 'py-quick.db')], dir)],
    );
    // Alternate the order every round, so that drift on a shared machine falls on both sides of a pair.
    if (round % 2 === 1) steps.reverse();
    for (const [name, step] of steps) add(name, await step());
    log(`round ${round + 1}/${rounds}${round === 0 ? ' (thrown away)' : ''}: open 3.x ${m['open 3.x'].at(-1).toFixed(0)} ms (floor ${m['floor-open 3.x'].at(-1).toFixed(0)}), open 2.5.x ${m['open 2.5.x'].at(-1).toFixed(0)} ms (floor ${m['floor-open 2.5.x'].at(-1).toFixed(0)}), python ${m['python-open'].at(-1).toFixed(0)} ms; quick 3.x ${m['quick 3.x'].at(-1).toFixed(0)} ms, lancedb ${m['lancedb'].at(-1).toFixed(0)} ms, python quick ${m['python-quick'].at(-1).toFixed(0)} ms`);
    rmSync(dir, { recursive: true, force: true });
  }
  await floorLease.release();
  await pool.close();

  // The HTTP handler with openMilvus's default pool (no pool passed), a handle per request.
  const httpDb = join(base, 'http.db');
  const holder = await openMilvus(httpDb);
  await holder.createCollection({ collection_name: 'docs', dimension: 4 });
  await holder.insert({ collection_name: 'docs', data: Array.from({ length: 200 }, (_, id) => ({ id, vector: [Math.sin(id), Math.cos(id), 0.5, id / 200] })) });
  const search = (client) => client.search({ collection_name: 'docs', data: [0.1, 0.2, 0.3, 0.4], limit: 3 });
  const pids = new Set();
  const perRequest = await serve(async () => {
    const client = await openMilvus(httpDb);
    try {
      pids.add(client.lease.resource.pid);
      await search(client);
    } finally {
      await client[Symbol.asyncDispose]();
    }
  });
  await holder[Symbol.asyncDispose]();
  let held;
  const heldServer = await serve(() => search(held));
  const h = { 1: [], 20: [], '1 held': [], '20 held': [] };
  const kHttpRuns = Math.max(3, Math.min(runs, 5));
  for (let run = 0; run < kHttpRuns; run++) {
    for (const connections of [1, 20]) {
      // No handle is held during the per-request half: only the default pool's idle time keeps the server.
      h[connections].push(await load(perRequest.port, connections, 2000));
      held = await openMilvus(httpDb);
      h[`${connections} held`].push(await load(heldServer.port, connections, 2000));
      await held[Symbol.asyncDispose]();
    }
  }
  await perRequest.close();
  await heldServer.close();
  rmSync(base, { recursive: true, force: true });

  const rows = [];
  const lines = Object.keys(projects);
  const kept = rounds - 1;
  for (const line of lines) {
    const section = `Cold path, SDK ${line} (whole processes, ${kept} interleaved rounds)`;
    rows.push(...paired(section, `cold open: openMilvus(path) then listCollections (milvus-lite ${installation.version})`, m[`open ${line}`], m[`floor-open ${line}`], 'the SDK floor: import, new MilvusClient, listCollections on a running server', 'the paired difference is leasehold’s own time on the path'));
    rows.push(cpuPaired(section, 'cold open: CPU time of the Node process, paired difference (ours − the SDK floor’s)', cpu[`open ${line}`], cpu[`floor-open ${line}`], 'leasehold’s own CPU on the path, all threads (the spawner thread’s import of execa included, though it runs beside the SDK’s load, off the critical path), less disturbed by the machine’s load than wall time; the server’s start runs in other processes'));
    rows.push({ section, metric: 'cold open vs Python: ratio Python / ours, paired', unit: 'x', lowerIsBetter: false, ours: m[`open ${line}`].slice(1).map((x, i) => m['python-open'][i + 1] / x), note: 'Python: MilvusClient(path).list_collections() (pymilvus 2.5, milvus-lite 2.5.1); > 1 means ours is faster' });
    rows.push({ section, metric: 'cold open', unit: 'ms', ours: m[`open ${line}`].slice(1), peerName: 'Python: MilvusClient(path).list_collections()', peer: m['python-open'].slice(1) });
    rows.push({ section, metric: 'Python / the SDK floor, paired: the ratio to Python with no time of leasehold’s own', unit: 'x', lowerIsBetter: false, ours: m[`floor-open ${line}`].slice(1).map((x, i) => m['python-open'][i + 1] / x), note: 'the ceiling of the row “cold open vs Python” above: a cold open cannot beat the SDK’s own load, import and first client' });
    rows.push(...paired(section, 'loading the SDK alone by require (as openMilvus does, client/sdk.ts)', m[`sdk-require ${line}`], m[`sdk-import ${line}`], 'the same by import (as an application’s import does)', 'Node’s ESM loader scans the CommonJS SDK’s files for their export names; the module is the same either way'));
    rows.push(...paired(section, 'README quick start (open, quick createCollection, insert, search, dispose)', m[`quick ${line}`], m[`floor-quick ${line}`], 'the quick-start floor: the same four SDK calls on a running server (SDK’s own load, with its 400 ms sleep)'));
    rows.push(...paired(section, 'README quick start vs the strict floor', m[`quick ${line}`], m[`floor-quick-no-sleep ${line}`], 'the same four SDK calls, running server, the SDK’s load without its sleep'));
    rows.push(cpuPaired(section, 'README quick start: CPU time of the Node process, paired difference (ours − the strict floor’s)', cpu[`quick ${line}`], cpu[`floor-quick-no-sleep ${line}`]));
    rows.push({ section, metric: 'README quick start', unit: 'ms', ours: m[`quick ${line}`].slice(1), peerName: 'Python: the same four steps with MilvusClient(path)', peer: m['python-quick'].slice(1) });
    if (line === '3.x') rows.push({ section, metric: 'README quick start', unit: 'ms', ours: m[`quick ${line}`].slice(1), peerName: 'LanceDB 0.31: connect, a table of one row, search', peer: m['lancedb'].slice(1) });
  }
  const section = `Cold path: what parts cost (whole processes, ${kept} rounds)`;
  rows.push({ section, metric: 'importing execa from node_modules (node -e "await import(\'execa\')" − an empty script), paired', unit: 'ms', ours: m['import-execa'].slice(1).map((x, i) => x - m['empty'][i + 1]), note: 'what the spawner thread paid before its entry was bundled (~180 modules through the ESM loader); the main thread imports it only for the python engine and the installer' });
  rows.push(cpuPaired(section, 'importing execa from node_modules: CPU time, paired difference', cpu['import-execa'], cpu['empty']));
  rows.push({ section, metric: 'the spawner thread: boot, its bundled entry (execa inside), one message answered − the same with a one-line worker, paired', unit: 'ms', ours: m['spawner-thread'].slice(1).map((x, i) => x - m['empty-thread'][i + 1]), note: 'the entry’s own cost, execa’s loading included; a cold open pays it on another core, beside the SDK’s load' });
  rows.push(cpuPaired(section, 'the spawner thread’s bundled entry: CPU time, paired difference (against a one-line worker)', cpu['spawner-thread'], cpu['empty-thread']));
  rows.push(cpuPaired(section, 'a one-line worker thread (boot and one message): CPU time, paired difference against an empty process', cpu['empty-thread'], cpu['empty'], 'the floor of any worker thread on this machine: what a cold open’s spawner thread costs before its entry runs'));
  rows.push({ section, metric: 'empty Node process (node empty.mjs)', unit: 'ms', ours: m['empty'].slice(1) });
  const httpSection = 'HTTP handler, openMilvus’s default pool (no pool passed): a handle per request + one search';
  rows.push({ section: httpSection, metric: '1 connection', unit: 'req/s', lowerIsBetter: false, ours: h[1], peerName: 'same handler holding one client for life', peer: h['1 held'] });
  rows.push({ section: httpSection, metric: '20 connections', unit: 'req/s', lowerIsBetter: false, ours: h[20], peerName: 'same handler holding one client for life', peer: h['20 held'] });
  rows.push({ section: httpSection, metric: 'servers started for every request of the per-request handler', unit: 'servers', ours: [pids.size], note: 'one: the default pool keeps the released server warm (it was one per request before)' });
  log(`medians: own time 3.x ${median(m['open 3.x'].slice(1).map((x, i) => x - m['floor-open 3.x'][i + 1])).toFixed(0)} ms, 2.5.x ${median(m['open 2.5.x'].slice(1).map((x, i) => x - m['floor-open 2.5.x'][i + 1])).toFixed(0)} ms`);
  return rows;
}
