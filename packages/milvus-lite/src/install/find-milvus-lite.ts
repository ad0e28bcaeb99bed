// The install layer: finding milvus-lite (this file, find-or-install.ts), installing it (install.ts,
// install-native.ts and the wheel download, check and extraction), diagnosing a broken install
// (diagnose.ts) and the cache directory (cache-dir.ts). It may import the shared root files
// (errors.ts, engine.ts) only.
import { constants, existsSync } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { loadExeca } from './load-execa.js';
import type { EngineName, Installation } from '../engine.js';
import { cacheDir, DEFAULT_MILVUS_LITE_VERSION } from './cache-dir.js';
import { MilvusLiteNotFoundError } from '../errors.js';
import { kNativeDirPrefix } from './config.js';
import { binaryProblem, milvusLiteInVenv, nativeInstallProblem, nativeInstallVersions, preferredOrder, versionOfBinary } from './native-dirs.js';

/** Options of `findMilvusLite`. */
export interface FindMilvusLiteOptions {
  /** A Python interpreter whose environment has milvus-lite (checked first). */
  readonly python?: string;
  /** The native `milvus` binary itself (milvus-lite 2.x `milvus_lite/lib/milvus`). */
  readonly binary?: string;
  /** Which engine to accept: `'native'` (2.4/2.5), `'python'` (≥ 3.0) or `'auto'` (either; the default). */
  readonly engine?: 'auto' | EngineName;
  /** The environment to read `MILVUS_LITE_PYTHON`, `MILVUS_LITE_BIN`, `VIRTUAL_ENV` and `PATH` from. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const kEngines = ['auto', 'native', 'python'] as const;

// Prints what a Python environment has, without importing milvus_lite (3.x imports are heavy).
const kInspectScript = String.raw`
import json, sys, importlib.util as u, importlib.metadata as m
s = u.find_spec("milvus_lite")
if s is None:
    print(json.dumps({})); sys.exit(0)
print(json.dumps({"version": m.version("milvus-lite"), "dir": list(s.submodule_search_locations)[0],
  "pymilvus": u.find_spec("pymilvus") is not None, "executable": sys.executable}))
`;

const cache = new Map<string, Promise<Installation>>();

/**
 * Finds milvus-lite and tells which engine it is. Looks, in order, at:
 * 1. the `binary` option, then the `python` option;
 * 2. `$MILVUS_LITE_PYTHON`, then `$MILVUS_LITE_BIN`;
 * 3. `$VIRTUAL_ENV`;
 * 4. leasehold's wheel installs, `<cache>/milvus-lite-native-<version>` (`leasehold-milvus install`; native engine);
 * 5. leasehold's cache venvs, `<cache>/milvus-lite-<version>` (the python engine's installs, and
 *    the native ones earlier leasehold versions made: still used as they are);
 * 6. `python3` on `PATH` (python engine only).
 * The default version comes first in the cache, then the newest. No Python is ever run to find the
 * native engine: venvs are read as files (`site-packages/milvus_lite-<v>.dist-info`); Python runs
 * only for a 3.x (python engine) environment, and for the `python` option and `$MILVUS_LITE_PYTHON`,
 * which name one on purpose. The result is cached per options.
 * Throws `MilvusLiteNotFoundError` listing every place it tried (and why each failed: a missing
 * binary, a non-executable one, a damaged install) and the command that fixes it.
 *
 * @example
 * const found = await findMilvusLite();
 * console.log(found.engine, found.version, found.binary);
 */
export function findMilvusLite(options: FindMilvusLiteOptions = {}): Promise<Installation> {
  const engine = options.engine ?? 'auto';
  if (!kEngines.includes(engine)) {
    return Promise.reject(new TypeError(`engine must be 'auto', 'native' or 'python', got ${JSON.stringify(engine)}`));
  }
  const env = options.env ?? process.env;
  const id = JSON.stringify([options.python, options.binary, engine, env['MILVUS_LITE_PYTHON'], env['MILVUS_LITE_BIN'], env['VIRTUAL_ENV'], env['PATH'], cacheDir(env)]);
  let found = cache.get(id);
  if (found === undefined) {
    found = search(options, engine, env);
    cache.set(id, found);
    found.catch(() => cache.delete(id));
  }
  return found;
}

/** Forgets what `findMilvusLite` found, so the next call looks again (after an install or a repair). */
export function forgetFoundMilvusLite(): void {
  cache.clear();
}

async function search(options: FindMilvusLiteOptions, engine: FindMilvusLiteOptions['engine'] & string, env: Readonly<Record<string, string | undefined>>): Promise<Installation> {
  const tried: string[] = [];
  const tryPython = async (python: string, source: string): Promise<Installation | undefined> => {
    const result = await inspectPython(python, source, engine, env);
    if (typeof result === 'string') tried.push(`${source} (${python}): ${result}`);
    else return result;
    return undefined;
  };
  const tryBinary = async (binary: string, source: string): Promise<Installation | undefined> => {
    if (engine === 'python') {
      tried.push(`${source} (${binary}): a native binary, but engine 'python' was asked for`);
      return undefined;
    }
    const problem = await binaryProblem(binary);
    if (problem !== undefined) {
      tried.push(`${source}: ${problem}`);
      return undefined;
    }
    return { engine: 'native', version: await versionOfBinary(binary), binary, libDir: dirname(binary), source };
  };
  // A venv read as files: native is taken as it is; a 3.x one goes through its Python (python engine).
  const tryVenv = async (venv: string, source: string): Promise<Installation | undefined> => {
    const python = join(venv, 'bin', 'python');
    const site = await milvusLiteInVenv(venv);
    if (site === undefined) {
      tried.push(`${source} (${venv}): ${existsSync(python) ? 'milvus-lite is not installed there' : 'not a venv'}`);
      return undefined;
    }
    if (Number.parseInt(site.version, 10) >= 3) {
      if (engine === 'native') tried.push(`${source} (${venv}): has milvus-lite ${site.version} (the python engine), but engine 'native' was asked for`);
      else return tryPython(python, source);
      return undefined;
    }
    if (engine === 'python') {
      tried.push(`${source} (${venv}): has milvus-lite ${site.version} (the native engine), but engine 'python' was asked for`);
      return undefined;
    }
    const binary = join(site.packageDir, 'lib', 'milvus');
    const problem = await binaryProblem(binary);
    if (problem !== undefined) {
      tried.push(`${source} (${venv}): has milvus-lite ${site.version}, but ${problem}`);
      return undefined;
    }
    return { engine: 'native', version: site.version, ...(existsSync(python) ? { python } : {}), binary, libDir: join(site.packageDir, 'lib'), source };
  };

  if (options.binary !== undefined) {
    const found = await tryBinary(options.binary, 'option binary');
    if (found) return found;
  }
  if (options.python !== undefined) {
    const found = await tryPython(options.python, 'option python');
    if (found) return found;
  }
  for (const name of ['MILVUS_LITE_PYTHON', 'MILVUS_LITE_BIN'] as const) {
    const value = env[name];
    if (!value) {
      tried.push(`$${name}: not set`);
      continue;
    }
    const found = name === 'MILVUS_LITE_PYTHON' ? await tryPython(value, `$${name}`) : await tryBinary(value, `$${name}`);
    if (found) return found;
  }
  if (env['VIRTUAL_ENV']) {
    const found = await tryVenv(env['VIRTUAL_ENV'], '$VIRTUAL_ENV');
    if (found) return found;
  } else tried.push('$VIRTUAL_ENV: not set');
  const dir = cacheDir(env);
  if (engine !== 'python') {
    const versions = await nativeInstallVersions(dir);
    if (versions.length === 0) tried.push(`leasehold's wheel installs ${join(dir, `${kNativeDirPrefix}*`)}: none there`);
    for (const version of versions) {
      const home = join(dir, `${kNativeDirPrefix}${version}`);
      const problem = await nativeInstallProblem(home);
      if (problem !== undefined) tried.push(`cache (${home}): milvus-lite ${version}: ${problem}`);
      else return { engine: 'native', version, binary: join(home, 'lib', 'milvus'), libDir: join(home, 'lib'), source: 'cache' };
    }
  }
  const venvs = await cacheVenvs(dir);
  if (venvs.length === 0) tried.push(`leasehold's cache venvs ${join(dir, 'milvus-lite-<version>')}: none there`);
  for (const venv of venvs) {
    const found = await tryVenv(venv, 'cache');
    if (found) return found;
  }
  if (engine !== 'native') {
    const python3 = await onPath('python3', env);
    if (python3 === undefined) tried.push('python3 on PATH: not found');
    else {
      const found = await tryPython(python3, 'PATH');
      if (found) return found;
    }
  }
  const version = engine === 'python' ? '3.2.2' : DEFAULT_MILVUS_LITE_VERSION;
  throw new MilvusLiteNotFoundError(
    engine === 'auto' ? 'milvus-lite' : `milvus-lite (engine '${engine}')`,
    tried,
    version === DEFAULT_MILVUS_LITE_VERSION
      ? `run \`npx leasehold-milvus install\` (it installs the native engine from the milvus-lite wheel into ${join(dir, `${kNativeDirPrefix}${version}`)}; no Python needed)`
      : `run \`npx leasehold-milvus install --version ${version}\` (it creates the venv ${join(dir, `milvus-lite-${version}`)}), or set MILVUS_LITE_PYTHON to a Python that has milvus-lite and pymilvus`,
  );
}

/** leasehold's cache venvs (`milvus-lite-<version>`, not the wheel installs), the default version first, then newest first. */
async function cacheVenvs(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const versions = names.filter((n) => n.startsWith('milvus-lite-') && !n.startsWith(kNativeDirPrefix)).map((n) => n.slice('milvus-lite-'.length));
  return preferredOrder(versions).map((v) => join(dir, `milvus-lite-${v}`));
}

interface PythonInfo {
  version?: string;
  dir?: string;
  pymilvus?: boolean;
  executable?: string;
}

/**
 * What a Python's environment held when last inspected, on disk (`<cache>/found-milvus-lite.json`),
 * so a process start runs no Python. An entry holds while the interpreter and its site-packages
 * directory are unchanged (pip installing or removing anything changes that directory's mtime).
 */
interface FoundEntry {
  readonly fingerprint: string;
  readonly info: PythonInfo;
}

const foundFile = (env: Readonly<Record<string, string | undefined>>): string => join(cacheDir(env), 'found-milvus-lite.json');

async function fingerprintOf(python: string, info: PythonInfo): Promise<string | undefined> {
  try {
    const exe = await stat(python);
    const parts = [exe.ino, exe.size, exe.mtimeMs];
    if (info.dir !== undefined) {
      const sitePackages = await stat(dirname(info.dir));
      const pkg = await stat(info.dir);
      parts.push(sitePackages.ino, sitePackages.mtimeMs, pkg.ino, pkg.mtimeMs);
    }
    return parts.join(':');
  } catch {
    return undefined;
  }
}

async function readFound(env: Readonly<Record<string, string | undefined>>): Promise<Record<string, FoundEntry>> {
  try {
    return JSON.parse(await readFile(foundFile(env), 'utf8')) as Record<string, FoundEntry>;
  } catch {
    return {};
  }
}

async function remember(python: string, info: PythonInfo, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const fingerprint = await fingerprintOf(python, info);
  if (fingerprint === undefined || info.dir === undefined) return;
  try {
    const file = foundFile(env);
    await mkdir(dirname(file), { recursive: true });
    const all = { ...(await readFound(env)), [python]: { fingerprint, info } };
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await writeFile(temp, JSON.stringify(all));
    await rename(temp, file); // atomic: a concurrent reader sees the old file or the new one
  } catch {
    // A cache that cannot be written only costs the next start a Python run.
  }
}

async function inspectPython(python: string, source: string, engine: string, env: Readonly<Record<string, string | undefined>>): Promise<Installation | string> {
  if (!existsSync(python)) return 'does not exist';
  const entry = (await readFound(env))[python];
  let info: PythonInfo;
  if (entry !== undefined && entry.fingerprint === (await fingerprintOf(python, entry.info))) info = entry.info;
  else {
    const execa = await loadExeca();
    const result = await execa(python, ['-c', kInspectScript], { reject: false, timeout: 30_000, extendEnv: true });
    if (result.exitCode !== 0) return `cannot run it: ${result.stderr.trim().split('\n').at(-1) ?? result.shortMessage}`;
    info = JSON.parse(result.stdout) as PythonInfo;
    await remember(python, info, env);
  }
  if (info.version === undefined || info.dir === undefined) return 'milvus-lite is not installed there';
  const major = Number.parseInt(info.version, 10);
  if (major >= 3) {
    if (engine === 'native') return `has milvus-lite ${info.version} (the python engine), but engine 'native' was asked for`;
    if (!info.pymilvus) return `has milvus-lite ${info.version}, which needs pymilvus too: pip install pymilvus`;
    return { engine: 'python', version: info.version, python: info.executable ?? python, binary: info.executable ?? python, source };
  }
  if (engine === 'python') return `has milvus-lite ${info.version} (the native engine), but engine 'python' was asked for`;
  const binary = join(info.dir, 'lib', 'milvus');
  const problem = await binaryProblem(binary);
  if (problem !== undefined) return `has milvus-lite ${info.version}, but ${problem}`;
  return { engine: 'native', version: info.version, python: info.executable ?? python, binary, libDir: join(info.dir, 'lib'), source };
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function onPath(command: string, env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir && (await isExecutable(join(dir, command)))) return join(dir, command);
  }
  return undefined;
}
