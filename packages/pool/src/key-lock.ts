import { KeyLockedError } from './errors.js';
import type { FilledOptions, StopReason } from './options.js';
import { reportError } from './stop-resource.js';

/** Releases a held key lock. */
export type Unlock = () => Promise<void>;

/**
 * Takes the cross-process lock of a key with proper-lockfile, failing at once with KeyLockedError
 * when another live process holds it. `onCompromised` replaces proper-lockfile's default, which throws.
 */
export async function lockKey(
  key: string,
  options: NonNullable<FilledOptions<unknown>['lock']>,
  onCompromised: (error: Error) => void,
): Promise<Unlock> {
  const lockfilePath = options.lockfilePath?.(key);
  // Imported on the first locked acquire: a pool without `lock` never loads proper-lockfile.
  const { default: lockfile } = await import('proper-lockfile');
  try {
    return await lockfile.lock(key, {
      realpath: false,
      retries: 0,
      stale: options.staleMs,
      ...(options.updateMs === undefined ? {} : { update: options.updateMs }),
      ...(lockfilePath === undefined ? {} : { lockfilePath }),
      onCompromised,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new KeyLockedError(key, `another process holds its lock ${lockfilePath ?? `${key}.lock`}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Lets go of a key's lock, if it holds one. Never rejects: a failure goes to `onError`, except the
 * one a compromised lock gives by design (already reported through `lost`).
 */
export async function unlockKey(unlock: Unlock | undefined, options: Pick<FilledOptions<unknown>, 'onError'>, key: string, reason: StopReason): Promise<void> {
  if (unlock === undefined) return;
  try {
    await unlock();
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code !== 'ERELEASED' && code !== 'ENOTACQUIRED') reportError(options, error, key, reason);
  }
}
