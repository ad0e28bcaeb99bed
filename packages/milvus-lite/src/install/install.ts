import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Mutex } from 'async-mutex';
import { execa } from 'execa';
import lockfile from 'proper-lockfile';
import { cacheDir, cacheVenv, DEFAULT_MILVUS_LITE_VERSION } from './cache-dir.js';
import { MilvusLiteError } from '../errors.js';
import { forgetFoundMilvusLite } from './find-milvus-lite.js';
import { installNative, type NativeInstallProgress } from './install-native.js';

/** Options of `installMilvusLite`. */
export interface InstallOptions {
  /** The milvus-lite version; default 2.5.1 (the native engine, installed from its wheel, no Python). 3.x (the python engine) goes into a venv with pymilvus. */
  readonly version?: string;
  /** python engine only: the Python that creates the venv; default `python3`. */
  readonly python?: string;
  /** native engine only: reinstall even when what is there checks out (otherwise only what fails its hashes is replaced). */
  readonly force?: boolean;
  /** Progress lines; default none. */
  readonly log?: (line: string) => void;
  /** native engine only: download and extract progress, for a progress bar. */
  readonly onProgress?: (progress: NativeInstallProgress) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Written last into a venv that is complete; a venv without it was never finished. */
export const kCompleteMarker = '.leasehold-complete';
const mutexes = new Map<string, Mutex>();

/**
 * Installs milvus-lite `version` into leasehold's cache, where `findMilvusLite` looks, and resolves
 * the directory:
 * - 2.4/2.5 (the native engine, the default 2.5.1): from the wheel with no Python, into
 *   `<cache>/milvus-lite-native-<version>` (see `installNative`: `PIP_INDEX_URL`,
 *   `LEASEHOLD_MILVUS_LITE_WHEEL`, sha256 pins, RECORD, repair of what fails its hashes);
 * - 3.x (the python engine): `python3 -m venv <cache>/milvus-lite-<version>`, then pip installs
 *   milvus-lite and pymilvus from PyPI (pip reads `PIP_INDEX_URL` itself).
 * Idempotent, and concurrent calls install once: an async-mutex within the process, a
 * proper-lockfile lock across processes; built under a temporary `.…tmp-*` name (never one
 * `findMilvusLite` looks at) and renamed into place when complete, so an install killed midway
 * leaves nothing that passes for an install (the next install removes its leftovers). Never falls
 * back to another version. Throws `MilvusLiteInstallError` (native) or a `MilvusLiteError` naming
 * the failed command, its exit code and output tail (python).
 */
export async function installMilvusLite(options: InstallOptions = {}): Promise<string> {
  const log = options.log ?? (() => {});
  const env = options.env ?? process.env;
  const version = options.version ?? DEFAULT_MILVUS_LITE_VERSION;
  if (!/^\d+(\.\d+){0,2}([a-z0-9.]*)$/i.test(version)) throw new TypeError(`version must look like 2.5.1, got ${JSON.stringify(version)}`);
  try {
    if (Number.parseInt(version, 10) < 3) {
      const result = await installNative({ version, env, force: options.force, log, onProgress: options.onProgress });
      return result.dir;
    }
    const venv = cacheVenv(version, env);
    await installOnce(venv, `milvus-lite==${version}`, version, options.python ?? 'python3', env, log);
    return venv;
  } finally {
    forgetFoundMilvusLite();
  }
}

async function installOnce(venv: string, spec: string, version: string, python: string, env: Readonly<Record<string, string | undefined>>, log: (line: string) => void): Promise<void> {
  let mutex = mutexes.get(venv);
  if (mutex === undefined) mutexes.set(venv, (mutex = new Mutex()));
  await mutex.runExclusive(async () => {
    if (existsSync(join(venv, 'bin', 'python'))) return;
    await mkdir(cacheDir(env), { recursive: true });
    // Another process may be installing: wait for it (up to ~10 minutes), then use its venv.
    const release = await lockfile.lock(venv, {
      realpath: false,
      lockfilePath: join(dirname(venv), `.${basename(venv)}.install.lock`),
      stale: 10_000,
      retries: { retries: 600, minTimeout: 250, maxTimeout: 1000, factor: 1.2 },
    });
    try {
      if (existsSync(join(venv, 'bin', 'python'))) {
        log(`${venv} was installed by another process`);
        return;
      }
      await removeLeftovers(venv);
      const temp = `${join(dirname(venv), `.${basename(venv)}`)}.tmp-${process.pid}-${Date.now().toString(36)}`;
      try {
        log(`creating ${venv}`);
        await run(python, ['-m', 'venv', temp]);
        const packages = [spec, ...(Number.parseInt(version, 10) >= 3 ? ['pymilvus'] : [])];
        log(`pip install ${packages.join(' ')}`);
        await run(join(temp, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', ...packages], env);
        await writeFile(join(temp, kCompleteMarker), `${spec}\ninstalled by pid ${process.pid}\n`);
        await rename(temp, venv);
      } catch (error) {
        await rm(temp, { recursive: true, force: true });
        throw error;
      }
    } finally {
      await release().catch(() => {});
    }
  });
}

/** Temporary venvs of installs that were killed midway. Called under the install lock. */
async function removeLeftovers(venv: string): Promise<void> {
  const prefix = `.${basename(venv)}.tmp-`;
  const names = await readdir(dirname(venv)).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => rm(join(dirname(venv), n), { recursive: true, force: true })));
}

async function run(file: string, args: string[], env?: Readonly<Record<string, string | undefined>>): Promise<void> {
  const result = await execa(file, args, { reject: false, all: true, ...(env ? { env } : {}) });
  if (result.exitCode !== 0) {
    const tail = (result.all ?? '').trim().split('\n').slice(-15).join('\n');
    throw new MilvusLiteError(`\`${file} ${args.join(' ')}\` failed (${result.exitCode === undefined ? result.shortMessage : `exit code ${result.exitCode}`}):\n${tail}`);
  }
}
