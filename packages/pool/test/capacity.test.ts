// The capacity queue (semantic 5): every transition that frees a slot, or leaves a resource idle and
// so evictable, lets the head of the queue go at once, FIFO. One test per transition, fake clock.
import { EventEmitter } from 'node:events';

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AcquireTimeoutError, LeasePool, PoolClosedError, StartError, type Lease } from '../src/index.js';
import { fakeFactory, flush, until, type FakeResource } from './support/fake-factory.js';
import { scratchDir } from './support/scratch-dir.js';

const dir = scratchDir('leasehold-capacity-');
const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => join(dir, `${name}.db`)) as [string, string, string, string];

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Tracks a promise so a test can assert that it is (not yet) settled. */
function watch<T>(promise: Promise<T>): { readonly settled: boolean; readonly value: T | undefined; readonly error: unknown } {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

describe('capacity: a waiting acquire goes as soon as a slot frees or a resource turns idle', () => {
  for (const idleTimeoutMs of [5000, Infinity]) {
    it(`idleTimeoutMs ${idleTimeoutMs}: b, waiting for capacity, is acquired right after a's release 20 ms later, not after a's idle timer`, async () => {
      const f = fakeFactory({ auto: true });
      const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1, idleTimeoutMs });
      const t0 = Date.now();
      const leaseA = await pool.acquire(a);
      const acquireB = watch(pool.acquire(b));
      await flush();
      expect(acquireB.settled).toBe(false);
      vi.advanceTimersByTime(20);
      await leaseA.release();
      await flush();
      expect(acquireB.settled).toBe(true);
      expect(acquireB.value?.key).toBe(b);
      expect(Date.now() - t0).toBe(20);
      expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 capacity', 'start b.db#1']);
      await pool.close();
    });
  }

  it('a release with idleTimeoutMs 0 stops the resource, and its stop frees the slot', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1 });
    const leaseA = await pool.acquire(a);
    const acquireB = watch(pool.acquire(b));
    await flush();
    await leaseA.release();
    await flush();
    expect(acquireB.value?.key).toBe(b);
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle', 'start b.db#1']);
    await pool.close();
  });

  it('a slow stop holds the slot until it ends: never more than maxResources at once', async () => {
    const f = fakeFactory({ auto: true });
    let finishStop!: () => void;
    const pool = new LeasePool({
      start: f.start,
      stop: (resource: FakeResource, context) => {
        void f.stop(resource, context);
        return new Promise<void>((resolve) => (finishStop = resolve));
      },
      maxResources: 1,
    });
    const leaseA = await pool.acquire(a);
    const acquireB = watch(pool.acquire(b));
    void leaseA.release();
    await flush();
    expect(acquireB.settled).toBe(false);
    expect(pool.stats()).toMatchObject({ resources: 1, waiting: 1 });
    finishStop();
    await flush();
    expect(acquireB.value?.key).toBe(b);
    const closing = pool.close();
    await flush();
    finishStop();
    await closing;
  });

  it('a lost resource frees its slot', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1, idleTimeoutMs: Infinity });
    const leaseA = await pool.acquire(a);
    const acquireB = watch(pool.acquire(b));
    await flush();
    f.resources[0]!.context.lost(new Error('crashed'));
    await flush();
    expect(leaseA.signal.aborted).toBe(true);
    expect(acquireB.value?.key).toBe(b);
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 lost', 'start b.db#1']);
    await pool.close();
  });

  it('a failed start frees its slot', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1, normalizeKey: String }); // a queues before b
    const acquireA = watch(pool.acquire(a));
    const acquireB = watch(pool.acquire(b));
    await f.rejectNext(new Error('boom'));
    await flush();
    expect(acquireA.error).toBeInstanceOf(StartError);
    expect(f.log).toEqual(['start a.db#1', 'start b.db#1']);
    await f.resolveNext();
    await flush();
    expect(acquireB.value?.key).toBe(b);
    await pool.close();
  });

  it('an abandoned start (its only waiter timed out) frees its slot once its resource is stopped', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1, normalizeKey: String }); // a queues before b
    const acquireA = watch(pool.acquire(a, { timeoutMs: 100 }));
    const acquireB = watch(pool.acquire(b));
    await flush();
    vi.advanceTimersByTime(100);
    await flush();
    expect(acquireA.error).toBeInstanceOf(AcquireTimeoutError);
    expect(f.pending[0]!.context.signal.aborted).toBe(true);
    await f.resolveNext(); // a's resource arrives anyway
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 abandoned', 'start b.db#1']);
    await f.resolveNext();
    await flush();
    expect(acquireB.value?.key).toBe(b);
    await pool.close();
  });

  it('evict frees the slot of a leased resource', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1 });
    const leaseA = await pool.acquire(a);
    const acquireB = watch(pool.acquire(b));
    await flush();
    await pool.evict(a);
    await flush();
    expect(leaseA.signal.aborted).toBe(true);
    expect(acquireB.value?.key).toBe(b);
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 evict', 'start b.db#1']);
    await pool.close();
  });

  it('close rejects a waiting acquire at once, before the stops end', async () => {
    const f = fakeFactory({ auto: true, stopHangs: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1, stopTimeoutMs: 1000 });
    await pool.acquire(a);
    const acquireB = watch(pool.acquire(b));
    await flush();
    const closed = watch(pool.close());
    await flush();
    expect(acquireB.error).toBeInstanceOf(PoolClosedError);
    expect(closed.settled).toBe(false);
    expect(pool.stats().waiting).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    expect(closed.settled).toBe(true);
  });

  it('waiters go in FIFO order, one freed slot each', async () => {
    const f = fakeFactory({ auto: true });
    // Synchronous keys: the order of acquires is the order they need capacity in (realpath's
    // thread pool could finish the three normalizations in any order).
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1, normalizeKey: String });
    const leaseA = await pool.acquire(a);
    const waiters = [b, c, d].map((key) => watch(pool.acquire(key)));
    await flush();
    await leaseA.release();
    await flush();
    expect(waiters.map((w) => w.settled)).toEqual([true, false, false]);
    await waiters[0]!.value!.release();
    await flush();
    expect(waiters.map((w) => w.settled)).toEqual([true, true, false]);
    await waiters[1]!.value!.release();
    await flush();
    expect(waiters.map((w) => w.settled)).toEqual([true, true, true]);
    expect(f.log.filter((l) => l.startsWith('start'))).toEqual(['start a.db#1', 'start b.db#1', 'start c.db#1', 'start d.db#1']);
    await pool.close();
  });

  it('a queued waiter that gives up passes its place on', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1 });
    const leaseA = await pool.acquire(a);
    const controller = new AbortController();
    const acquireB = watch(pool.acquire(b, { signal: controller.signal }));
    const acquireC = watch(pool.acquire(c));
    await flush();
    controller.abort(new Error('gave up'));
    await flush();
    expect(acquireB.error).toEqual(new Error('gave up'));
    await leaseA.release();
    await flush();
    expect(acquireC.value?.key).toBe(c);
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle', 'start c.db#1']);
    await pool.close();
  });
});

