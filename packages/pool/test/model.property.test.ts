import { access } from 'node:fs/promises';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AcquireTimeoutError,
  LeasePool,
  PoolClosedError,
  StartError,
  StopTimeoutError,
  type Lease,
  type StartContext,
  type StopReason,
} from '../src/index.js';

// Model-based property test: random interleavings of acquire (plain, with a signal, with a timeout,
// with both, with an already-aborted signal), release, abort, timeouts, `lost`, evict and close,
// against a factory whose starts and stops are sometimes synchronous, sometimes a few microtasks
// late, sometimes held until the test settles them, sometimes failing, and stops that hang until
// stopTimeoutMs. Fake time (setTimeout, Date): idle timers of 0 ms to Infinity, and long sleeps.
// CI runs a fixed list of seeds plus one random seed, printed on failure; FC_SEED (and FC_PATH)
// replay one.

// Three keys, each with three spellings, normalized asynchronously (a different number of
// microtasks per spelling), so one key arrives under several raw keys at several times.
const KEYS = ['k0', 'k1', 'k2'];
const SPELLINGS = KEYS.map((key) => [key, key.toUpperCase(), ` ${key} `]);
const normalizeKey = async (raw: unknown): Promise<string> => {
  const spelling = String(raw);
  for (let i = 0; i < spelling.length % 3; i++) await Promise.resolve();
  return spelling.trim().toLowerCase();
};

type StartBehavior = 'sync' | 'syncThrow' | 'micro' | 'microThrow' | 'manual' | 'abortable';
type StopBehavior = 'sync' | 'syncThrow' | 'micro' | 'microThrow' | 'manual' | 'hang';
type Mode = 'plain' | 'signal' | 'timeout' | 'both' | 'preaborted';

type Op =
  | { readonly t: 'acquire'; readonly key: number; readonly spelling: number; readonly mode: Mode; readonly timeoutMs: number }
  | { readonly t: 'release'; readonly i: number }
  | { readonly t: 'abort'; readonly i: number }
  // `follow`: also acquire the start's key, n microtasks after settling it (n < 0: |n| before), to land
  // the acquire in the racy window around a start's end (the pool's normalization takes a few microtasks).
  | { readonly t: 'settleStart'; readonly i: number; readonly ok: boolean; readonly follow: number | null }
  | { readonly t: 'settleStop'; readonly i: number; readonly ok: boolean }
  | { readonly t: 'lost'; readonly i: number }
  | { readonly t: 'evict'; readonly key: number }
  | { readonly t: 'close' }
  | { readonly t: 'micro'; readonly n: number }
  | { readonly t: 'flush' }
  | { readonly t: 'sleep'; readonly ms: number };

interface Scenario {
  readonly starts: readonly StartBehavior[];
  readonly stops: readonly StopBehavior[];
  readonly idleTimeoutMs: number;
  readonly maxResources: number;
  readonly stopTimeoutMs: number;
  readonly ops: readonly Op[];
}

interface Res {
  readonly id: number;
  readonly key: string;
  readonly context: StartContext;
  stopCalls: number;
  stopReason: StopReason | undefined;
  stopDone: boolean;
  /** Ends its stop in the model: when the stop ends, or when the pool gives up on it (stopTimeoutMs). */
  finishStop?: () => void;
}

interface Tracked<T> {
  readonly promise: Promise<T>;
  settled: boolean;
  value?: T;
  error?: unknown;
  rejected: boolean;
}

interface Acq extends Tracked<Lease<Res>> {
  readonly key: number;
  readonly mode: Mode;
  readonly timeoutMs: number;
  readonly controller: AbortController | undefined;
  readonly reason: Error;
  readonly afterClose: boolean;
  released: Tracked<void> | undefined;
}

