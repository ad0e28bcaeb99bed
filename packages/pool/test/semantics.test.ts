import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AcquireTimeoutError,
  InvalidKeyError,
  LeasePool,
  LeaseRevokedError,
  PoolClosedError,
  StartError,
  StopTimeoutError,
} from '../src/index.js';
import { fakeFactory, flush, until } from './support/fake-factory.js';
import { scratchDir } from './support/scratch-dir.js';

const dir = scratchDir('leasehold-pool-');
const a = join(dir, 'a.db');
const b = join(dir, 'b.db');
const c = join(dir, 'c.db');

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('semantic 1: concurrent acquires of a cold key call start once and share the resource', () => {
  it('starts once for ten concurrent acquires', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const acquisitions = Array.from({ length: 10 }, () => pool.acquire(a));
    await flush();
    expect(f.log).toEqual(['start a.db#1']);
    expect(pool.stats()).toMatchObject({ starting: 1, waiting: 10, leases: 0 });
    await f.resolveNext();
    const leases = await Promise.all(acquisitions);
    expect(new Set(leases.map((l) => l.resource)).size).toBe(1);
    expect(leases.every((l) => l.key === a)).toBe(true);
    expect(pool.stats()).toMatchObject({ resources: 1, starting: 0, leases: 10, waiting: 0, started: 1 });
    await Promise.all(leases.map((l) => l.release()));
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle']);
  });

  it('shares across spellings of the same path', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start });
    const [x, y] = await Promise.all([pool.acquire(a), pool.acquire(join(dir, '.', 'sub', '..', 'a.db').replace('/sub/..', ''))]);
    expect(x.resource).toBe(y.resource);
    expect(f.log).toEqual(['start a.db#1']);
    await pool.close();
  });
});

describe('semantic 2: a failed start rejects every waiter with one StartError and is not remembered', () => {
  it('rejects all waiters with the same StartError, then retries on the next acquire', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const acquisitions = [pool.acquire(a), pool.acquire(a), pool.acquire(a)];
    await flush();
    const boom = new Error('boom');
    await f.rejectNext(boom);
    const results = await Promise.allSettled(acquisitions);
    const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : undefined));
    expect(reasons[0]).toBeInstanceOf(StartError);
    expect(reasons[0]).toMatchObject({ key: a, cause: boom });
    expect(reasons[1]).toBe(reasons[0]);
    expect(reasons[2]).toBe(reasons[0]);
    expect(pool.stats()).toMatchObject({ failedStarts: 1, resources: 0, starting: 0 });
    const again = pool.acquire(a);
    await flush();
    await f.resolveNext();
    expect((await again).resource.generation).toBe(2);
    expect(f.log).toEqual(['start a.db#1', 'start a.db#2']);
  });
});

describe('semantic 3: never two resources for one key', () => {
  it('an acquire during a stop waits for the stop, then starts afresh', async () => {
    let finishStop!: () => void;
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({
      start: f.start,
      stop: async (r, ctx) => {
        await f.stop(r, ctx);
        await new Promise<void>((resolve) => (finishStop = resolve));
        f.log.push(`stopped ${r.generation}`);
      },
    });
    const first = await pool.acquire(a);
    const releasing = first.release();
    await flush();
    const second = pool.acquire(a);
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle']);
    finishStop();
    await releasing;
    const lease = await second;
    expect(lease.resource.generation).toBe(2);
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle', 'stopped 1', 'start a.db#2']);
  });
});

describe('semantic 4: the last release stops the resource or arms the idle timer', () => {
  it('idleTimeoutMs 0: release() resolves after the stop', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const x = await pool.acquire(a);
    const y = await pool.acquire(a);
    await x.release();
    expect(f.log).toEqual(['start a.db#1']);
    await y.release();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle']);
    expect(x.resource.stopped).toBe(true);
  });

  it('an idle timer stops it later, and a new acquire cancels the timer', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, idleTimeoutMs: 1000 });
    await (await pool.acquire(a)).release();
    vi.advanceTimersByTime(999);
    await flush();
    expect(pool.stats().idle).toBe(1);
    const again = await pool.acquire(a);
    vi.advanceTimersByTime(5000);
    await flush();
    expect(f.log).toEqual(['start a.db#1']);
    await again.release();
    vi.advanceTimersByTime(1000);
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle']);
    expect(pool.stats().resources).toBe(0);
  });

  it('idleTimeoutMs Infinity never stops on its own', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, idleTimeoutMs: Infinity });
    await (await pool.acquire(a)).release();
    vi.advanceTimersByTime(10 ** 9);
    await flush();
    expect(pool.stats()).toMatchObject({ resources: 1, idle: 1 });
    await pool.close();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 close']);
  });

  it('release is idempotent', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const x = await pool.acquire(a);
    const y = await pool.acquire(a);
    const first = x.release();
    expect(x.release()).toBe(first);
    await first;
    expect(x.released).toBe(true);
    expect(pool.stats().leases).toBe(1);
    await y.release();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle']);
  });
});

