// Hot acquire+release against generic-pool and Effect's RcMap, a cold herd, and idle-key memory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import genericPool from 'generic-pool';
import { Duration, Effect, RcMap, Scope, Exit } from 'effect';
import { LeasePool } from '../../packages/pool/dist/index.js';

const HOT_OPS = 200_000;
const HOT_SAMPLES = 20;
const RC_OPS = 50_000;
const HERD = 1_000;
const HERD_SAMPLES = 15;
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
  // Short samples, interleaved, in alternating order: one long loop per side lets whatever ran just
  // before it (the previous side's garbage, a major collection it left due) land on one side only.
  // Each run takes HOT_SAMPLES of each pair; the figures are the medians of all samples.
  const samples = async (count, ops, pair) => {
    const got = pair.map(() => []);
    for (let sample = 0; sample < count; sample++) {
      const order = sample % 2 === 0 ? [0, 1] : [1, 0];
      for (const side of order) got[side].push(await timeNs(ops, pair[side]));
    }
    return got;
  };
  const hot = { ours: [], withStacks: [], gp: [], gpForStacks: [], rc: [], oursForRc: [] };
  // One untimed round each first, so no side is measured while the JIT is still warming up.
  await oursOp(HOT_OPS);
  await oursStacksOp(HOT_OPS / 10);
  await gpOp(HOT_OPS);
  await rcOp(RC_OPS / 10);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (let run = 0; run < runs; run++) {
    const [ours1, gp1] = await samples(HOT_SAMPLES, HOT_OPS / HOT_SAMPLES, [oursOp, gpOp]);
    const [stacks, gp2] = await samples(4, HOT_OPS / HOT_SAMPLES, [oursStacksOp, gpOp]);
    const [ours3, rc] = await samples(4, RC_OPS / 4, [oursOp, rcOp]);
    hot.ours.push(...ours1);
    hot.gp.push(...gp1);
    hot.withStacks.push(...stacks);
    hot.gpForStacks.push(...gp2);
    hot.oursForRc.push(...ours3);
    hot.rc.push(...rc);
    log(`hot run ${run + 1} (medians of ${HOT_SAMPLES} samples of ${HOT_OPS / HOT_SAMPLES} ops): ours ${median(ours1).toFixed(0)} ns, generic-pool ${median(gp1).toFixed(0)} ns; with stacks ${median(stacks).toFixed(0)} ns`);
  }
  await gp.drain();
  await gp.clear();
  await ours.close();
  await oursStacks.close();
  await Effect.runPromise(Scope.close(scope, Exit.void));

  // 1,000 concurrent acquires of one cold key whose start costs one setImmediate: one start, and
  // the time until every lease is held. Peers: Effect's RcMap (all 1,000 `get`s in one scope) and
  // the floor, a Map of shared promises with a reference count.
  const startOnce = () => new Promise((r) => setImmediate(() => r(resource)));
  const herdOurs = async (run, withSignals) => {
    let starts = 0;
    const pool = new LeasePool({ start: () => (starts++, startOnce()) });
    const herdKey = join(dir, `herd-${run}-${withSignals ? 's' : 'p'}.db`);
    // The callers' signals exist before the herd (as a request's does): Node makes an AbortController's
    // signal on first read, ~4 µs, which is the caller's cost, not the pool's.
    const signals = withSignals ? Array.from({ length: HERD }, () => new AbortController().signal) : [];
    const t0 = performance.now();
    const leases = await Promise.all(Array.from({ length: HERD }, (_, i) => pool.acquire(herdKey, withSignals ? { signal: signals[i] } : undefined)));
    const ms = performance.now() - t0;
    if (starts !== 1 || leases.length !== HERD) throw new Error(`herd: ${starts} starts for ${leases.length} leases`);
    await Promise.all(leases.map((l) => l.release()));
    await pool.close();
    return ms;
  };
  const herdRcMap = async (run) => {
    let starts = 0;
    const herdScope = Effect.runSync(Scope.make());
    const map = await Effect.runPromise(Scope.extend(RcMap.make({ lookup: () => Effect.promise(() => (starts++, startOnce())) }), herdScope));
    const herdKey = join(dir, `herd-rc-${run}.db`);
    const getScope = Effect.runSync(Scope.make());
    const t0 = performance.now();
    const got = await Effect.runPromise(Scope.extend(Effect.all(Array.from({ length: HERD }, () => RcMap.get(map, herdKey)), { concurrency: 'unbounded' }), getScope));
    const ms = performance.now() - t0;
    if (starts !== 1 || got.length !== HERD) throw new Error(`RcMap herd: ${starts} starts for ${got.length} gets`);
    await Effect.runPromise(Scope.close(getScope, Exit.void));
    await Effect.runPromise(Scope.close(herdScope, Exit.void));
    return ms;
  };
  const herdFloor = async (run) => {
    let starts = 0;
    const map = new Map();
    const acquire = (k) => {
      let e = map.get(k);
      if (e === undefined) map.set(k, (e = { refs: 0, promise: (starts++, startOnce()) }));
      e.refs++;
      return e.promise;
    };
    const herdKey = join(dir, `herd-floor-${run}.db`);
    const t0 = performance.now();
    const got = await Promise.all(Array.from({ length: HERD }, () => acquire(herdKey)));
    const ms = performance.now() - t0;
    if (starts !== 1 || got.length !== HERD) throw new Error(`floor herd: ${starts} starts`);
    return ms;
  };
  // A herd takes a few ms, so one sample is at the mercy of a single collection or a scheduler
  // tick: each run takes HERD_SAMPLES of each side, interleaved, and the figures are the medians of
  // all samples. No gc() before a sample: a forced full collection shrinks the young generation, and
  // the next few ms of allocation then pay for scavenges and fresh pages (it doubled our median).
  const herd = { ours: [], signals: [], rc: [], floor: [] };
  await herdOurs(-1, false);
  await herdOurs(-1, true);
  await herdRcMap(-1);
  await herdFloor(-1);
  for (let run = 0; run < runs; run++) {
    const got = { ours: [], signals: [], rc: [], floor: [] };
    for (let sample = 0; sample < HERD_SAMPLES; sample++) {
      const id = run * HERD_SAMPLES + sample;
      got.ours.push(await herdOurs(id, false));
      got.signals.push(await herdOurs(id, true));
      got.rc.push(await herdRcMap(id));
      got.floor.push(await herdFloor(id));
    }
    for (const side of Object.keys(herd)) herd[side].push(...got[side]);
    log(`herd run ${run + 1} (median of ${HERD_SAMPLES}): ours ${median(got.ours).toFixed(2)} ms, with signals ${median(got.signals).toFixed(2)} ms, RcMap ${median(got.rc).toFixed(2)} ms, Map+promise ${median(got.floor).toFixed(2)} ms`);
  }

  // Memory of 10,000 idle keys (idleTimeoutMs Infinity; RcMap with an infinite idleTimeToLive),
  // measured as heap growth after gc.
  const perKey = [];
  const perKeyRc = [];
  // Several full collections, a turn apart: one gc() can leave the herd's garbage, and the baseline then reads high.
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      globalThis.gc();
    }
  };
  for (let run = 0; run < runs && globalThis.gc; run++) {
    await settle();
    let before = process.memoryUsage().heapUsed;
    const pool = new LeasePool({ start: async (k) => ({ k }), idleTimeoutMs: Infinity });
    for (let i = 0; i < IDLE_KEYS; i++) await (await pool.acquire(join(dir, `idle-${i}.db`))).release();
    await settle();
    perKey.push((process.memoryUsage().heapUsed - before) / IDLE_KEYS);
    if (pool.stats().idle !== IDLE_KEYS) throw new Error(`expected ${IDLE_KEYS} idle keys, got ${pool.stats().idle}`);
    await pool.close();

    await settle();
    before = process.memoryUsage().heapUsed;
    const rcScope = Effect.runSync(Scope.make());
    const map = await Effect.runPromise(Scope.extend(RcMap.make({ lookup: (k) => Effect.succeed({ k }), idleTimeToLive: Duration.infinity }), rcScope));
    for (let i = 0; i < IDLE_KEYS; i++) await Effect.runPromise(Effect.scoped(RcMap.get(map, join(dir, `idle-${i}.db`))));
    await settle();
    perKeyRc.push((process.memoryUsage().heapUsed - before) / IDLE_KEYS);
    const rcKeys = await Effect.runPromise(RcMap.keys(map));
    if (rcKeys.length !== IDLE_KEYS) throw new Error(`expected ${IDLE_KEYS} RcMap keys, got ${rcKeys.length}`);
    await Effect.runPromise(Scope.close(rcScope, Exit.void));
    log(`memory run ${run + 1}: ours ${perKey.at(-1).toFixed(0)} B/key, RcMap ${perKeyRc.at(-1).toFixed(0)} B/key`);
  }
  return [
    { section: 'Hot path', metric: `acquire+release of a running key (defaults; ${HOT_SAMPLES} interleaved samples per run)`, unit: 'ns', ours: hot.ours, peerName: 'generic-pool', peer: hot.gp },
    { section: 'Hot path', metric: 'acquire+release, captureStacks: true (4 interleaved samples per run)', unit: 'ns', ours: hot.withStacks, peerName: 'generic-pool', peer: hot.gpForStacks },
    { section: 'Hot path', metric: 'acquire+release of a running key (4 interleaved samples per run)', unit: 'ns', ours: hot.oursForRc, peerName: 'Effect RcMap.get in Effect.scoped (runPromise)', peer: hot.rc },
    { section: 'Cold herd', metric: `${HERD} concurrent acquires of one cold key (start: one setImmediate), until all held (${HERD_SAMPLES} samples per run)`, unit: 'ms', ours: herd.ours, peerName: 'Effect RcMap.get ×1000 in one scope', peer: herd.rc },
    { section: 'Cold herd', metric: `${HERD} concurrent acquires, until all held (${HERD_SAMPLES} samples per run)`, unit: 'ms', ours: herd.ours, peerName: 'Map + one shared promise (the floor)', peer: herd.floor },
    { section: 'Cold herd', metric: `${HERD} concurrent acquires, each with its own AbortSignal (${HERD_SAMPLES} samples per run)`, unit: 'ms', ours: herd.signals, peerName: 'Effect RcMap.get ×1000 in one scope', peer: herd.rc },
    { section: 'Memory', metric: `heap per idle key (${IDLE_KEYS} keys)`, unit: 'B', ours: perKey, peerName: 'Effect RcMap (idleTimeToLive: infinity)', peer: perKeyRc },
  ];
}