function track<T, X extends object>(promise: Promise<T>, extra: X): Tracked<T> & X {
  const t = { promise, settled: false, rejected: false, ...extra } as Tracked<T> & X;
  promise.then(
    (value) => {
      t.settled = true;
      t.value = value;
    },
    (error: unknown) => {
      t.settled = true;
      t.rejected = true;
      t.error = error;
    },
  );
  return t;
}

const microtasks = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

/** Lets promise jobs and the thread-pool work (realpath) run; one event-loop turn per round. */
async function turn(): Promise<void> {
  await access('.');
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Polls (without advancing time on purpose) until `condition` holds; bounded, so a hang fails. */
async function eventually(condition: () => boolean, turns = 300): Promise<boolean> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return true;
    await turn();
  }
  return condition();
}

async function run(scenario: Scenario): Promise<void> {
  const violations: string[] = [];
  const fail = (message: string): void => {
    violations.push(message);
  };
  const resources: Res[] = [];
  const contexts: StartContext[] = [];
  const resourceOf = new Map<StartContext, Res>();
  const busy = new Map<string, number>(); // started (or starting) and not yet stopped, per key
  const pendingStarts: Array<{ key: string; resolve: () => void; reject: () => void }> = [];
  const pendingStops: Array<{ key: string; resolve: () => void; reject: () => void; giveUp: () => void }> = [];
  // Stops that never end: the pool gives up after stopTimeoutMs and reports StopTimeoutError.
  const hungStops = new Map<string, Array<() => void>>();
  // When each resource's last lease was released (fake time), to check the idle timer.
  const idleSince = new Map<Res, number>();
  const onErrors: unknown[] = [];
  const stopError = new Error('stop failed (fake)');
  let startCalls = 0;
  let stopCalls = 0;
  let startOk = 0;
  let startFail = 0;
  let stopDone = 0;

  const start = (key: string, context: StartContext): Res | Promise<Res> => {
    if ((busy.get(key) ?? 0) !== 0) fail(`start of ${key} while another resource of it is starting or up`);
    busy.set(key, (busy.get(key) ?? 0) + 1);
    contexts.push(context);
    const behavior = scenario.starts[startCalls++ % scenario.starts.length]!;
    const resource: Res = { id: startCalls, key, context, stopCalls: 0, stopReason: undefined, stopDone: false };
    const succeed = (): Res => {
      startOk++;
      resourceOf.set(context, resource);
      resources.push(resource);
      return resource;
    };
    const failed = (): Error => {
      startFail++;
      busy.set(key, busy.get(key)! - 1);
      return new Error(`start failed (fake ${behavior})`);
    };
    switch (behavior) {
      case 'sync':
        return succeed();
      case 'syncThrow':
        throw failed();
      case 'micro':
        return microtasks(3).then(succeed);
      case 'microThrow':
        return microtasks(3).then(() => Promise.reject(failed()));
      case 'manual':
      case 'abortable':
        return new Promise<Res>((resolve, reject) => {
          let done = false;
          const slot = {
            key,
            resolve: () => {
              if (done) return;
              done = true;
              resolve(succeed());
            },
            reject: () => {
              if (done) return;
              done = true;
              reject(failed());
            },
          };
          pendingStarts.push(slot);
          if (behavior === 'abortable') {
            const onAbort = (): void => {
              const at = pendingStarts.indexOf(slot);
              if (at !== -1) pendingStarts.splice(at, 1);
              slot.reject();
            };
            if (context.signal.aborted) onAbort();
            else context.signal.addEventListener('abort', onAbort, { once: true });
          }
        });
    }
  };

  const stop = (resource: Res, { key, reason }: { key: string; reason: StopReason }): void | Promise<void> => {
    if (!resources.includes(resource)) fail(`stop of a resource that never started: #${resource.id}`);
    if (key !== resource.key) fail(`stop of #${resource.id} with key ${key}, started as ${resource.key}`);
    resource.stopCalls++;
    resource.stopReason = reason;
    if (reason === 'idle' && scenario.idleTimeoutMs > 0) {
      const since = idleSince.get(resource);
      if (since === undefined || Date.now() - since < scenario.idleTimeoutMs) {
        fail(`resource #${resource.id} stopped idle ${since === undefined ? 'never released' : `${Date.now() - since} ms after its last release`}, idleTimeoutMs ${scenario.idleTimeoutMs}`);
      }
    }
    if (held().some((a) => a.value!.resource === resource && !a.value!.signal.aborted)) fail(`resource #${resource.id} stopped (${reason}) while a lease holds it`);
    if (resource.stopCalls > 1) fail(`resource #${resource.id} stopped ${resource.stopCalls} times`);
    const behavior = scenario.stops[stopCalls++ % scenario.stops.length]!;
    const finish = (): void => {
      if (resource.stopDone) return; // the pool gave up on it earlier
      stopDone++;
      resource.stopDone = true;
      busy.set(resource.key, busy.get(resource.key)! - 1);
    };
    resource.finishStop = finish;
    switch (behavior) {
      case 'sync':
        return finish();
      case 'syncThrow':
        finish();
        throw stopError;
      case 'micro':
        return microtasks(3).then(finish);
      case 'microThrow':
        return microtasks(3).then(() => {
          finish();
          throw stopError;
        });
      case 'hang':
        return new Promise<void>(() => {
          const list = hungStops.get(key) ?? [];
          list.push(finish);
          hungStops.set(key, list);
        });
      case 'manual':
        return new Promise<void>((resolve, reject) => {
          pendingStops.push({
            key: resource.key,
            giveUp: finish,
            resolve: () => (finish(), resolve()),
            reject: () => (finish(), reject(stopError)),
          });
        });
    }
  };

  const pool = new LeasePool<Res>({
    start,
    stop,
    idleTimeoutMs: scenario.idleTimeoutMs,
    maxResources: scenario.maxResources,
    stopTimeoutMs: scenario.stopTimeoutMs,
    normalizeKey,
    onError: (error, { key }) => {
      onErrors.push(error);
      if (error instanceof StopTimeoutError) {
        // The pool gave up on a stop that hangs, or on one the test still holds.
        // Whichever stop of the key is still under way: hung, held by the test, or a few microtasks
        // from its end when fake time jumped past its timer. From now on the key may start afresh.
        hungStops.get(key)?.shift();
        const at = pendingStops.findIndex((slot) => slot.key === key);
        if (at !== -1) pendingStops.splice(at, 1);
        for (const r of resources) if (r.key === key && r.stopCalls > 0 && !r.stopDone) r.finishStop?.();
      }
    },
  });

  const acqs: Acq[] = [];
  const evicts: Tracked<void>[] = [];
  let closing: Tracked<void> | undefined;

  const held = (): Acq[] => acqs.filter((a) => a.settled && !a.rejected && a.released === undefined);
  const pendingAcqs = (): Acq[] => acqs.filter((a) => !a.settled);

  const checkSync = (where: string): void => {
    const s = pool.stats();
    for (const [name, value] of Object.entries(s)) if (value < 0) fail(`${where}: stats.${name} = ${value} < 0`);
    for (const [key, n] of busy) if (n < 0 || n > 1) fail(`${where}: ${n} live resources of ${key}`);
    for (const a of held()) {
      const lease = a.value!;
      if (lease.key !== KEYS[a.key]) fail(`${where}: lease key ${lease.key} for ${KEYS[a.key]}`);
      if (lease.resource.stopCalls > 0 && !lease.signal.aborted) {
        fail(`${where}: a held lease's resource #${lease.resource.id} was stopped (${lease.resource.stopReason}) without aborting its signal`);
      }
    }
    // Leases of one key whose signal is live share one resource.
    for (const key of KEYS) {
      const live = new Set(held().filter((a) => a.value!.key === key && !a.value!.signal.aborted).map((a) => a.value!.resource.id));
      if (live.size > 1) fail(`${where}: live leases of ${key} on ${live.size} resources`);
    }
  };

  // At rest (promise jobs run, whatever the factory still holds stays held) the pool's gauges match the model.
  const checkAtRest = async (where: string): Promise<void> => {
    const consistent = (): boolean => {
      const s = pool.stats();
      const live = [...busy.values()].reduce((x, y) => x + y, 0);
      const leases = held().filter((a) => !a.value!.resource.stopDone).length;
      return s.resources + s.starting === live && s.leases === leases && s.started === startOk && s.failedStarts === startFail && s.stopped === stopDone;
    };
    if (!(await eventually(consistent))) {
      const s = pool.stats();
      fail(
        `${where}: stats ${JSON.stringify(s)} vs model live=${JSON.stringify([...busy])} held=${held().length} startOk=${startOk} startFail=${startFail} stopDone=${stopDone}`,
      );
    }
    await checkLiveness(where);
  };

  // Liveness at rest (nothing held by the factory): an acquire may be pending only while every
  // resource is up and leased, none of them to its own key, and capacity is full. So no acquire waits
  // for capacity while an idle resource could be evicted, and with idleTimeoutMs 0 nothing is idle.
  const livenessProblems = (): string[] => {
    if (pendingStarts.length > 0 || pendingStops.length > 0 || [...hungStops.values()].some((l) => l.length > 0)) return [];
    const problems: string[] = [];
    const s = pool.stats();
    if (scenario.idleTimeoutMs === 0 && s.idle > 0) problems.push(`${s.idle} idle resources at rest with idleTimeoutMs 0`);
    const live = pool.keys();
    for (const a of pendingAcqs()) {
      const excused = s.resources >= scenario.maxResources && s.idle === 0 && s.starting === 0 && !live.includes(KEYS[a.key]!);
      if (!excused) problems.push(`an acquire of ${KEYS[a.key]} (${a.mode}) is stuck with stats ${JSON.stringify(s)}, live keys ${JSON.stringify(live)}`);
    }
    return problems;
  };
  const checkLiveness = async (where: string): Promise<void> => {
    if (await eventually(() => livenessProblems().length === 0)) return;
    for (const problem of livenessProblems()) fail(`${where}: ${problem}`);
  };

  /** Lets time run out for every hung stop (the pool gives up on each after stopTimeoutMs). */
  const expireHungStops = async (): Promise<void> => {
    if ([...hungStops.values()].some((l) => l.length > 0)) {
      vi.advanceTimersByTime(scenario.stopTimeoutMs);
      await eventually(() => [...hungStops.values()].every((l) => l.length === 0), 50);
    }
  };

  const acquire = (key: number, spelling: number, mode: Mode, timeoutMs: number, where: string): void => {
    const controller = mode === 'signal' || mode === 'both' || mode === 'preaborted' ? new AbortController() : undefined;
    const reason = new Error(`aborted by test at ${where}`);
    if (mode === 'preaborted') controller!.abort(reason);
    const options =
      mode === 'timeout' ? { timeoutMs } : mode === 'both' ? { signal: controller!.signal, timeoutMs } : controller ? { signal: controller.signal } : undefined;
    const promise = pool.acquire(SPELLINGS[key]![spelling % 3], options);
    acqs.push(track(promise, { key, mode, timeoutMs, controller, reason, afterClose: closing !== undefined, released: undefined }));
  };

  for (const [step, op] of scenario.ops.entries()) {
    const where = `step ${step} ${JSON.stringify(op)}`;
    switch (op.t) {
      case 'acquire':
        acquire(op.key, op.spelling, op.mode, op.timeoutMs, where);
        break;
      case 'release': {
        const candidates = held();
        if (candidates.length === 0) break;
        const a = candidates[op.i % candidates.length]!;
        const promise = a.value!.release();
        if (!held().some((other) => other !== a && other.value!.resource === a.value!.resource)) idleSince.set(a.value!.resource, Date.now());
        if (a.value!.release() !== promise) fail(`${where}: release() is not idempotent`);
        a.released = track(promise, {});
        break;
      }
      case 'abort': {
        const candidates = pendingAcqs().filter((a) => a.controller !== undefined && !a.controller.signal.aborted);
        if (candidates.length === 0) break;
        const a = candidates[op.i % candidates.length]!;
        a.controller!.abort(a.reason);
        // "Aborting it rejects this acquire at once": no start, stop or timer needed.
        if (!(await eventually(() => a.settled, 50))) fail(`${where}: an aborted acquire did not settle`);
        break;
      }
      case 'settleStart': {
        if (pendingStarts.length === 0) break;
        const [slot] = pendingStarts.splice(op.i % pendingStarts.length, 1);
        if (op.follow !== null && op.follow < 0) {
          acquire(KEYS.indexOf(slot!.key), step, 'plain', 0, where);
          await microtasks(-op.follow);
        }
        if (op.ok) slot!.resolve();
        else slot!.reject();
        if (op.follow !== null && op.follow >= 0) {
          await microtasks(op.follow);
          acquire(KEYS.indexOf(slot!.key), step, 'plain', 0, where);
        }
        break;
      }
      case 'settleStop': {
        if (pendingStops.length === 0) break;
        const [slot] = pendingStops.splice(op.i % pendingStops.length, 1);
        if (op.ok) slot!.resolve();
        else slot!.reject();
        break;
      }
      case 'lost': {
        if (contexts.length === 0) break;
        // Any context, also of a resource that is long gone: a late `lost` must be harmless.
        const context = contexts[op.i % contexts.length]!;
        context.lost(new Error(`lost at ${where}`));
        // A started resource reported lost goes: its leases' signals abort now, and it is stopped.
        const resource = resourceOf.get(context);
        if (resource === undefined) break;
        for (const a of held()) {
          if (a.value!.resource === resource && !a.value!.signal.aborted) fail(`${where}: a lease of lost resource #${resource.id} has a live signal`);
        }
        if (!(await eventually(() => resource.stopCalls > 0, 50))) fail(`${where}: lost resource #${resource.id} was not stopped`);
        break;
      }
      case 'evict':
        evicts.push(track(pool.evict(KEYS[op.key]), {}));
        break;
      case 'close': {
        const promise = pool.close();
        if (closing !== undefined && closing.promise !== promise) fail(`${where}: close() returned a new promise`);
        closing ??= track(promise, {});
        break;
      }
      case 'micro':
        await microtasks(op.n);
        break;
      case 'flush':
        await checkAtRest(where);
        break;
      case 'sleep': {
        const due = pendingAcqs().filter((a) => (a.mode === 'timeout' || a.mode === 'both') && a.timeoutMs <= op.ms);
        vi.advanceTimersByTime(op.ms);
        if (!(await eventually(() => due.every((a) => a.settled), 50))) fail(`${where}: an acquire outlived its timeoutMs`);
        break;
      }
    }
    checkSync(where);
    if (violations.length > 0) break;
  }

  // Before the final close, which would reject anything still waiting: settle whatever the factory
  // holds and release every lease, again and again; once the last lease is released every waiter
  // must have settled. A closed pool is left to the close below.
  if (closing === undefined && violations.length === 0) {
    for (let round = 0; round < 50; round++) {
      for (const [i, slot] of pendingStarts.splice(0).entries()) (i % 2 === 0 ? slot.resolve : slot.reject)();
      for (const [i, slot] of pendingStops.splice(0).entries()) (i % 3 === 2 ? slot.reject : slot.resolve)();
      await expireHungStops();
      for (const a of held()) {
        if (!held().some((other) => other !== a && other.value!.resource === a.value!.resource)) idleSince.set(a.value!.resource, Date.now());
        a.released = track(a.value!.release(), {});
      }
      await eventually(() => pendingStarts.length > 0 || pendingStops.length > 0 || held().length > 0 || pendingAcqs().length === 0, 20);
      if (held().length === 0 && pendingStarts.length === 0 && pendingStops.length === 0 && pendingAcqs().length === 0) break;
    }
    await eventually(() => pendingAcqs().length === 0, 50);
    if (pendingAcqs().length > 0) fail(`${pendingAcqs().length} acquires still waiting after the last lease was released, stats ${JSON.stringify(pool.stats())}`);
    await checkLiveness('after the last release');
  }

  // Close, and keep settling whatever the factory still holds until close resolves (bounded).
  const closePromise = pool.close();
  closing ??= track(closePromise, {});
  if (closing.promise !== closePromise) fail('close() returned a new promise');
  for (let round = 0; round < 200 && !closing.settled; round++) {
    for (const [i, slot] of pendingStarts.splice(0).entries()) (i % 2 === 0 ? slot.resolve : slot.reject)();
    for (const [i, slot] of pendingStops.splice(0).entries()) (i % 3 === 2 ? slot.reject : slot.resolve)();
    await expireHungStops();
    await turn();
  }
  if (!closing.settled) fail('close() did not resolve');
  if (closing.rejected) fail(`close() rejected: ${String(closing.error)}`);
  checkSync('after close');

  // Releasing what is still held after close is harmless and settles.
  for (const a of held()) {
    if (!a.value!.signal.aborted) fail(`a lease held through close() has a live signal (#${a.value!.resource.id})`);
    a.released = track(a.value!.release(), {});
  }
  const everything = (): boolean =>
    acqs.every((a) => a.settled && (a.released === undefined || a.released.settled)) && evicts.every((e) => e.settled);
  if (!(await eventually(everything))) fail('a promise is still pending after close()');

  for (const [i, a] of acqs.entries()) {
    if (a.released?.rejected) fail(`release of acquire ${i} rejected: ${String(a.released.error)}`);
    if (!a.rejected) {
      if (a.afterClose) fail(`acquire ${i} made after close() got a lease`);
      if (a.mode === 'preaborted') fail(`acquire ${i} with an aborted signal got a lease`);
      continue;
    }
    const e = a.error;
    const allowed =
      e instanceof PoolClosedError ||
      e instanceof StartError ||
      ((a.mode === 'timeout' || a.mode === 'both') && e instanceof AcquireTimeoutError && e.timeoutMs === a.timeoutMs) ||
      ((a.mode === 'signal' || a.mode === 'both' || a.mode === 'preaborted') && e === a.reason);
    if (!allowed) fail(`acquire ${i} (${a.mode}) rejected with ${String(e)}`);
    if (a.afterClose && !(e instanceof PoolClosedError) && !(a.mode === 'preaborted' && e === a.reason)) {
      fail(`acquire ${i} made after close() rejected with ${String(e)}, not PoolClosedError`);
    }
    // A closed pool refuses before it looks at the signal; otherwise an aborted signal wins.
    if (a.mode === 'preaborted' && e !== a.reason && !(a.afterClose && e instanceof PoolClosedError)) fail(`acquire ${i} with an aborted signal rejected with ${String(e)}`);
  }
  for (const [i, e] of evicts.entries()) if (e.rejected) fail(`evict ${i} rejected: ${String(e.error)}`);
  for (const r of resources) {
    if (r.stopCalls !== 1 || !r.stopDone) fail(`resource #${r.id} of ${r.key}: ${r.stopCalls} stops, done=${r.stopDone} after close()`);
  }
  for (const [key, n] of busy) if (n !== 0) fail(`${key}: ${n} live resources after close()`);
  for (const e of onErrors) if (e !== stopError && !(e instanceof StopTimeoutError)) fail(`onError got ${String(e)}`);
  if (onErrors.length > stopCalls) fail(`onError called ${onErrors.length} times for ${stopCalls} stops`);
  const s = pool.stats();
  expect({ violations, stats: s }).toEqual({
    violations: [],
    stats: expect.objectContaining({ resources: 0, starting: 0, leases: 0, idle: 0, waiting: 0, started: startOk, stopped: stopDone, failedStarts: startFail }),
  });
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      t: fc.constant('acquire' as const),
      key: fc.nat(2),
      spelling: fc.nat(2),
      mode: fc.constantFrom<Mode>('plain', 'plain', 'signal', 'timeout', 'both', 'preaborted'),
      timeoutMs: fc.constantFrom(0, 1, 3, 50, 1000),
    }),
  },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('release' as const), i: fc.nat(20) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('abort' as const), i: fc.nat(20) }) },
  {
    weight: 5,
    arbitrary: fc.record({ t: fc.constant('settleStart' as const), i: fc.nat(5), ok: fc.boolean(), follow: fc.option(fc.integer({ min: -5, max: 2 }), { freq: 4 }) }),
  },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('settleStop' as const), i: fc.nat(5), ok: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('lost' as const), i: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('evict' as const), key: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'close' as const }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('micro' as const), n: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 5, arbitrary: fc.constant({ t: 'flush' as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('sleep' as const), ms: fc.constantFrom(0, 1, 2, 4, 50, 1000, 60_000) }) },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  starts: fc.array(fc.constantFrom<StartBehavior>('sync', 'sync', 'micro', 'micro', 'manual', 'manual', 'abortable', 'syncThrow', 'microThrow'), { minLength: 1, maxLength: 8 }),
  stops: fc.array(fc.constantFrom<StopBehavior>('sync', 'syncThrow', 'micro', 'microThrow', 'manual', 'hang'), { minLength: 1, maxLength: 8 }),
  idleTimeoutMs: fc.constantFrom(0, 0, 1, 3, 1000, 60_000, Infinity, Infinity),
  maxResources: fc.constantFrom(Infinity, 1, 1, 2, 2),
  stopTimeoutMs: fc.constantFrom(5, 100, 30_000),
  ops: fc.array(opArb, { minLength: 1, maxLength: 60, size: 'max' }),
});

