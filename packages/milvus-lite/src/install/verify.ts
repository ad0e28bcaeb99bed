import { createHash } from 'node:crypto';
import { accessSync, constants, createReadStream, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { MilvusLiteInstallError } from '../errors.js';
import { kPinnedWheelSha256 } from './pins.js';

/** One file of `milvus_lite/lib/` as the wheel's RECORD gives it. */
export interface RecordEntry {
  /** The name inside `lib/`, e.g. `milvus`, `libknowhere.so`. */
  readonly name: string;
  /** sha256, hex (RECORD writes urlsafe base64; converted). */
  readonly sha256: string;
  readonly size: number;
}

/**
 * What `install.json` (written into an install before it is renamed into place) says: which wheel
 * it came from and every file's RECORD hash, so `doctor` and `install` can check it later.
 */
export interface InstallManifest {
  readonly version: string;
  readonly wheel: string;
  readonly sha256: string;
  /** Where the wheel came from: an index URL or a local path. */
  readonly from: string;
  readonly files: readonly RecordEntry[];
}

export const kManifestName = 'install.json';

/**
 * Checks a downloaded wheel's sha256 against leasehold's pin for that file name and the index's
 * own hash, when either exists. Throws a `MilvusLiteInstallError` naming both hashes. Resolves
 * what was checked, for the progress line (`'pinned'`, `'index'`, both, or none).
 */
export function checkWheelSha256(filename: string, actual: string, indexSha256: string | undefined, from: string): string[] {
  const checked: string[] = [];
  for (const [what, expected] of [
    ["leasehold's pinned sha256", kPinnedWheelSha256[filename]],
    ["the index's sha256", indexSha256],
  ] as const) {
    if (expected === undefined) continue;
    if (expected !== actual) {
      throw new MilvusLiteInstallError(`${filename} from ${from} has sha256 ${actual}, but ${what} is ${expected}: the file is damaged or not the real milvus-lite wheel; nothing was installed. Download it again, or check PIP_INDEX_URL / LEASEHOLD_MILVUS_LITE_WHEEL`);
    }
    checked.push(what);
  }
  return checked;
}

/** Parses a wheel's RECORD (`path,sha256=<urlsafe b64>,size` lines) for the files under `milvus_lite/lib/`. */
export function parseRecord(text: string, wheel: string): RecordEntry[] {
  const entries: RecordEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const [path, hash, size] = line.split(',');
    if (path === undefined || !path.startsWith('milvus_lite/lib/') || path.endsWith('/')) continue;
    const b64 = /^sha256=([A-Za-z0-9_-]+)$/.exec(hash ?? '')?.[1];
    if (b64 === undefined) throw new MilvusLiteInstallError(`${wheel}: its RECORD has no sha256 for ${path}; nothing was installed`);
    entries.push({ name: path.slice('milvus_lite/lib/'.length), sha256: Buffer.from(b64, 'base64url').toString('hex'), size: Number(size) });
  }
  if (!entries.some((e) => e.name === 'milvus')) throw new MilvusLiteInstallError(`${wheel}: its RECORD lists no milvus_lite/lib/milvus: not a native-engine (2.4/2.5) wheel; nothing was installed`);
  return entries;
}

/**
 * A pass-through stream that hashes (sha256) and counts what flows through it, calling `onBytes`
 * with each chunk's length; `digest()` once it has ended.
 */
export function hashingMeter(onBytes?: (n: number) => void): { readonly stream: Transform; digest(): { sha256: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      onBytes?.(chunk.length);
      done(null, chunk);
    },
  });
  return { stream, digest: () => ({ sha256: hash.digest('hex'), size }) };
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function readManifest(dir: string): Promise<InstallManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, kManifestName), 'utf8')) as InstallManifest;
  } catch {
    return undefined;
  }
}

/** Whether this user may execute `path` (access(2) with X_OK). */
function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * What is wrong with the native install in `dir` (`<dir>/lib/*` against `<dir>/install.json`), one
 * line a problem; empty when it is whole. `hashes: false` checks only presence, size and the
 * binary's execute bit (cheap); `true` also hashes every file (170 MB: for install, doctor and
 * after a failed start, never on every start).
 */
export async function installProblems(dir: string, hashes: boolean): Promise<string[]> {
  const manifest = await readManifest(dir);
  if (manifest === undefined) return [`${join(dir, kManifestName)} is missing or unreadable: not a complete install`];
  const problems: string[] = [];
  for (const file of manifest.files) {
    const path = join(dir, 'lib', file.name);
    // Synchronous stat and access: every start runs this (~30 files), and on a cold open each
    // promise form waited for the thread pool, ~5 ms in all on the critical path (issue 24).
    let stats: Stats | undefined;
    try {
      stats = statSync(path);
    } catch {
      // missing, or unreadable: reported as missing
    }
    if (stats === undefined) {
      problems.push(`${path} is missing`);
      continue;
    }
    if (stats.size !== file.size) problems.push(`${path} is ${stats.size} bytes, not ${file.size} (truncated or replaced)`);
    else if (hashes) {
      const actual = await sha256OfFile(path);
      if (actual !== file.sha256) problems.push(`${path} has sha256 ${actual}, not ${file.sha256} (the wheel's RECORD): damaged`);
    }
    if (file.name === 'milvus' && !executable(path)) {
      problems.push(`${path} is not executable (mode ${(stats.mode & 0o777).toString(8)})`);
    }
  }
  return problems;
}
