import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidKeyError } from './errors.js';

/**
 * The default key normalization: `path.resolve`, then the realpath of the file, or of its parent
 * plus the basename when the file does not exist yet. Bad keys get `InvalidKeyError`.
 *
 * @example
 * await normalizePathKey('./data/../app.db'); // '/srv/app/app.db'
 */
export async function normalizePathKey(key: unknown): Promise<string> {
  if (typeof key !== 'string') throw new InvalidKeyError(key, `a key must be a string, got ${typeof key}`);
  if (key === '') throw new InvalidKeyError(key, 'a key must not be empty');
  if (key.includes('\0')) throw new InvalidKeyError(key, 'a key must not contain a NUL character');
  const absolute = resolve(key);
  try {
    return await realpath(absolute);
  } catch (error) {
    if (!isMissing(error)) throw new InvalidKeyError(key, `cannot resolve ${absolute}: ${(error as Error).message}`, { cause: error });
  }
  const parent = dirname(absolute);
  try {
    return join(await realpath(parent), basename(absolute));
  } catch (error) {
    throw new InvalidKeyError(key, `its directory ${parent} does not exist; create it first`, { cause: error });
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT';
}