describe('semantic 5: maxResources stops the LRU idle resource, else waits FIFO', () => {
  it('a cold acquire at capacity stops the least recently used idle resource', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 2, idleTimeoutMs: Infinity });
    await (await pool.acquire(a)).release();
    await (await pool.acquire(b)).release();
    await (await pool.acquire(a)).release(); // a is now more recent than b
    const lease = await pool.acquire(c);
    expect(f.log).toEqual(['start a.db#1', 'start b.db#1', 'stop b.db#1 capacity', 'start c.db#1']);
    expect(pool.keys().sort()).toEqual([a, c]);
    await lease.release();
  });

  it('with every resource leased, cold acquires wait in FIFO order', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 1 });
    const held = await pool.acquire(a);
    const order: string[] = [];
    const forB = pool.acquire(b).then((l) => (order.push('b'), l));
    await flush();
    const forC = pool.acquire(c).then((l) => (order.push('c'), l));
    await flush();
    expect(pool.stats().waiting).toBe(2);
    await held.release();
    const leaseB = await forB;
    expect(order).toEqual(['b']);
    await leaseB.release();
    await (await forC).release();
    expect(order).toEqual(['b', 'c']);
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle', 'start b.db#1', 'stop b.db#1 idle', 'start c.db#1', 'stop c.db#1 idle']);
  });
});

describe('semantic 6: aborted or timed-out acquires reject at once; an abandoned start is stopped', () => {
  it('an aborted acquire rejects with signal.reason at once', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const controller = new AbortController();
    const stays = pool.acquire(a);
    const leaves = pool.acquire(a, { signal: controller.signal });
    await until(() => f.pending.length > 0, 'the start');
    const reason = new Error('user gave up');
    controller.abort(reason);
    await expect(leaves).rejects.toBe(reason);
    expect(f.pending[0]!.context.signal.aborted).toBe(false);
    await f.resolveNext();
    await (await stays).release();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle']);
  });

  it('timeoutMs rejects with AcquireTimeoutError', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const acquisition = pool.acquire(a, { timeoutMs: 50 });
    await flush();
    vi.advanceTimersByTime(50);
    await expect(acquisition).rejects.toBeInstanceOf(AcquireTimeoutError);
  });

  it('when every waiter has left, the start signal aborts and a late resource is stopped as abandoned', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const controller = new AbortController();
    const acquisition = pool.acquire(a, { signal: controller.signal });
    await until(() => f.pending.length > 0, 'the start');
    const startSignal = f.pending[0]!.context.signal;
    controller.abort();
    await expect(acquisition).rejects.toMatchObject({ name: 'AbortError' });
    expect(startSignal.aborted).toBe(true);
    await f.resolveNext();
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 abandoned']);
    expect(pool.stats()).toMatchObject({ resources: 0, starting: 0, leases: 0 });
  });

  it('an already aborted signal rejects before anything starts', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start });
    await expect(pool.acquire(a, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(f.log).toEqual([]);
  });
});

describe('semantic 7: lost() aborts leases, drops the entry, stops it, and the next acquire starts afresh', () => {
  it('runs the whole cycle', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const lease = await pool.acquire(a);
    const died = new Error('server exited with code 137');
    lease.resource.context.lost(died);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toBeInstanceOf(LeaseRevokedError);
    expect(lease.signal.reason).toMatchObject({ reason: 'lost', cause: died });
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 lost']);
    expect(pool.stats()).toMatchObject({ lost: 1, resources: 0 });
    const next = await pool.acquire(a);
    expect(next.resource.generation).toBe(2);
    await lease.release(); // releasing the dead lease does not touch the new resource
    expect(next.resource.stopped).toBe(false);
    await next.release();
  });

  it('lost during start rejects the waiters and stops the resource when it arrives', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const acquisition = pool.acquire(a);
    await until(() => f.pending.length > 0, 'the start');
    f.pending[0]!.context.lost(new Error('crashed while starting'));
    await f.resolveNext();
    await expect(acquisition).rejects.toBeInstanceOf(StartError);
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 lost']);
  });

  it('a late lost() from an old generation is ignored', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const old = await pool.acquire(a);
    await old.release();
    const fresh = await pool.acquire(a);
    old.resource.context.lost('late');
    expect(fresh.signal.aborted).toBe(false);
    expect(pool.stats().lost).toBe(0);
    await fresh.release();
  });
});

describe('semantic 8: keys are normalized paths; bad keys are InvalidKeyError before start', () => {
  it.each([
    ['empty', ''],
    ['not a string', 42],
    ['NUL inside', `${dir}/a\0b.db`],
    ['missing parent directory', join(dir, 'missing', 'x.db')],
  ])('%s', async (_label, key) => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start });
    await expect(pool.acquire(key)).rejects.toBeInstanceOf(InvalidKeyError);
    expect(f.log).toEqual([]);
  });

  it('resolves relative paths and symlinked parents', async () => {
    const { symlinkSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'real'), { recursive: true });
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, idleTimeoutMs: Infinity });
    const viaLink = await pool.acquire(join(dir, 'link', 'x.db'));
    expect(viaLink.key).toBe(join(dir, 'real', 'x.db'));
    const relative = await pool.acquire(join('..', dir.slice(1), 'real', 'x.db').replace(/^\.\.\//, '/'));
    expect(relative.resource).toBe(viaLink.resource);
    await pool.close();
  });
});

