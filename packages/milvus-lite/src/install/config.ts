import { join } from 'node:path';
import { cacheDir } from './cache-dir.js';
import { kDefaultIndexUrl } from './wheel-name.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Every environment variable the installer reads, in one place (proxies are read by `http.ts`
 * from the same `env`):
 * - `PIP_INDEX_URL`: the PEP 503 simple index (default PyPI), pip's own variable;
 * - `LEASEHOLD_MILVUS_LITE_WHEEL`: install from this local `.whl` instead (offline machines, CI);
 * - `LEASEHOLD_CACHE_DIR` (see `cacheDir`): where installs go;
 * - `LEASEHOLD_INSTALL_STALL_MS`: how long a download may send nothing (default 30000).
 */
export interface InstallConfig {
  readonly indexUrl: string;
  readonly localWheel: string | undefined;
  readonly stallTimeoutMs: number | undefined;
}

export function installConfig(env: Env): InstallConfig {
  const stall = Number(env['LEASEHOLD_INSTALL_STALL_MS']);
  return {
    indexUrl: env['PIP_INDEX_URL'] || kDefaultIndexUrl,
    localWheel: env['LEASEHOLD_MILVUS_LITE_WHEEL'] || undefined,
    stallTimeoutMs: Number.isFinite(stall) && stall > 0 ? stall : undefined,
  };
}

/** Where the native engine of `version` is installed from its wheel: `<cache>/milvus-lite-native-<version>` (holding `lib/` and `install.json`). */
export function nativeInstallDir(version: string, env?: Env): string {
  return join(cacheDir(env), `milvus-lite-native-${version}`);
}

/** The name prefix of native install directories in the cache. */
export const kNativeDirPrefix = 'milvus-lite-native-';
