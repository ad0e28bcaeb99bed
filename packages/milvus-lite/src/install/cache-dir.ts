import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * leasehold's own cache directory: `$LEASEHOLD_CACHE_DIR`, else `$XDG_CACHE_HOME/leasehold`,
 * else `~/.cache/leasehold`. `leasehold-milvus install --version X` makes the venv
 * `<cache>/milvus-lite-X` there, and `findMilvusLite()` looks there.
 */
export function cacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env['LEASEHOLD_CACHE_DIR']) return env['LEASEHOLD_CACHE_DIR'];
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg ? xdg : join(homedir(), '.cache'), 'leasehold');
}

/** The cache venv that holds one version of milvus-lite. */
export function cacheVenv(version: string, env?: Readonly<Record<string, string | undefined>>): string {
  return join(cacheDir(env), `milvus-lite-${version}`);
}

/** The milvus-lite version `leasehold-milvus install` installs when none is named. */
export const DEFAULT_MILVUS_LITE_VERSION = '2.5.1';