describe('capacity: a queued waiter whose key started since it queued joins that start', () => {
  it('maxResources 1, normalizeKey String: two queued acquires of b, the second with timeoutMs 500, share b once a is released', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1, normalizeKey: String });
    const acquireA = pool.acquire('a');
    await f.resolveNext();
    const leaseA = await acquireA;
    const first = watch(pool.acquire('b'));
    const second = watch(pool.acquire('b', { timeoutMs: 500 }));
    await flush();
    await leaseA.release();
    await f.resolveNext();
    await flush();
    expect(first.value?.key).toBe('b');
    expect(second.value?.resource).toBe(first.value?.resource);
    expect(pool.stats()).toMatchObject({ resources: 1, leases: 2, waiting: 0 });
    vi.advanceTimersByTime(500);
    expect(second.error).toBeUndefined();
    expect(f.log).toEqual(['start a#1', 'stop a#1 idle', 'start b#1']);
    await pool.close();
  });

  it('a waiter of b behind a waiter of c joins b as soon as b starts, without a slot of its own', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1, normalizeKey: String });
    const acquireA = pool.acquire('a');
    await f.resolveNext();
    const leaseA = await acquireA;
    const firstB = watch(pool.acquire('b'));
    const waitC = watch(pool.acquire('c'));
    const secondB = watch(pool.acquire('b'));
    await flush();
    await leaseA.release();
    await flush();
    expect(pool.stats()).toMatchObject({ starting: 1, waiting: 3 });
    await f.resolveNext();
    await flush();
    expect([firstB.settled, waitC.settled, secondB.settled]).toEqual([true, false, true]);
    expect(secondB.value?.resource).toBe(firstB.value?.resource);
    await firstB.value!.release();
    await secondB.value!.release();
    await f.resolveNext();
    await flush();
    expect(waitC.value?.key).toBe('c');
    await pool.close();
  });

  it('a queued waiter waits while the idle resource it would evict is leased again, and takes the slot the moment it turns idle', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1, idleTimeoutMs: Infinity, normalizeKey: String });
    const leaseA = await pool.acquire('a');
    // Queued for b, then b's turn comes with a leased by someone else again.
    const acquireB = watch(pool.acquire('b'));
    const again = watch(pool.acquire('a'));
    await flush();
    expect(again.value?.key).toBe('a'); // hot: a is up
    await leaseA.release();
    await flush();
    expect(acquireB.settled).toBe(false); // a is still leased by `again`
    const lateA = watch(pool.acquire('a'));
    await again.value!.release();
    await flush();
    expect(lateA.value?.key).toBe('a');
    await lateA.value!.release();
    await flush();
    expect(acquireB.value?.key).toBe('b');
    expect(f.log).toEqual(['start a#1', 'stop a#1 capacity', 'start b#1']);
    await pool.close();
  });

  it('an acquire of a key that is stopping waits for the stop, then queues for a slot like any other', async () => {
    const f = fakeFactory({ auto: true });
    const stops: Array<() => void> = [];
    const pool = new LeasePool({
      start: f.start,
      stop: (resource: FakeResource, context) => {
        void f.stop(resource, context);
        return new Promise<void>((resolve) => stops.push(resolve));
      },
      maxResources: 1,
      idleTimeoutMs: Infinity,
      normalizeKey: String,
    });
    await (await pool.acquire('a')).release();
    const acquireB = watch(pool.acquire('b')); // evicts idle a
    await flush();
    const acquireA = watch(pool.acquire('a')); // a is stopping
    await flush();
    stops.shift()!();
    await flush();
    expect(acquireB.value?.key).toBe('b');
    expect(acquireA.settled).toBe(false);
    await acquireB.value!.release(); // b idle: a's waiter has it stopped
    await flush();
    stops.shift()!();
    await flush();
    expect(acquireA.value?.key).toBe('a');
    expect(f.log).toEqual(['start a#1', 'stop a#1 capacity', 'start b#1', 'stop b#1 capacity', 'start a#2']);
    const leases: Lease<FakeResource>[] = [acquireA.value!];
    await Promise.all(leases.map((l) => l.release()));
    const closing = pool.close();
    await flush();
    stops.shift()?.();
    await closing;
  });
});

