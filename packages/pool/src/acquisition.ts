import type { Lease } from './lease.js';

/** What `acquire` returns: a promise of the lease that is itself `AsyncDisposable`. */
export type Acquisition<R> = Promise<Lease<R>> & AsyncDisposable;

async function disposeAcquisition(this: Promise<Lease<unknown>>): Promise<void> {
  let lease: Lease<unknown>;
  try {
    lease = await this;
  } catch {
    return; // the caller saw this rejection when it awaited the acquisition
  }
  await lease.release();
}

/** Makes a promise of a lease disposable: disposing it releases the lease once acquired. */
export function asAcquisition<R>(promise: Promise<Lease<R>>): Acquisition<R> {
  const acquisition = promise as Acquisition<R>;
  acquisition[Symbol.asyncDispose] = disposeAcquisition;
  return acquisition;
}
