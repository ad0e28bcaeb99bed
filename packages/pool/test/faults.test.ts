// Fault injection for the core, one test per fault of the proof issue, each ending with the same
// invariants: every promise settled, every started resource stopped exactly once, nothing left.

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AcquireTimeoutError, LeasePool, PoolClosedError, StartError, StopTimeoutError } from '../src/index.js';
import { fakeFactory, flush, until, type FakeResource } from './support/fake-factory.js';
import { scratchDir } from './support/scratch-dir.js';

const dir = scratchDir('leasehold-faults-');
const a = join(dir, 'a.db');

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Tracks whether each promise has settled, so a hang is an assertion failure, not a timeout. */
function settledFlags(promises: Promise<unknown>[]): () => boolean[] {
  const flags = promises.map(() => false);
  promises.forEach((p, i) => void p.then(() => (flags[i] = true), () => (flags[i] = true)));
  return () => flags;
}

/** The invariants after a fault and a close: every resource that came up was stopped, exactly once. */
async function expectQuiescent(pool: LeasePool<FakeResource>, f: ReturnType<typeof fakeFactory>, promises: Promise<unknown>[]): Promise<void> {
  const flags = settledFlags(promises);
  await pool.close();
  await flush();
  expect(flags().every(Boolean)).toBe(true);
  expect(pool.stats()).toMatchObject({ resources: 0, starting: 0, leases: 0, waiting: 0 });
  const stopped = f.log.filter((l) => l.startsWith('stop')).map((l) => l.split(' ')[1]);
  // Seen from the resources that came up, so one that was never stopped fails too.
  for (const resource of f.resources) {
    const name = `${resource.key.slice(resource.key.lastIndexOf('/') + 1)}#${resource.generation}`;
    expect({ name, stopped: resource.stopped, stops: stopped.filter((s) => s === name).length }).toEqual({ name, stopped: true, stops: 1 });
  }
  // And nothing was stopped that never came up (a failed start has nothing to stop).
  expect(stopped).toHaveLength(f.resources.length);
}

describe('faults in start', () => {
  it('start throws: every waiter gets one StartError; the next acquire starts afresh', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const waiters = [pool.acquire(a), pool.acquire(a)];
    await f.rejectNext(new Error('boom'));
    const errors = await Promise.all(waiters.map((w) => w.catch((e: unknown) => e)));
    expect(errors[0]).toBeInstanceOf(StartError);
    expect(errors[1]).toBe(errors[0]);
    const next = pool.acquire(a);
    await f.resolveNext();
    await (await next).release();
    await expectQuiescent(pool, f, [...waiters, next]);
    expect(f.log).toEqual(['start a.db#1', 'start a.db#2', 'stop a.db#2 idle']);
  });

  it('start hangs: timeoutMs rejects the acquire, the start is aborted, a resource that still arrives is stopped', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const acquire = pool.acquire(a, { timeoutMs: 1000 });
    await until(() => f.pending.length > 0, 'the start');
    const { signal } = f.pending[0]!.context;
    vi.advanceTimersByTime(1000);
    await expect(acquire).rejects.toBeInstanceOf(AcquireTimeoutError);
    expect(signal.aborted).toBe(true);
    await f.resolveNext();
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 abandoned']);
    await expectQuiescent(pool, f, [acquire]);
  });

  it('start resolves after an abort: the acquire rejected at once; the late resource is stopped', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const controller = new AbortController();
    const acquire = pool.acquire(a, { signal: controller.signal });
    await until(() => f.pending.length > 0, 'the start');
    controller.abort(new Error('client went away'));
    await expect(acquire).rejects.toThrow('client went away');
    await f.resolveNext();
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 abandoned']);
    await expectQuiescent(pool, f, [acquire]);
  });

  it('lost during start: the waiters get a StartError and the resource is stopped when it arrives', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const acquire = pool.acquire(a);
    await until(() => f.pending.length > 0, 'the start');
    f.pending[0]!.context.lost(new Error('died while starting'));
    await f.resolveNext();
    await expect(acquire).rejects.toBeInstanceOf(StartError);
    await flush();
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 lost']);
    await expectQuiescent(pool, f, [acquire]);
  });
});

describe('faults in stop', () => {
  it('stop throws: release() still resolves, the error goes to onError, the key can start again', async () => {
    const f = fakeFactory({ auto: true, stopError: new Error('stop failed') });
    const errors: unknown[] = [];
    const pool = new LeasePool({ start: f.start, stop: f.stop, onError: (e) => errors.push(e) });
    const release = (await pool.acquire(a)).release();
    await expect(release).resolves.toBeUndefined();
    expect(errors).toEqual([new Error('stop failed')]);
    const again = await pool.acquire(a);
    expect(again.resource.generation).toBe(2);
    await expectQuiescent(pool, f, [release, again.release()]);
  });

  it('stop hangs: it is given up after stopTimeoutMs with a StopTimeoutError, and release() resolves', async () => {
    const f = fakeFactory({ auto: true, stopHangs: true });
    const errors: unknown[] = [];
    const pool = new LeasePool({ start: f.start, stop: f.stop, stopTimeoutMs: 500, onError: (e) => errors.push(e) });
    const release = (await pool.acquire(a)).release();
    await flush();
    vi.advanceTimersByTime(500);
    await expect(release).resolves.toBeUndefined();
    expect(errors[0]).toBeInstanceOf(StopTimeoutError);
    await expectQuiescent(pool, f, [release]);
  });

  it('lost during stop is ignored: one stop, no second cleanup, no lost count', async () => {
    const f = fakeFactory({ auto: true, stopHangs: true });
    const pool = new LeasePool({ start: f.start, stop: f.stop, stopTimeoutMs: 500, onError: () => {} });
    const lease = await pool.acquire(a);
    const release = lease.release();
    await flush();
    lease.resource.context.lost(new Error('died while stopping'));
    vi.advanceTimersByTime(500);
    await release;
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 idle']);
    expect(pool.stats().lost).toBe(0);
    await expectQuiescent(pool, f, [release]);
  });
});

describe('close during a herd', () => {
  it('close() while a thousand acquires wait on one start settles all of them', async () => {
    const f = fakeFactory();
    const pool = new LeasePool({ start: f.start, stop: f.stop });
    const herd = Array.from({ length: 1000 }, () => pool.acquire(a));
    await until(() => f.pending.length > 0, 'the start');
    const closed = pool.close();
    const outcomes = await Promise.allSettled(herd);
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof PoolClosedError)).toBe(true);
    await f.resolveNext();
    await closed;
    expect(f.log).toEqual(['start a.db#1', 'stop a.db#1 close']);
    await expectQuiescent(pool, f, herd);
  });
});
