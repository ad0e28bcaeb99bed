import { describe, expect, it } from 'vitest';
import { LeasePool, type LeasePoolOptions } from '../src/index.js';

const start = async (key: string): Promise<string> => key;

describe('bad options throw from the constructor, naming the option and the value', () => {
  it.each<[string, Partial<LeasePoolOptions<string>>, ErrorConstructor, RegExp]>([
    ['missing start', { start: undefined as never }, TypeError, /start must be a function, got undefined/],
    ['start not a function', { start: 'go' as never }, TypeError, /start must be a function, got string/],
    ['stop not a function', { stop: 1 as never }, TypeError, /stop must be a function, got number/],
    ['negative idleTimeoutMs', { idleTimeoutMs: -1 }, RangeError, /idleTimeoutMs must be ≥ 0, got -1/],
    ['NaN idleTimeoutMs', { idleTimeoutMs: Number.NaN }, TypeError, /idleTimeoutMs must be a number, got NaN/],
    ['negative stopTimeoutMs', { stopTimeoutMs: -5 }, RangeError, /stopTimeoutMs must be ≥ 0, got -5/],
    // Node's timers fire after 1 ms past 2^31 - 1 ms: an idle time of 1e99 would stop at once.
    ['idleTimeoutMs past the timer limit', { idleTimeoutMs: 2 ** 31 }, RangeError, /idleTimeoutMs must be at most 2147483647 ms \(Node's timer limit, ~24\.8 days\) or Infinity, got 2147483648/],
    ['idleTimeoutMs 1e99', { idleTimeoutMs: 1e99 }, RangeError, /idleTimeoutMs must be at most 2147483647 ms .* got 1e\+99/],
    ['stopTimeoutMs past the timer limit', { stopTimeoutMs: 2 ** 31 }, RangeError, /stopTimeoutMs must be at most 2147483647 ms/],
    ['maxResources 0', { maxResources: 0 }, RangeError, /maxResources must be an integer ≥ 1 or Infinity, got 0/],
    ['maxResources 1.5', { maxResources: 1.5 }, RangeError, /maxResources must be an integer ≥ 1 or Infinity, got 1.5/],
    ['lock.staleMs too small', { lock: { staleMs: 100 } }, RangeError, /lock.staleMs must be ≥ 2000, got 100/],
    ['normalizeKey not a function', { normalizeKey: {} as never }, TypeError, /normalizeKey must be a function, got object/],
    ['onError not a function', { onError: 'log' as never }, TypeError, /onError must be a function, got string/],
    ['idleTimeoutMs not a number', { idleTimeoutMs: '5' as never }, TypeError, /idleTimeoutMs must be a number, got 5/],
    ['maxResources not a number', { maxResources: '3' as never }, RangeError, /maxResources must be an integer ≥ 1 or Infinity, got 3/],
    ['maxResources NaN', { maxResources: Number.NaN }, RangeError, /maxResources must be an integer ≥ 1 or Infinity, got NaN/],
    ['lock not an object', { lock: 5 as never }, TypeError, /lock must be a boolean or an object, got 5/],
    ['lock null', { lock: null as never }, TypeError, /lock must be a boolean or an object, got null/],
    ['lock.lockfilePath not a function', { lock: { lockfilePath: 'x' as never } }, TypeError, /lock.lockfilePath must be a function, got string/],
    ['lock.appliesTo not a function', { lock: { appliesTo: true as never } }, TypeError, /lock.appliesTo must be a function, got boolean/],
    ['negative lock.updateMs', { lock: { updateMs: -1 } }, RangeError, /lock.updateMs must be ≥ 0, got -1/],
  ])('%s', (_label, options, type, message) => {
    const build = (): LeasePool<string> => new LeasePool<string>({ start, ...options } as LeasePoolOptions<string>);
    expect(build).toThrow(type);
    expect(build).toThrow(message);
  });

  it('the timer limit itself and Infinity are taken', () => {
    expect(() => new LeasePool<string>({ start, idleTimeoutMs: 2 ** 31 - 1, stopTimeoutMs: 2 ** 31 - 1 })).not.toThrow();
    expect(() => new LeasePool<string>({ start, idleTimeoutMs: Infinity, stopTimeoutMs: Infinity })).not.toThrow();
  });

  it('options that are not an object', () => {
    expect(() => new LeasePool(null as never)).toThrow(/options must be an object, got null/);
  });

  it('acquire rejects a negative timeoutMs', async () => {
    const pool = new LeasePool({ start, normalizeKey: String });
    await expect(pool.acquire('k', { timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be ≥ 0, got -1/);
  });

  it('maxResources Infinity, integer values, lock false and lock true are accepted', () => {
    for (const options of [{ maxResources: Infinity }, { maxResources: 1 }, { lock: false }, { lock: true }, { lock: { staleMs: 2000 } }, { idleTimeoutMs: 0, stopTimeoutMs: Infinity }]) {
      expect(() => new LeasePool<string>({ start, ...options })).not.toThrow();
    }
  });

  it('good options are accepted', () => {
    const pool = new LeasePool({ start, idleTimeoutMs: Infinity, maxResources: 3, stopTimeoutMs: 0, lock: { staleMs: 5000 } });
    expect(pool.stats().resources).toBe(0);
  });
});