describe('semantic 9: a hot acquire touches no filesystem and takes no lock', () => {
  it('does not call normalizeKey or start again for a running key', async () => {
    const f = fakeFactory({ auto: true });
    let normalizations = 0;
    const pool = new LeasePool({
      start: f.start,
      normalizeKey: (key) => {
        normalizations++;
        return String(key);
      },
    });
    const first = await pool.acquire('k');
    for (let i = 0; i < 100; i++) await (await pool.acquire('k')).release();
    expect(normalizations).toBe(1);
    expect(f.log).toEqual(['start k#1']);
    await first.release();
  });

  it('resolves synchronously-ready: the lease is available in the next microtask', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, idleTimeoutMs: Infinity });
    await (await pool.acquire(a)).release();
    let got = false;
    void pool.acquire(a).then((l) => {
      got = true;
      return l.release();
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(got).toBe(true);
    await pool.close();
  });
});

describe('semantic 11: stop errors never reject release() and are reported', () => {
  it('a throwing stop reaches onError, not the caller', async () => {
    const f = fakeFactory({ auto: true, stopError: new Error('stop failed') });
    const errors: unknown[] = [];
    const pool = new LeasePool({ start: f.start, stop: f.stop, onError: (e, ctx) => errors.push([e, ctx]) });
    await expect((await pool.acquire(a)).release()).resolves.toBeUndefined();
    expect(errors).toEqual([[new Error('stop failed'), { key: a, reason: 'idle' }]]);
    expect(pool.stats()).toMatchObject({ stopped: 1, resources: 0 });
  });

  it('a hanging stop is given up after stopTimeoutMs', async () => {
    const f = fakeFactory({ auto: true, stopHangs: true });
    const errors: unknown[] = [];
    const pool = new LeasePool({ start: f.start, stop: f.stop, stopTimeoutMs: 100, onError: (e) => errors.push(e) });
    const releasing = (await pool.acquire(a)).release();
    await flush();
    vi.advanceTimersByTime(100);
    await releasing;
    expect(errors[0]).toBeInstanceOf(StopTimeoutError);
    const next = await pool.acquire(a);
    expect(next.resource.generation).toBe(2);
  });

  it('without onError, a stop error becomes a process warning', async () => {
    const f = fakeFactory({ auto: true, stopError: new Error('stop failed') });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const pool = new LeasePool({ start: f.start, stop: f.stop });
      await (await pool.acquire(a)).release();
      await flush();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.some((w) => w.includes('stop failed') && w.includes(a))).toBe(true);
  });
});

describe('evict and close', () => {
  it('evict stops a leased resource and aborts its leases', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const lease = await pool.acquire(a);
    await pool.evict(a);
    expect(lease.signal.reason).toMatchObject({ reason: 'evict' });
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 evict']);
    await lease.release();
    expect(f.log).toHaveLength(2);
  });

  it('evict during a start rejects the waiters and stops the late resource', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const acquisition = pool.acquire(a);
    await flush();
    const evicting = pool.evict(a);
    await flush();
    await f.resolveNext();
    await expect(acquisition).rejects.toBeInstanceOf(StartError);
    await evicting;
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 evict']);
  });

  it('close rejects waiting acquires, aborts leases, stops everything, and is idempotent', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop, maxResources: 2 });
    const ready = pool.acquire(a);
    await flush();
    await f.resolveNext();
    const lease = await ready;
    const starting = pool.acquire(b);
    await flush();
    const closing = pool.close();
    expect(pool.close()).toBe(closing);
    await expect(starting).rejects.toBeInstanceOf(PoolClosedError);
    expect(lease.signal.reason).toMatchObject({ reason: 'close' });
    await f.resolveNext();
    await closing;
    expect(f.log).toEqual(['start a.db#1', 'start b.db#1', 'stop a.db#1 close', 'stop b.db#1 close']);
    await expect(pool.acquire(a)).rejects.toBeInstanceOf(PoolClosedError);
    expect(pool.stats()).toMatchObject({ resources: 0, starting: 0 });
  });

  it('a start during a stop, an abort during a start and a close during everything settle every promise', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const controller = new AbortController();
    const x = pool.acquire(a);
    const y = pool.acquire(b, { signal: controller.signal });
    // Both starts under way (realpath runs on the thread pool, so no fixed number of turns is enough),
    // then b's only waiter aborts: an abort during a start.
    await until(() => f.pending.length === 2, 'both starts');
    controller.abort();
    f.pending.splice(f.pending.findIndex((p) => p.key === a), 1)[0]!.resolve();
    const leaseX = await x;
    const releasing = leaseX.release();
    const z = pool.acquire(a);
    const closing = pool.close();
    const results = await Promise.allSettled([y, releasing, z]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(PoolClosedError);
    // close() waits for the abandoned start of b to come back, then stops it.
    await f.resolveNext();
    await closing;
    expect(f.log.filter((l) => l.startsWith('stop')).sort()).toEqual(['stop a.db#1 idle', 'stop b.db#1 abandoned']);
  });
});
