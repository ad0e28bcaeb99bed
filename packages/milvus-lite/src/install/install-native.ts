import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Mutex } from 'async-mutex';
import lockfile from 'proper-lockfile';
import { MilvusLiteInstallError } from '../errors.js';
import { installConfig, nativeInstallDir } from './config.js';
import { kDefaultHttpOptions, type HttpOptions } from './http.js';
import { currentPlatform, describePlatform, libcProblem, platformTagFits, type PlatformInfo } from './platform.js';
import { checkWheelSha256, installProblems, kManifestName, readManifest, sha256OfFile, type InstallManifest } from './verify.js';
import { diskOrNetworkError, downloadWheel } from './wheel-download.js';
import { extractLib } from './wheel-extract.js';
import { listWheels, parseWheelName, pickWheel, type WheelLink } from './wheel-index.js';

type Env = Readonly<Record<string, string | undefined>>;

/** What an install is doing, for a progress bar: bytes downloaded, then bytes extracted. */
export interface NativeInstallProgress {
  readonly phase: 'download' | 'extract';
  readonly done: number;
  readonly total: number | undefined;
}

export interface NativeInstallOptions {
  readonly version: string;
  readonly env: Env;
  /** Reinstall even when the install checks out. */
  readonly force?: boolean | undefined;
  /** The platform to install for; default this one (tests inject another). */
  readonly platform?: PlatformInfo | undefined;
  /** HTTP tuning (stall timeout, retries), for tests; defaults in `kDefaultHttpOptions`. */
  readonly http?: Partial<Omit<HttpOptions, 'env'>> | undefined;
  /** One line before the work starts (what, from where, to where), then retries and repairs. */
  readonly log?: ((line: string) => void) | undefined;
  readonly onProgress?: ((progress: NativeInstallProgress) => void) | undefined;
}

/** What `installNative` did. */
export interface NativeInstallResult {
  readonly dir: string;
  readonly manifest: InstallManifest;
  /** `'installed'` (there was none), `'repaired'` (what was there failed its check; `problems` says why), `'reinstalled'` (`force`), `'ok'` (it checked out; nothing done). */
  readonly outcome: 'installed' | 'repaired' | 'reinstalled' | 'ok';
  readonly problems: readonly string[];
}

const mutexes = new Map<string, Mutex>();

/**
 * Installs the native engine (milvus-lite 2.4/2.5) from its wheel into `<cache>/milvus-lite-native-<version>`,
 * with no Python: the wheel from `LEASEHOLD_MILVUS_LITE_WHEEL`, else from the simple index
 * (`PIP_INDEX_URL`, default PyPI); its sha256 checked against leasehold's pins and the index's hash;
 * `milvus_lite/lib/*` extracted and checked against RECORD, under a temporary name, renamed into
 * place when whole. An install already there is checked against its hashes first: left alone when
 * whole, else (or with `force`) replaced by a new directory renamed into place (never rewritten in
 * place: a running server has its libraries mapped). One install at a time: an async-mutex in the
 * process, a proper-lockfile lock across processes. Throws `MilvusLiteInstallError`.
 */
export async function installNative(options: NativeInstallOptions): Promise<NativeInstallResult> {
  if (!/^\d+(\.\d+){0,2}([a-z0-9.]*)$/i.test(options.version)) throw new TypeError(`version must look like 2.5.1, got ${JSON.stringify(options.version)}`);
  const platform = options.platform ?? currentPlatform();
  const problem = libcProblem(platform);
  if (problem !== undefined) throw new MilvusLiteInstallError(`cannot install milvus-lite ${options.version} (the native engine) on ${describePlatform(platform)}: ${problem}`);
  const dir = nativeInstallDir(options.version, options.env);
  let mutex = mutexes.get(dir);
  if (mutex === undefined) mutexes.set(dir, (mutex = new Mutex()));
  return mutex.runExclusive(async () => {
    await mkdir(dirname(dir), { recursive: true }).catch((error: unknown) => {
      throw diskOrNetworkError(error, `creating leasehold's cache directory ${dirname(dir)}`);
    });
    const release = await lockInstall(dir, options.log);
    try {
      return await installLocked(dir, platform, options);
    } finally {
      await release().catch(() => {});
    }
  });
}

