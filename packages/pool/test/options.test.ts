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
    ['maxResources 0', { maxResources: 0 }, RangeError, /maxResources must be an integer ≥ 1 or Infinity, got 0/],
    ['maxResources 1.5', { maxResources: 1.5 }, RangeError, /maxResources must be an integer ≥ 1 or Infinity, got 1.5/],
    ['lock.staleMs too small', { lock: { staleMs: 100 } }, RangeError, /lock.staleMs must be ≥ 2000, got 100/],
    ['normalizeKey not a function', { normalizeKey: {} as never }, TypeError, /normalizeKey must be a function, got object/],
  ])('%s', (_label, options, type, message) => {
    const build = (): LeasePool<string> => new LeasePool<string>({ start, ...options } as LeasePoolOptions<string>);
    expect(build).toThrow(type);
    expect(build).toThrow(message);
  });

  it('options that are not an object', () => {
    expect(() => new LeasePool(null as never)).toThrow(/options must be an object, got null/);
  });

  it('acquire rejects a negative timeoutMs', async () => {
    const pool = new LeasePool({ start, normalizeKey: String });
    await expect(pool.acquire('k', { timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be ≥ 0, got -1/);
  });

  it('good options are accepted', () => {
    const pool = new LeasePool({ start, idleTimeoutMs: Infinity, maxResources: 3, stopTimeoutMs: 0, lock: { staleMs: 5000 } });
    expect(pool.stats().resources).toBe(0);
  });
});
