// share: attaching a fresh process to a running shared server against a cold start (shared and
// not), and the acquire latency of a process already attached. Fresh processes time themselves
// from just before acquire() to its result, so Node's own start-up is not counted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createMilvusLitePool, findMilvusLite } from '../../packages/milvus-lite/dist/index.js';

const kChild = String.raw`
import { createMilvusLitePool } from ${JSON.stringify(new URL('../../packages/milvus-lite/dist/index.js', import.meta.url).href)};
const [db, installation, share] = process.argv.slice(1);
const pool = createMilvusLitePool({ installation: JSON.parse(installation), share: share === 'share' });
const t0 = performance.now();
const lease = await pool.acquire(db);
const ms = performance.now() - t0;
await lease.release();
await pool.close();
process.stdout.write(JSON.stringify({ ms }) + '\n');
`;

const PER_RUN = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function fresh(db, installation, mode, env) {
  const result = await execa(process.execPath, ['--input-type=module', '-e', kChild, db, JSON.stringify(installation), mode], { env, reject: false });
  if (result.exitCode !== 0) throw new Error(`bench child failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)).ms;
}

export async function bench({ runs, log }) {
  const installation = await findMilvusLite({ engine: 'native' });
  const root = mkdtempSync(join(tmpdir(), 'leasehold-bench-share-'));
  const rendezvous = mkdtempSync('/tmp/lhb-');
  const env = { ...process.env, LEASEHOLD_SHARE_DIR: rendezvous };
  process.env.LEASEHOLD_SHARE_DIR = rendezvous;
  const r = { attach: [], sharedCold: [], cold: [], hot: [], reattach: [] };
  const running = [];
  await fresh(join(root, 'warm.db'), installation, 'share', env);
  for (let run = 0; run < runs; run++) {
    const dir = mkdtempSync(join(root, `run-${run}-`));
    const m = { attach: [], sharedCold: [], cold: [], reattach: [] };
    // The bench process keeps a shared server up; fresh processes attach to it.
    const pool = createMilvusLitePool({ installation, share: true, idleTimeoutMs: 60_000 });
    const held = await pool.acquire(join(dir, 'running.db'));
    running.push(join(dir, 'running.db'));
    for (let k = 0; k < PER_RUN; k++) {
      m.attach.push(await fresh(join(dir, 'running.db'), installation, 'share', env));
      m.sharedCold.push(await fresh(join(dir, `shared-cold-${k}.db`), installation, 'share', env));
      m.cold.push(await fresh(join(dir, `cold-${k}.db`), installation, 'local', env));
    }
    // Attached: a second lease in a process that holds one is the in-process hot path.
    const hot = [];
    for (let i = 0; i < 2000; i++) {
      const a = performance.now();
      const lease = await pool.acquire(join(dir, 'running.db'));
      await lease.release();
      hot.push(performance.now() - a);
    }
    await held.release();
    // Re-attach: this process's last lease is gone, the server is kept by the idle timeout.
    for (let i = 0; i < 50; i++) {
      const a = performance.now();
      const lease = await pool.acquire(join(dir, 'running.db'));
      m.reattach.push(performance.now() - a);
      await lease.release();
    }
    await pool.close();
    r.attach.push(median(m.attach));
    r.sharedCold.push(median(m.sharedCold));
    r.cold.push(median(m.cold));
    r.hot.push(median(hot) * 1000);
    r.reattach.push(median(m.reattach));
    log(`run ${run + 1}: attach ${r.attach.at(-1).toFixed(1)} ms, shared cold ${r.sharedCold.at(-1).toFixed(0)} ms, local cold ${r.cold.at(-1).toFixed(0)} ms, hot ${r.hot.at(-1).toFixed(2)} µs`);
  }
  // Servers of the fresh processes stop at once (idleTimeoutMs 0); ours after its idle timeout.
  const { stopSharedServer } = await import('../../packages/milvus-lite/dist/index.js');
  for (const db of running) await stopSharedServer(db);
  rmSync(root, { recursive: true, force: true });
  rmSync(rendezvous, { recursive: true, force: true });
  const version = `milvus-lite ${installation.version}, native`;
  return [
    { section: 'shared servers (share: true)', metric: `a fresh process attaches to a running shared server (${version}), median of ${PER_RUN} per run`, unit: 'ms', ours: r.attach, peerName: 'a fresh process cold-starts its own server (share off)', peer: r.cold },
    { section: 'shared servers (share: true)', metric: 'a fresh process cold-starts a shared server (spawns the supervisor)', unit: 'ms', ours: r.sharedCold, peerName: 'cold start, share off', peer: r.cold },
    { section: 'shared servers (share: true)', metric: 'acquire+release in an attached process (another lease held), median of 2000', unit: 'µs', ours: r.hot, note: 'the in-process hot path: no socket, no filesystem' },
    { section: 'shared servers (share: true)', metric: 're-attach after the process’s last release (server kept by the idle timeout), median of 50', unit: 'ms', ours: r.reattach, note: 'one new supervisor connection and handshake' },
  ];
}
