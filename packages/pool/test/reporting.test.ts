// The pool's gauges, its defaults, and where errors without a caller go: written against mutants
// that the behavioural suites left alive (see stryker-equivalent.md for the ones that cannot be).

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeasePool, StopTimeoutError } from '../src/index.js';
import { fakeFactory, flush, until } from './support/fake-factory.js';
import { scratchDir } from './support/scratch-dir.js';

const dir = scratchDir('leasehold-reporting-');
const a = join(dir, 'a.db');
const b = join(dir, 'b.db');

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('stats() and keys()', () => {
  it('count starting, ready, idle, leased and stopping resources, and list only keys that are not going', async () => {
    const f = fakeFactory();
    let finishStop!: () => void;
    const pool = new LeasePool({
      start: f.start,
      stop: () => new Promise<void>((resolve) => (finishStop = resolve)),
      idleTimeoutMs: Infinity,
    });
    const acquireA = pool.acquire(a);
    const acquireB = pool.acquire(b);
    // Both keys normalized (realpath, on the thread pool) and both starts called: not a fixed number of turns.
    await until(() => f.pending.length === 2, 'both starts');
    expect(pool.stats()).toEqual({ resources: 0, starting: 2, leases: 0, idle: 0, waiting: 2, started: 0, stopped: 0, failedStarts: 0, lost: 0, leaked: 0 });
    expect(pool.keys().sort()).toEqual([a, b]);
    await f.resolveNext();
    await f.resolveNext();
    const [leaseA, leaseB] = await Promise.all([acquireA, acquireB]);
    await leaseA!.release();
    expect(pool.stats()).toEqual({ resources: 2, starting: 0, leases: 1, idle: 1, waiting: 0, started: 2, stopped: 0, failedStarts: 0, lost: 0, leaked: 0 });
    const evicting = pool.evict(b);
    await flush();
    expect(leaseB!.signal.aborted).toBe(true);
    expect(pool.keys()).toEqual([a]);
    expect(pool.stats()).toMatchObject({ resources: 2, idle: 1, leases: 1 });
    finishStop();
    await evicting;
    expect(pool.stats()).toMatchObject({ resources: 1, stopped: 1 });
    const closing = pool.close();
    await flush();
    finishStop();
    await closing;
    expect(pool.stats()).toMatchObject({ resources: 0, stopped: 2, leases: 0 });
  });
});

describe('defaults', () => {
  it('stopTimeoutMs defaults to 30,000 ms', async () => {
    const f = fakeFactory({ auto: true, stopHangs: true });
    const errors: unknown[] = [];
    const pool = new LeasePool({ start: f.start, stop: f.stop, onError: (error) => errors.push(error) });
    const releasing = (await pool.acquire(a)).release();
    await vi.advanceTimersByTimeAsync(29_999);
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await releasing;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StopTimeoutError);
    expect((errors[0] as StopTimeoutError).key).toBe(a);
    await pool.close();
  });

  it('without stop, a release just forgets the resource', async () => {
    const f = fakeFactory({ auto: true });
    const pool = new LeasePool({ start: f.start });
    await (await pool.acquire(a)).release();
    expect(pool.stats()).toMatchObject({ resources: 0, stopped: 1 });
    await pool.close();
  });
});

describe('errors without a caller', () => {
  it('an onError that throws becomes a process warning, and the stop still completes', async () => {
    const f = fakeFactory({ auto: true, stopError: new Error('stop failed') });
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }): void => void warnings.push(`${warning.code}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const pool = new LeasePool({
        start: f.start,
        stop: f.stop,
        onError: () => {
          throw new Error('handler broke');
        },
      });
      await (await pool.acquire(a)).release();
      await flush();
      expect(warnings).toEqual(['LEASEHOLD_ON_ERROR_THREW: leasehold: onError threw: Error: handler broke']);
      expect(pool.stats()).toMatchObject({ resources: 0, stopped: 1 });
      await pool.close();
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('onError gets the key and the reason of the stop', async () => {
    const f = fakeFactory({ auto: true, stopError: new Error('stop failed') });
    const contexts: unknown[] = [];
    const pool = new LeasePool({ start: f.start, stop: f.stop, onError: (_error, context) => contexts.push(context) });
    await (await pool.acquire(a)).release();
    expect(contexts).toEqual([{ key: a, reason: 'idle' }]);
    await pool.close();
  });
});