describe('the idle timer (semantic 4) runs from the last release only', () => {
  it('a lease taken while the timer runs cancels it: the resource stops idleTimeoutMs after the later release, not at the first timer', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, idleTimeoutMs: 1000 });
    await (await pool.acquire(a)).release(); // t=0: timer for t=1000
    vi.advanceTimersByTime(500);
    const lease = await pool.acquire(a); // t=500: cancels it
    vi.advanceTimersByTime(100);
    await lease.release(); // t=600: timer for t=1600
    vi.advanceTimersByTime(999); // t=1599: past the first timer
    await flush();
    expect(f.resources[0]!.stopped).toBe(false);
    vi.advanceTimersByTime(1); // t=1600
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle']);
    await pool.close();
  });
});

describe('capacity: each waiter has one resource stopped for it, no more', () => {
  it('two queued acquires of one key evict one idle resource, the least recently used, not two', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 2, idleTimeoutMs: Infinity });
    await (await pool.acquire(a)).release();
    await (await pool.acquire(c)).release();
    const first = watch(pool.acquire(b));
    const second = watch(pool.acquire(b));
    await flush();
    expect(second.value?.resource).toBe(first.value?.resource);
    expect(f.log).toEqual(['start a.db#1', 'start c.db#1', 'stop a.db#1 capacity', 'start b.db#1']);
    expect(pool.keys().sort()).toEqual([b, c]);
    await pool.close();
  });

  it('a stop already under way is counted on: the waiter takes its slot and leaves the idle resource up', async () => {
    const f = fakeFactory({ auto: true });
    const stops: Array<() => void> = [];
    const pool = new LeasePool({
      start: f.start,
      stop: (resource: FakeResource, context) => {
        void f.stop(resource, context);
        return new Promise<void>((resolve) => stops.push(resolve));
      },
      maxResources: 2,
      idleTimeoutMs: Infinity,
    });
    await (await pool.acquire(a)).release();
    await (await pool.acquire(c)).release();
    const evicting = pool.evict(a);
    // Once the evict's stop is under way (its key's realpath and b's would otherwise race: CI's
    // mutation run once saw b's first, and b then stopped the idle a for its slot).
    await until(() => f.log.includes('stop a.db#1 evict'), "the evict's stop");
    const acquireB = watch(pool.acquire(b));
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'start c.db#1', 'stop a.db#1 evict']);
    stops.shift()!();
    await evicting;
    await flush();
    expect(acquireB.value?.key).toBe(b);
    expect(f.log).toEqual(['start a.db#1', 'start c.db#1', 'stop a.db#1 evict', 'start b.db#1']);
    const closing = pool.close();
    await flush();
    for (const stop of stops.splice(0)) stop();
    await closing;
  });
});

