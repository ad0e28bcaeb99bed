import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Mutex } from 'async-mutex';
import { execa } from 'execa';
import lockfile from 'proper-lockfile';
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

/** Written last into a venv that is complete; a venv without it was never finished. */
export const kCompleteMarker = '.leasehold-complete';
const mutexes = new Map<string, Mutex>();

/**
 * Creates leasehold's cache venv `<cache>/milvus-lite-<version>` and installs milvus-lite into it
 * from PyPI (where `findMilvusLite` looks). Idempotent, and concurrent calls install once: an
 * async-mutex within the process, a proper-lockfile lock (`.milvus-lite-<version>.install.lock` beside it) across processes;
 * the venv is built under a temporary `.milvus-lite-<version>.tmp-*` name (never one
 * `findMilvusLite` looks at) and renamed into place when complete, so an install killed midway
 * leaves nothing that passes for a venv (the next install removes its leftovers). A failing step
 * throws a `MilvusLiteError` naming the command, its exit code and the tail of its output. If the
 * default 2.5.1 will not install, falls back to the newest 2.4.x. Resolves the venv's directory.
 */
export async function installMilvusLite(options: InstallOptions = {}): Promise<string> {
  const log = options.log ?? (() => {});
  const env = options.env ?? process.env;
  const version = options.version ?? DEFAULT_MILVUS_LITE_VERSION;
  if (!/^\d+(\.\d+){0,2}([a-z0-9.]*)$/i.test(version)) throw new TypeError(`version must look like 2.5.1, got ${JSON.stringify(version)}`);
  const attempt = (spec: string, venv: string): Promise<void> => installOnce(venv, spec, version, options.python ?? 'python3', env, log);
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
