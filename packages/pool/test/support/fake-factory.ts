import { access } from 'node:fs/promises';
import type { LeasePoolOptions, StartContext, StopReason } from '../../src/index.js';

/** A resource made by the fake factory: which key and which generation of it. */
export interface FakeResource {
  readonly key: string;
  readonly generation: number;
  stopped: boolean;
  readonly context: StartContext;
}

interface PendingStart {
  readonly key: string;
  readonly context: StartContext;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * A controllable factory for the pool's unit tests: every start waits until the test resolves or
 * rejects it (or resolves at once with `auto`), and every call lands in `log`.
 */
export function fakeFactory(options: { auto?: boolean; stopError?: unknown; stopHangs?: boolean } = {}) {
  const log: string[] = [];
  const pending: PendingStart[] = [];
  const resources: FakeResource[] = [];
  const generations = new Map<string, number>();
  const name = (key: string): string => key.slice(key.lastIndexOf('/') + 1);

  const start: LeasePoolOptions<FakeResource>['start'] = (key, context) => {
    const generation = (generations.get(key) ?? 0) + 1;
    generations.set(key, generation);
    log.push(`start ${name(key)}#${generation}`);
    const resource: FakeResource = { key, generation, stopped: false, context };
    if (options.auto) {
      resources.push(resource);
      return resource;
    }
    return new Promise<FakeResource>((resolve, reject) => {
      pending.push({
        key,
        context,
        resolve: () => {
          resources.push(resource);
          resolve(resource);
        },
        reject,
      });
    });
  };
  const stop = async (resource: FakeResource, { reason }: { reason: StopReason }): Promise<void> => {
    log.push(`stop ${name(resource.key)}#${resource.generation} ${reason}`);
    resource.stopped = true;
    if (options.stopHangs) await new Promise(() => {});
    if (options.stopError !== undefined) throw options.stopError;
  };
  return {
    log,
    pending,
    resources,
    start,
    stop,
    /** Resolves the oldest pending start, once there is one. */
    async resolveNext(): Promise<void> {
      await until(() => pending.length > 0, 'a pending start');
      pending.shift()!.resolve();
    },
    async rejectNext(error: unknown): Promise<void> {
      await until(() => pending.length > 0, 'a pending start');
      pending.shift()!.reject(error);
    },
  };
}

/**
 * Lets queued promise jobs, and this thread's file-system work in the thread pool (a key's realpath),
 * run to the end: event-loop turns until none of this thread's fs requests has been pending for five
 * turns in a row. A fixed number of turns was not enough on a loaded machine: CI (Node 24) once saw
 * an evict's realpath finish after the start it was to doom had resolved.
 */
export async function flush(): Promise<void> {
  let quiet = 0;
  for (let turn = 0; turn < 5000 && quiet < 5; turn++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    quiet = process.getActiveResourcesInfo().some((resource) => resource.startsWith('FSReq')) ? 0 : quiet + 1;
  }
}

/** Waits, without timers, until `condition` holds; fails after a bounded number of event-loop turns. */
export async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 2000; turn++) {
    if (condition()) return;
    await access('.');
  }
  throw new Error(`gave up waiting for ${what}`);
}
