// Hot acquire+release against generic-pool and Effect's RcMap, a cold herd, and idle-key memory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import genericPool from 'generic-pool';
import { Effect, RcMap, Scope, Exit } from 'effect';
import { LeasePool } from '../../packages/pool/dist/index.js';

const HOT_OPS = 200_000;
const RC_OPS = 50_000;
const HERD = 1_000;
const IDLE_KEYS = 10_000;

// Each side's loop is written out inline (no per-op wrapper function), so the figure is the
// acquire+release itself plus the two awaits any caller pays, the same for every peer.
async function timeNs(ops, loop) {
  const t0 = process.hrtime.bigint();
  await loop(ops);
  return Number(process.hrtime.bigint() - t0) / ops;
}

export async function bench({ runs, log }) {
  const dir = mkdtempSync(join(tmpdir(), 'leasehold-bench-'));
  const key = join(dir, 'hot.db');
  const resource = { name: 'server' };
  const ours = new LeasePool({ start: async () => resource, idleTimeoutMs: Infinity });
  (await ours.acquire(key)).release();
  const oursStacks = new LeasePool({ start: async () => resource, idleTimeoutMs: Infinity, captureStacks: true });
  (await oursStacks.acquire(key)).release();
  const gp = genericPool.createPool({ create: async () => resource, destroy: async () => {} }, { max: 1, min: 1 });
  await gp.ready();
  const scope = Effect.runSync(Scope.make());
  const rcMap = await Effect.runPromise(Scope.extend(RcMap.make({ lookup: () => Effect.succeed(resource) }), scope));
  const rcOp = async (n) => {
    for (let i = 0; i < n; i++) await Effect.runPromise(Effect.scoped(RcMap.get(rcMap, key)));
  };
  const oursOp = async (n) => {
    for (let i = 0; i < n; i++) {
      const lease = await ours.acquire(key);
      await lease.release();
    }
  };
  const oursStacksOp = async (n) => {
    for (let i = 0; i < n; i++) {
      const lease = await oursStacks.acquire(key);
      await lease.release();
    }
  };
  const gpOp = async (n) => {
    for (let i = 0; i < n; i++) {
      const r = await gp.acquire();
      await gp.release(r);
    }
  };
  const hot = { ours: [], withStacks: [], gp: [], rc: [], oursForRc: [] };
  for (let run = 0; run < runs; run++) {
    hot.ours.push(await timeNs(HOT_OPS, oursOp));
    hot.withStacks.push(await timeNs(HOT_OPS, oursStacksOp));
    hot.gp.push(await timeNs(HOT_OPS, gpOp));
    hot.oursForRc.push(await timeNs(RC_OPS, oursOp));
    hot.rc.push(await timeNs(RC_OPS, rcOp));
    log(`hot run ${run + 1}: ours ${hot.ours.at(-1).toFixed(0)} ns, with stacks ${hot.withStacks.at(-1).toFixed(0)} ns, generic-pool ${hot.gp.at(-1).toFixed(0)} ns`);
  }
  await gp.drain();
  await gp.clear();
  await ours.close();
  await oursStacks.close();
  await Effect.runPromise(Scope.close(scope, Exit.void));

  // 1,000 concurrent acquires of one cold key: one start, and the time until every lease is held.
  const herd = { ms: [], starts: [] };
  for (let run = 0; run < runs; run++) {
    let starts = 0;
    const pool = new LeasePool({ start: async () => { starts++; await new Promise((r) => setImmediate(r)); return resource; } });
    const herdKey = join(dir, `herd-${run}.db`);
    const t0 = performance.now();
    const leases = await Promise.all(Array.from({ length: HERD }, () => pool.acquire(herdKey)));
    herd.ms.push(performance.now() - t0);
    herd.starts.push(starts);
    if (starts !== 1 || leases.length !== HERD) throw new Error(`herd: ${starts} starts for ${leases.length} leases`);
    await Promise.all(leases.map((l) => l.release()));
    await pool.close();
  }

  // Memory of 10,000 idle keys (idleTimeoutMs Infinity), measured as heap growth after gc.
  const perKey = [];
  for (let run = 0; run < runs && globalThis.gc; run++) {
    globalThis.gc();
    const before = process.memoryUsage().heapUsed;
    const pool = new LeasePool({ start: async (k) => ({ k }), idleTimeoutMs: Infinity });
    for (let i = 0; i < IDLE_KEYS; i++) await (await pool.acquire(join(dir, `idle-${i}.db`))).release();
    await new Promise((r) => setImmediate(r));
    globalThis.gc();
    perKey.push((process.memoryUsage().heapUsed - before) / IDLE_KEYS);
    if (pool.stats().idle !== IDLE_KEYS) throw new Error(`expected ${IDLE_KEYS} idle keys, got ${pool.stats().idle}`);
    await pool.close();
  }
  return [
    { section: 'Hot path', metric: 'acquire+release of a running key (defaults)', unit: 'ns', ours: hot.ours, peerName: 'generic-pool', peer: hot.gp },
    { section: 'Hot path', metric: 'acquire+release, captureStacks: true', unit: 'ns', ours: hot.withStacks, peerName: 'generic-pool', peer: hot.gp },
    { section: 'Hot path', metric: 'acquire+release of a running key', unit: 'ns', ours: hot.oursForRc, peerName: 'Effect RcMap.get in Effect.scoped (runPromise)', peer: hot.rc },
    { section: 'Cold herd', metric: `${HERD} concurrent acquires of one cold key, until all held`, unit: 'ms', ours: herd.ms, note: `starts per run: ${herd.starts.join(', ')}` },
    { section: 'Memory', metric: `heap per idle key (${IDLE_KEYS} keys)`, unit: 'B', ours: perKey },
  ];
}
