// What doctor and a failed start say about the native install: the platform and C library, the
// wheel, and every file of lib/ checked against the wheel's RECORD hashes.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_MILVUS_LITE_VERSION } from './cache-dir.js';
import type { Installation } from '../engine.js';
import { ServerStartError } from '../errors.js';
import { kPinnedWheelSha256 } from './pins.js';
import { currentPlatform, describePlatform, libcProblem, platformTagFits, type PlatformInfo } from './platform.js';
import { installProblems, parseRecord, readManifest, sha256OfFile, type RecordEntry } from './verify.js';
import { parseWheelName } from './wheel-name.js';

/** One line of doctor's report: ok, or a failure with its fix. */
export interface Check {
  readonly ok: boolean;
  readonly line: string;
  readonly fix?: string;
}

/**
 * The RECORD of the native install whose `lib/` is `libDir`: a wheel install's `install.json`, or
 * the `milvus_lite-<v>.dist-info/RECORD` beside a venv's `milvus_lite/`. `undefined` when neither exists.
 */
export async function recordOf(libDir: string): Promise<RecordEntry[] | undefined> {
  const manifest = await readManifest(dirname(libDir));
  if (manifest !== undefined) return [...manifest.files];
  const site = dirname(dirname(libDir));
  const info = (await readdir(site).catch(() => [] as string[])).find((n) => /^milvus_lite-[^-]+\.dist-info$/.test(n));
  if (info === undefined) return undefined;
  const text = await readFile(join(site, info, 'RECORD'), 'utf8').catch(() => undefined);
  try {
    return text === undefined ? undefined : parseRecord(text, join(site, info));
  } catch {
    return undefined;
  }
}

/** Every file of `libDir` checked against its RECORD (170 MB hashed): one line a problem, empty when whole. */
export async function libDirProblems(libDir: string): Promise<string[]> {
  if ((await readManifest(dirname(libDir))) !== undefined) return installProblems(dirname(libDir), true);
  const record = await recordOf(libDir);
  if (record === undefined) return [];
  const problems: string[] = [];
  for (const file of record) {
    const path = join(libDir, file.name);
    const actual = await sha256OfFile(path).catch(() => undefined);
    if (actual === undefined) problems.push(`${path} is missing`);
    else if (actual !== file.sha256) problems.push(`${path} has sha256 ${actual}, not ${file.sha256} (the wheel's RECORD): damaged or truncated`);
  }
  return problems;
}

/**
 * After a native server exited while starting: checks the install's files against their hashes
 * and, when some fail, adds them and the fix to the error's message. Hashing happens only here (and
 * in install and doctor), never on a start that works.
 */
export async function explainStartFailure(error: unknown, installation: Installation): Promise<unknown> {
  if (installation.engine !== 'native' || !(error instanceof ServerStartError) || error.exit === undefined) return error;
  const problems = await libDirProblems(installation.libDir ?? dirname(installation.binary)).catch(() => []);
  if (problems.length > 0) {
    error.message += `\nThe milvus-lite ${installation.version} install fails its check:\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix: run \`leasehold-milvus install\` (it reinstalls what is damaged)`;
  }
  return error;
}

/** The default version's wheel for `platform`, from leasehold's pins: its name and sha256. */
export function pinnedWheelFor(platform: PlatformInfo, version = DEFAULT_MILVUS_LITE_VERSION): { name: string; sha256: string } | undefined {
  for (const [name, sha256] of Object.entries(kPinnedWheelSha256)) {
    const parsed = parseWheelName(name);
    if (parsed?.version === version && parsed.platformTags.some((tag) => platformTagFits(tag, platform))) return { name, sha256 };
  }
  return undefined;
}

/**
 * doctor's platform section: the platform, the C library and its version (from `process.report`),
 * glibc < 2.28 and musl as failures, and the wheel this platform installs. `platform` is injectable for tests.
 */
export function platformChecks(platform: PlatformInfo = currentPlatform()): Check[] {
  const checks: Check[] = [];
  const libc = platform.libc === undefined ? (platform.os === 'linux' ? 'unknown (process.report names none)' : 'the system C library') : `${platform.libc.family}${platform.libc.version === undefined ? '' : ` ${platform.libc.version}`}`;
  const problem = libcProblem(platform);
  checks.push(problem === undefined ? { ok: true, line: `platform ${platform.os}-${platform.arch}, C library ${libc}` } : { ok: false, line: `platform ${platform.os}-${platform.arch}, C library ${libc}: ${problem.split(';')[0]}`, fix: problem.split('; ').slice(1).join('; ') });
  const wheel = pinnedWheelFor(platform);
  const kPlatforms = 'manylinux2014_x86_64, manylinux2014_aarch64, macosx_11_0_arm64, macosx_10_9_x86_64';
  checks.push(
    wheel === undefined
      ? { ok: false, line: `milvus-lite ${DEFAULT_MILVUS_LITE_VERSION} has no wheel for ${describePlatform(platform)} (it has ${kPlatforms})`, fix: 'use one of those platforms, or connect to a Milvus server instead' }
      : { ok: true, line: `wheel for this platform: ${wheel.name}, sha256 ${wheel.sha256}` },
  );
  return checks;
}

/** doctor's check of a found native install: every file against RECORD (hashes), and where it came from. */
export async function installationChecks(installation: Installation): Promise<Check[]> {
  if (installation.engine !== 'native') return [];
  const libDir = installation.libDir ?? dirname(installation.binary);
  const checks: Check[] = [];
  const manifest = await readManifest(dirname(libDir));
  if (manifest !== undefined) checks.push({ ok: true, line: `native install from ${manifest.wheel} (sha256 ${manifest.sha256}), from ${manifest.from}` });
  if (installation.version !== DEFAULT_MILVUS_LITE_VERSION && installation.version !== 'unknown') {
    checks.push({ ok: true, line: `note: the native engine found is milvus-lite ${installation.version}, not the default ${DEFAULT_MILVUS_LITE_VERSION} (found at ${installation.source})` });
  }
  const record = await recordOf(libDir);
  if (record === undefined) {
    checks.push({ ok: true, line: `${libDir}: no RECORD to check its files against` });
    return checks;
  }
  const problems = await libDirProblems(libDir);
  checks.push(
    problems.length === 0
      ? { ok: true, line: `${record.length} files of ${libDir} match the wheel's RECORD (sha256)` }
      : { ok: false, line: `the install in ${libDir} is damaged:\n${problems.map((p) => `          ${p}`).join('\n')}`, fix: 'leasehold-milvus install (reinstalls what is damaged into a new directory)' },
  );
  return checks;
}