// Seeds that CI always runs (259216375 left an acquire stuck forever before the capacity queue was
// pumped on every transition), then one random seed, printed by fast-check when it fails.
const FIXED_SEEDS = [259216375, 1234567, 1, 42, 20261202, 987654321];
const replay = process.env['FC_SEED'];
const quick = process.env['LEASEHOLD_MUTATION'] === '1'; // under Stryker: the fixed seeds, fewer runs
const numRuns = Number(process.env['FC_RUNS'] ?? (quick ? 30 : 150));
// FC_EXAMPLE: a counterexample as fast-check prints it (the scenario object), tried first.
const example = process.env['FC_EXAMPLE'];
const examples: Array<[Scenario]> =
  example === undefined ? [] : [[JSON.parse(example.replaceAll('Number.POSITIVE_INFINITY', '"Infinity"'), (_k, v: unknown) => (v === 'Infinity' ? Infinity : v)) as Scenario]];
const seeds: Array<number | undefined> = replay !== undefined ? [Number(replay)] : quick ? FIXED_SEEDS.slice(0, 2) : [...FIXED_SEEDS, undefined];

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('LeasePool against a reference model', () => {
  for (const seed of seeds) {
    it(`keeps its invariants under random acquire/release/abort/timeout/lost/evict/close sequences (seed ${seed ?? 'random'})`, async () => {
      const path = process.env['FC_PATH'];
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (scenario) => {
          await run(scenario);
        }),
        { numRuns, ...(seed === undefined ? {} : { seed }), ...(replay !== undefined && path !== undefined ? { path, endOnFailure: true } : {}), examples },
      );
    }, quick ? 60_000 : 300_000);
  }
});
