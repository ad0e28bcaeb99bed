// Finding the native engine on disk by reading files only: no Python is run.
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_MILVUS_LITE_VERSION } from './cache-dir.js';
import { kNativeDirPrefix } from './config.js';
import { compareVersions } from './platform.js';
import { installProblems, readManifest } from './verify.js';

/** milvus-lite as a Python environment holds it, read from its files. */
export interface SitePackagesFind {
  readonly version: string;
  /** `…/site-packages/milvus_lite` */
  readonly packageDir: string;
}

/**
 * milvus-lite in the venv `venv`, from `lib/python3.*\/site-packages/milvus_lite-<version>.dist-info`
 * (no Python is run). `undefined` when it has none.
 */
export async function milvusLiteInVenv(venv: string): Promise<SitePackagesFind | undefined> {
  const libs = (await readdir(join(venv, 'lib')).catch(() => [] as string[])).filter((n) => /^python3\.\d+$/.test(n));
  for (const lib of libs) {
    const site = join(venv, 'lib', lib, 'site-packages');
    const names = await readdir(site).catch(() => [] as string[]);
    const info = names.find((n) => /^milvus_lite-[^-]+\.dist-info$/.test(n));
    if (info !== undefined && names.includes('milvus_lite')) return { version: info.slice('milvus_lite-'.length, -'.dist-info'.length), packageDir: join(site, 'milvus_lite') };
  }
  return undefined;
}

/** Sorts versions: the default first, then newest first. */
export function preferredOrder(versions: string[]): string[] {
  return versions.sort((a, b) => (a === DEFAULT_MILVUS_LITE_VERSION ? -1 : b === DEFAULT_MILVUS_LITE_VERSION ? 1 : compareVersions(b, a)));
}

/** The versions installed from wheels in the cache (`milvus-lite-native-<v>`), preferred first; temporary names are never listed. */
export async function nativeInstallVersions(cache: string): Promise<string[]> {
  const names = await readdir(cache).catch(() => [] as string[]);
  return preferredOrder(names.filter((n) => n.startsWith(kNativeDirPrefix)).map((n) => n.slice(kNativeDirPrefix.length)));
}

/**
 * Why the native binary `binary` cannot be used, or `undefined` when it can, told apart: missing,
 * not a file, not executable. Cheap (two system calls): run on every find, never hashing.
 */
export async function binaryProblem(binary: string): Promise<string | undefined> {
  const stats = await stat(binary).catch(() => undefined);
  if (stats === undefined) return `its binary ${binary} is missing`;
  if (!stats.isFile()) return `${binary} is not a file`;
  const executable = await access(binary, constants.X_OK).then(() => true, () => false);
  return executable ? undefined : `its binary ${binary} is not executable (mode ${(stats.mode & 0o777).toString(8)}): run \`leasehold-milvus install\` to repair it, or chmod +x it`;
}

/**
 * Why the wheel install in `dir` cannot be used (missing files, wrong sizes, the binary not
 * executable; hashes only with `hashes`), or `undefined`.
 */
export async function nativeInstallProblem(dir: string, hashes = false): Promise<string | undefined> {
  const problems = await installProblems(dir, hashes);
  return problems.length === 0 ? undefined : `${problems.join('; ')}; run \`leasehold-milvus install\` to repair it`;
}

/** The version of the native binary `binary`, from the install it sits in (wheel install's `install.json`, or a site-packages dist-info); `'unknown'` otherwise. */
export async function versionOfBinary(binary: string): Promise<string> {
  const home = dirname(dirname(binary));
  const manifest = await readManifest(home);
  if (manifest !== undefined) return manifest.version;
  const names = await readdir(dirname(home)).catch(() => [] as string[]);
  const info = names.find((n) => /^milvus_lite-[^-]+\.dist-info$/.test(n));
  return info === undefined ? 'unknown' : info.slice('milvus_lite-'.length, -'.dist-info'.length);
}