async function installLocked(dir: string, platform: PlatformInfo, options: NativeInstallOptions): Promise<NativeInstallResult> {
  const exists = (await stat(dir).catch(() => undefined)) !== undefined;
  const problems = !exists ? [] : options.force ? ['--force'] : await installProblems(dir, true);
  if (exists && problems.length === 0) {
    return { dir, manifest: (await readManifest(dir))!, outcome: 'ok', problems };
  }
  await removeLeftovers(dir);
  const temp = `${join(dirname(dir), `.${basename(dir)}`)}.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    await mkdir(temp).catch((error: unknown) => {
      throw diskOrNetworkError(error, `creating ${temp}`);
    });
    const manifest = await fetchAndExtract(temp, platform, options);
    await writeFile(join(temp, kManifestName), `${JSON.stringify(manifest, null, 2)}\n`).catch((error: unknown) => {
      throw diskOrNetworkError(error, `writing ${join(temp, kManifestName)}`);
    });
    if (exists) {
      // Moved aside, not rewritten: a running server keeps the files it has mapped.
      const old = `${join(dirname(dir), `.${basename(dir)}`)}.old-${process.pid}-${Date.now().toString(36)}`;
      await rename(dir, old);
      await rename(temp, dir).catch(async (error: unknown) => {
        await rename(old, dir).catch(() => {}); // put the old one back rather than leave nothing
        throw error;
      });
      await rm(old, { recursive: true, force: true });
    } else await rename(temp, dir);
    return { dir, manifest, outcome: !exists ? 'installed' : options.force ? 'reinstalled' : 'repaired', problems };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

async function fetchAndExtract(temp: string, platform: PlatformInfo, options: NativeInstallOptions): Promise<InstallManifest> {
  const { version, env, log } = options;
  const config = installConfig(env);
  const http: HttpOptions = { ...kDefaultHttpOptions, ...(config.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: config.stallTimeoutMs }), onRetry: log, ...options.http, env };
  let wheelPath: string;
  let link: WheelLink;
  let from: string;
  if (config.localWheel !== undefined) {
    wheelPath = resolve(config.localWheel);
    from = wheelPath;
    link = localWheelLink(wheelPath, version, platform);
    log?.(`installing milvus-lite ${version} (the native engine) from ${wheelPath} into ${nativeInstallDir(version, env)}`);
  } else {
    from = config.indexUrl;
    link = pickWheel(await listWheels(config.indexUrl, http), version, platform, config.indexUrl);
    wheelPath = join(temp, `${link.filename}.downloading`);
    log?.(`installing milvus-lite ${version} (the native engine) from ${link.url} into ${nativeInstallDir(version, env)}`);
  }
  const sha256 =
    config.localWheel !== undefined
      ? await sha256OfFile(wheelPath).catch((error: unknown) => {
          throw new MilvusLiteInstallError(`cannot read LEASEHOLD_MILVUS_LITE_WHEEL=${wheelPath}: ${(error as Error).message}; point it at a milvus-lite wheel (.whl)`, { cause: error });
        })
      : await downloadWheel(link, wheelPath, http, (done, total) => options.onProgress?.({ phase: 'download', done, total }));
  const checked = checkWheelSha256(link.filename, sha256, link.sha256, from);
  if (checked.length === 0) log?.(`note: ${link.filename} has no pinned sha256 and the index gave none; only its RECORD is checked`);
  const files = await extractLib(wheelPath, temp, (done, total) => options.onProgress?.({ phase: 'extract', done, total }));
  if (config.localWheel === undefined) await rm(wheelPath, { force: true });
  return { version, wheel: link.filename, sha256, from: config.localWheel === undefined ? link.url : wheelPath, files };
}

function localWheelLink(path: string, version: string, platform: PlatformInfo): WheelLink {
  const filename = basename(path);
  const parsed = parseWheelName(filename);
  if (parsed === undefined || parsed.name.toLowerCase() !== 'milvus_lite') {
    throw new MilvusLiteInstallError(`LEASEHOLD_MILVUS_LITE_WHEEL=${path} is not named like a milvus-lite wheel (milvus_lite-<version>-py3-none-<platform>.whl); keep the name pip downloaded it under`);
  }
  if (parsed.version !== version) throw new MilvusLiteInstallError(`LEASEHOLD_MILVUS_LITE_WHEEL=${path} is milvus-lite ${parsed.version}, but ${version} is being installed; pass --version ${parsed.version}, or point it at the ${version} wheel`);
  if (!parsed.platformTags.some((tag) => platformTagFits(tag, platform))) {
    throw new MilvusLiteInstallError(`LEASEHOLD_MILVUS_LITE_WHEEL=${path} is for ${parsed.platformTags.join('.')}, not ${describePlatform(platform)}; download the wheel for this platform`);
  }
  return { filename, url: path, version: parsed.version, platformTags: parsed.platformTags };
}

/**
 * The cross-process install lock `.<dir>.install.lock` (proper-lockfile; stale after 10 s, so a
 * killed install's lock is taken over). Waits up to 10 minutes while another process holds it;
 * any other error (a cache that cannot be written) is thrown at once.
 */
async function lockInstall(dir: string, log?: (line: string) => void): Promise<() => Promise<void>> {
  const options = { realpath: false, lockfilePath: join(dirname(dir), `.${basename(dir)}.install.lock`), stale: 10_000 };
  const deadline = Date.now() + 600_000;
  for (let delay = 250, said = false; ; delay = Math.min(1000, delay * 1.2)) {
    try {
      return await lockfile.lock(dir, options);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ELOCKED' || Date.now() > deadline) throw diskOrNetworkError(error, `taking the install lock in ${dirname(dir)}`);
      // Said once, so a wait is never silent: another install runs, or a killed one left its lock.
      if (!said) log?.(`waiting for another install of ${dir} (its lock ${options.lockfilePath}; a lock left by a killed install is taken over after 10 s)`);
      said = true;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Temporary and moved-aside directories of installs that were killed midway. Called under the install lock. */
async function removeLeftovers(dir: string): Promise<void> {
  const prefixes = [`.${basename(dir)}.tmp-`, `.${basename(dir)}.old-`];
  const names = await readdir(dirname(dir)).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => prefixes.some((p) => n.startsWith(p))).map((n) => rm(join(dirname(dir), n), { recursive: true, force: true })));
}
