import type { Installation } from './engine.js';
import { cacheVenv, DEFAULT_MILVUS_LITE_VERSION } from './cache-dir.js';
import { MilvusLiteNotFoundError } from './errors.js';
import { findMilvusLite, type FindMilvusLiteOptions } from './find-milvus-lite.js';

/**
 * `findMilvusLite`, and when nothing is found, installs milvus-lite into leasehold's cache venv
 * first (as mongodb-memory-server downloads its binary on first use), with a one-line notice on
 * stderr and step lines on a TTY. `install: false` or `LEASEHOLD_NO_INSTALL=1` keep the
 * `MilvusLiteNotFoundError` instead.
 */
export async function findOrInstall(options: FindMilvusLiteOptions & { readonly install?: boolean }): Promise<Installation> {
  try {
    return await findMilvusLite(options);
  } catch (error) {
    const env = options.env ?? process.env;
    if (!(error instanceof MilvusLiteNotFoundError) || options.install === false || env['LEASEHOLD_NO_INSTALL'] === '1') throw error;
    if (options.python !== undefined || options.binary !== undefined) throw error; // an explicit choice is not second-guessed
    const version = options.engine === 'python' ? '3.2.2' : DEFAULT_MILVUS_LITE_VERSION;
    process.stderr.write(`leasehold: milvus-lite was not found; installing milvus-lite ${version} from PyPI into ${cacheVenv(version, env)} (once; LEASEHOLD_NO_INSTALL=1 turns this off)\n`);
    const tty = process.stderr.isTTY === true;
    const { installMilvusLite } = await import('./install.js');
    await installMilvusLite({ version, env, ...(tty ? { log: (line: string) => process.stderr.write(`\r\x1b[K  ${line}…`) } : {}) });
    if (tty) process.stderr.write('\r\x1b[K');
    return findMilvusLite(options);
  }
}
