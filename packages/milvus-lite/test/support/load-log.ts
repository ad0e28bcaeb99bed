import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { expect, vi } from 'vitest';
import { kLoadPollMaxMs } from '../../src/client/load-collection.js';

/** One event of a load: a progress poll's answer, a global timer of 400 ms (the SDK's sleep), or the call's return. */
export type LoadEvent = { readonly at: number } & ({ readonly kind: 'progress'; readonly progress: number } | { readonly kind: 'sleep 400' } | { readonly kind: 'returned' });

/**
 * Runs `act` (a load, or a quick createCollection) on `client` and resolves the event log: each
 * `getLoadingProgress` answer, each global `setTimeout` of 400 ms (how the SDK's loadCollection
 * sleeps between polls), and the moment `act` returned, with `performance.now()` times.
 */
export async function loadLog(client: MilvusClient, act: () => Promise<unknown>): Promise<LoadEvent[]> {
  const log: LoadEvent[] = [];
  const poll = client.getLoadingProgress.bind(client);
  // An own property on the shared client: both the SDK's loadCollection and leasehold's call it there.
  client.getLoadingProgress = async (...args) => {
    const answer = await poll(...args);
    log.push({ kind: 'progress', progress: Number(answer.progress), at: performance.now() });
    return answer;
  };
  const realSetTimeout = globalThis.setTimeout as (callback: (...args: unknown[]) => void, ms?: number, ...rest: unknown[]) => NodeJS.Timeout;
  const timers = vi.spyOn(globalThis, 'setTimeout');
  timers.mockImplementation(((callback: (...args: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
    if (ms === 400) log.push({ kind: 'sleep 400', at: performance.now() });
    return realSetTimeout(callback, ms, ...rest);
  }) as typeof setTimeout);
  try {
    await act();
    log.push({ kind: 'returned', at: performance.now() });
    return log;
  } finally {
    timers.mockRestore();
    Reflect.deleteProperty(client, 'getLoadingProgress');
  }
}

/** What every load of a client openMilvus built shows: it returns right after the poll that said 100, with no sleep between. */
export function expectReturnedOnceLoaded(log: readonly LoadEvent[]): void {
  const kinds = log.map((event) => (event.kind === 'progress' ? `progress ${event.progress === 100 ? 100 : '<100'}` : event.kind));
  expect(kinds.at(-1)).toBe('returned');
  expect(kinds.at(-2)).toBe('progress 100');
  expect(kinds).not.toContain('sleep 400');
  // The SDK's loadCollection returns ≥ 400 ms after the last poll; this returns at once.
  expect(log.at(-1)!.at - log.at(-2)!.at).toBeLessThan(kLoadPollMaxMs / 4);
}
