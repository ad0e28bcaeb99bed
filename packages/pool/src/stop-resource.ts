import { StopTimeoutError } from './errors.js';
import type { FilledOptions, StopReason } from './options.js';

/**
 * Runs the factory's `stop` on a resource, giving up after `stopTimeoutMs` (`StopTimeoutError`).
 * Never rejects: a failed or hung stop goes to `onError`.
 */
export async function stopResource<R>(options: FilledOptions<R>, resource: R, key: string, reason: StopReason): Promise<void> {
  const { stop, stopTimeoutMs } = options;
  if (stop === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    const stopped = Promise.resolve().then(() => stop(resource, { key, reason }));
    if (stopTimeoutMs === Infinity) await stopped;
    else {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StopTimeoutError(key, stopTimeoutMs)), stopTimeoutMs);
      });
      await Promise.race([stopped, timedOut]);
    }
  } catch (error) {
    reportError(options, error, key, reason);
  } finally {
    clearTimeout(timer);
  }
}

/** Hands an error that has no caller to `onError`; an `onError` that throws becomes a process warning. */
export function reportError(options: Pick<FilledOptions<unknown>, 'onError'>, error: unknown, key: string, reason: StopReason): void {
  try {
    options.onError(error, { key, reason });
  } catch (thrown) {
    process.emitWarning(`leasehold: onError threw: ${String(thrown)}`, { code: 'LEASEHOLD_ON_ERROR_THREW' });
  }
}
