import type { Installation } from '../engine.js';
import { cacheDir, cacheVenv, DEFAULT_MILVUS_LITE_VERSION } from './cache-dir.js';
import { MilvusLiteError, MilvusLiteNotFoundError } from '../errors.js';
import { findMilvusLite, type FindMilvusLiteOptions } from './find-milvus-lite.js';
import { installConfig, nativeInstallDir } from './config.js';

/**
 * What Node's permission model (`--permission`, `--experimental-permission` before Node 22) forbids
 * of leasehold's cache `dir`, where milvus-lite is found and installed (read and write), with the
 * flags that allow it; undefined when the model is off or allows both.
 */
function cachePermissionProblem(dir: string): string | undefined {
  const permission = (process as { permission?: { has(scope: string, reference?: string): boolean } }).permission;
  if (permission === undefined) return undefined;
  const missing = (['read', 'write'] as const).filter((access) => !permission.has(`fs.${access}`, dir));
  if (missing.length === 0) return undefined;
  return `Node's permission model forbids ${missing.map((access) => (access === 'read' ? 'reading' : 'writing')).join(' and ')} leasehold's cache ${dir}, where it is found and installed: run with ${missing.map((access) => `--allow-fs-${access}=${dir}`).join(' ')} (or give the binary: MILVUS_LITE_BIN)`;
}

/**
 * `findMilvusLite`, and when nothing is found, installs milvus-lite into leasehold's cache first (as
 * mongodb-memory-server downloads its binary on first use): the native engine from its wheel (no
 * Python), the python engine into a venv. A one-line notice on stderr says what, from where and
 * where to; a progress bar follows on a TTY. `install: false` or `LEASEHOLD_NO_INSTALL=1` keep the
 * `MilvusLiteNotFoundError` instead.
 */
export async function findOrInstall(options: FindMilvusLiteOptions & { readonly install?: boolean }): Promise<Installation> {
  try {
    return await findMilvusLite(options);
  } catch (error) {
    const env = options.env ?? process.env;
    if (!(error instanceof MilvusLiteNotFoundError)) throw error;
    if (options.python !== undefined || options.binary !== undefined) throw error; // an explicit choice is not second-guessed
    // Under Node's permission model a cache it may not read looks empty: say that, not "installing"
    // (nor an install lock refused, nor a bare "not found").
    const forbidden = cachePermissionProblem(cacheDir(env));
    if (forbidden !== undefined) throw new MilvusLiteError(`milvus-lite was not found, and ${forbidden}`, { cause: error });
    if (options.install === false || env['LEASEHOLD_NO_INSTALL'] === '1') throw error;
    const version = options.engine === 'python' ? '3.2.2' : DEFAULT_MILVUS_LITE_VERSION;
    const config = installConfig(env);
    const from = version !== DEFAULT_MILVUS_LITE_VERSION ? 'PyPI (pip)' : (config.localWheel ?? config.indexUrl);
    const into = version !== DEFAULT_MILVUS_LITE_VERSION ? cacheVenv(version, env) : nativeInstallDir(version, env);
    process.stderr.write(`leasehold: milvus-lite was not found; installing milvus-lite ${version} from ${from} into ${into} (once; LEASEHOLD_NO_INSTALL=1 turns this off)\n`);
    // The installer (undici, yauzl, the progress bar) loads only when an install is needed.
    const [{ installMilvusLite }, { installReporter }] = await Promise.all([import('./install.js'), import('./progress.js')]);
    const reporter = installReporter(process.stderr);
    try {
      await installMilvusLite({ version, env, ...(process.stderr.isTTY ? { log: reporter.log, onProgress: reporter.onProgress } : {}) });
    } finally {
      reporter.stop();
    }
    return findMilvusLite(options);
  }
}
