import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheDir, cacheVenv, DEFAULT_MILVUS_LITE_VERSION } from './cache-dir.js';
import { MilvusLiteError } from './errors.js';

/** Options of `installMilvusLite`. */
export interface InstallOptions {
  /** The milvus-lite version; default 2.5.1 (the native engine). 3.x also gets pymilvus. */
  readonly version?: string;
  /** The Python that creates the venv; default `python3`. */
  readonly python?: string;
  /** Progress lines; default none. */
  readonly log?: (line: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Creates leasehold's cache venv `<cache>/milvus-lite-<version>` and installs milvus-lite into it
 * from PyPI (where `findMilvusLite` looks). Idempotent. If the default 2.5.1 will not install, falls
 * back to the newest 2.4.x. Resolves the venv's directory.
 */
export async function installMilvusLite(options: InstallOptions = {}): Promise<string> {
  const log = options.log ?? (() => {});
  const env = options.env ?? process.env;
  const version = options.version ?? DEFAULT_MILVUS_LITE_VERSION;
  if (!/^\d+(\.\d+){0,2}([a-z0-9.]*)$/i.test(version)) throw new TypeError(`version must look like 2.5.1, got ${JSON.stringify(version)}`);
  const attempt = async (spec: string, venv: string): Promise<void> => {
    const python = join(venv, 'bin', 'python');
    if (!existsSync(python)) {
      await mkdir(cacheDir(env), { recursive: true });
      log(`creating ${venv}`);
      await run(options.python ?? 'python3', ['-m', 'venv', venv]);
    }
    const packages = [spec, ...(Number.parseInt(version, 10) >= 3 ? ['pymilvus'] : [])];
    log(`pip install ${packages.join(' ')}`);
    await run(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', ...packages]);
  };
  const venv = cacheVenv(version, env);
  try {
    await attempt(`milvus-lite==${version}`, venv);
    return venv;
  } catch (error) {
    if (options.version !== undefined) throw error;
    log(`milvus-lite ${version} did not install (${(error as Error).message.split('\n')[0]}); trying the newest 2.4.x`);
    const fallback = cacheVenv('2.4', env);
    await attempt('milvus-lite>=2.4,<2.5', fallback);
    return fallback;
  }
}

async function run(file: string, args: string[]): Promise<void> {
  const result = await execa(file, args, { reject: false, all: true });
  if (result.exitCode !== 0) {
    throw new MilvusLiteError(`${file} ${args.join(' ')} failed (${result.exitCode === undefined ? result.shortMessage : `exit code ${result.exitCode}`}):\n${(result.all ?? '').trim().split('\n').slice(-15).join('\n')}`);
  }
}
