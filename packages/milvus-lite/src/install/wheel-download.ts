import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { MilvusLiteInstallError } from '../errors.js';
import { httpGet, isStall, stallError, type HttpOptions } from './http.js';
import { hashingMeter } from './verify.js';
import type { WheelLink } from './wheel-index.js';

/** Bytes so far, and the total when the server said (`content-length`). */
export type DownloadProgress = (received: number, total: number | undefined) => void;

/**
 * Downloads `wheel` into the file `dest` (created; the caller removes it on failure), hashing it as
 * it streams. Resolves its sha256 (hex). Throws a `MilvusLiteInstallError`: the index (after
 * retries), a stall (no byte for `stallTimeoutMs`), a short body, or the disk (`ENOSPC`…).
 */
export async function downloadWheel(wheel: WheelLink, dest: string, http: HttpOptions, onProgress?: DownloadProgress): Promise<string> {
  const response = await httpGet(wheel.url, http);
  const length = Number(response.headers['content-length']);
  const total = Number.isFinite(length) && length > 0 ? length : undefined;
  let received = 0;
  const meter = hashingMeter((n) => onProgress?.((received += n), total));
  try {
    await pipeline(response.body, meter.stream, createWriteStream(dest, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    response.body.destroy();
    if (isStall(error)) throw stallError(wheel.url, http.stallTimeoutMs, error);
    throw diskOrNetworkError(error, `downloading ${wheel.url} to ${dest}`);
  }
  if (total !== undefined && received !== total) throw new MilvusLiteInstallError(`the download from ${wheel.url} ended after ${received} of ${total} bytes; run \`leasehold-milvus install\` again`);
  return meter.digest().sha256;
}

/** A clear error for a failed write (disk full, no permission) or a dropped connection while `doing`. */
export function diskOrNetworkError(error: unknown, doing: string): MilvusLiteInstallError {
  const code = (error as { code?: string }).code;
  const hint =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'the disk is full: free some space (the native engine needs about 230 MB while installing, 170 MB after), or set LEASEHOLD_CACHE_DIR to another disk'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'cannot write there: fix its permissions, or set LEASEHOLD_CACHE_DIR to a writable directory'
        : 'run `leasehold-milvus install` again';
  return new MilvusLiteInstallError(`${doing} failed: ${(error as Error).message}; ${hint}`, { cause: error });
}