describe('a settled acquire leaves nothing behind', () => {
  it('no listener on its signal and no timer once it has its lease, or once it gave up', async () => {
    const getEventListeners = (signal: AbortSignal, type: string): unknown[] => EventEmitter.getEventListeners(signal, type);
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop, idleTimeoutMs: Infinity });
    const controller = new AbortController();
    const acquired = pool.acquire(a, { signal: controller.signal, timeoutMs: 1000 });
    const leaving = new AbortController();
    const left = watch(pool.acquire(a, { signal: leaving.signal, timeoutMs: 1000 }));
    await flush();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(2);
    leaving.abort(new Error('left'));
    await flush();
    expect(left.error).toEqual(new Error('left'));
    expect(getEventListeners(leaving.signal, 'abort')).toHaveLength(0);
    await f.resolveNext();
    const lease = await acquired;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    await lease.release();
    await pool.close();
  });
});

describe('revocation', () => {
  it('the first reason sticks, also for a signal first read after a later one', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const lease = await pool.acquire(a);
    f.resources[0]!.context.lost(new Error('crashed'));
    await pool.close();
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toMatchObject({ name: 'LeaseRevokedError', reason: 'lost' });
  });

  it('a start evicted while it runs sees its signal aborted', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const acquireA = watch(pool.acquire(a));
    await flush();
    const signal = f.pending[0]!.context.signal;
    expect(signal.aborted).toBe(false);
    const evicting = pool.evict(a);
    await flush();
    expect(signal.aborted).toBe(true);
    await f.resolveNext();
    await evicting;
    await flush();
    expect(acquireA.error).toBeInstanceOf(StartError);
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 evict']);
    await pool.close();
  });
});

describe('stopTimeoutMs: Infinity', () => {
  it('waits for a slow stop without reporting it (no 1 ms timer in disguise)', async () => {
    const errors: unknown[] = [];
    let finish!: () => void;
    const pool = new LeasePool({
      start: () => ({}),
      stop: () => new Promise<void>((resolve) => (finish = resolve)),
      stopTimeoutMs: Infinity,
      normalizeKey: String,
      onError: (error) => errors.push(error),
    });
    const releasing = watch((await pool.acquire('k')).release());
    await vi.advanceTimersByTimeAsync(60_000);
    expect(releasing.settled).toBe(false);
    finish();
    await flush();
    expect(releasing.settled).toBe(true);
    expect(errors).toEqual([]);
    await pool.close();
  });
});

describe('maxIdle: at most this many idle resources wait out idleTimeoutMs', () => {
  it('a release that leaves one idle too many stops the least recently used idle one at once; a re-acquired one is not idle', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, idleTimeoutMs: 30_000, maxIdle: 2 });
    const [la, lb, lc, ld] = [await pool.acquire(a), await pool.acquire(b), await pool.acquire(c), await pool.acquire(d)];
    await la.release();
    await lb.release();
    expect(pool.stats()).toMatchObject({ resources: 4, idle: 2 });
    // a is used again (and released): b is now the least recently used idle one.
    await (await pool.acquire(a)).release();
    await lc.release();
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'start b.db#1', 'start c.db#1', 'start d.db#1', 'stop b.db#1 capacity']);
    expect(pool.stats()).toMatchObject({ resources: 3, idle: 2, leases: 1 });
    await ld.release();
    await flush();
    expect(f.log.slice(5)).toEqual(['stop c.db#1 capacity']);
    // The rest wait out their idle timer.
    vi.advanceTimersByTime(30_000);
    await flush();
    expect(pool.stats().resources).toBe(0);
    await pool.close();
  });

  it('maxIdle 0 with an idle time stops at the last release; a bad maxIdle is a RangeError naming it', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, idleTimeoutMs: 30_000, maxIdle: 0 });
    await (await pool.acquire(a)).release();
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 capacity']);
    await pool.close();
    for (const maxIdle of [-1, 1.5, Number.NaN, '2' as unknown as number]) {
      expect(() => new LeasePool({ start: f.start, maxIdle })).toThrow(RangeError);
      expect(() => new LeasePool({ start: f.start, maxIdle })).toThrow(/maxIdle/);
    }
  });
});
