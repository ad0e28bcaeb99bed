import { describe, expectTypeOf, it } from 'vitest';
import {
  LeasePool,
  type Acquisition,
  type Lease,
  type LeasePoolStats,
  type StopReason,
  StartError,
  LeasePoolError,
} from '../src/index.js';

describe('public types', () => {
  it('acquire returns a promise of a lease that is also AsyncDisposable', () => {
    const pool = new LeasePool({ start: async () => ({ uri: 'x' }) });
    expectTypeOf(pool.acquire('k')).toEqualTypeOf<Acquisition<{ uri: string }>>();
    expectTypeOf(pool.acquire('k')).toMatchTypeOf<Promise<Lease<{ uri: string }>>>();
    expectTypeOf(pool.acquire('k')).toMatchTypeOf<AsyncDisposable>();
    expectTypeOf<Lease<{ uri: string }>['resource']>().toEqualTypeOf<{ uri: string }>();
    expectTypeOf<Lease<number>['signal']>().toEqualTypeOf<AbortSignal>();
    expectTypeOf(pool.stats()).toEqualTypeOf<LeasePoolStats>();
    expectTypeOf(pool.keys()).toEqualTypeOf<string[]>();
  });

  it('stop reasons and errors', () => {
    expectTypeOf<StopReason>().toEqualTypeOf<'idle' | 'capacity' | 'evict' | 'close' | 'lost' | 'abandoned'>();
    expectTypeOf<StartError>().toMatchTypeOf<LeasePoolError>();
    expectTypeOf<StartError['key']>().toEqualTypeOf<string>();
  });

  it('the resource type is inferred from start', () => {
    const pool = new LeasePool({ start: (key: string) => key.length });
    expectTypeOf(pool).toEqualTypeOf<LeasePool<number>>();
  });
});
