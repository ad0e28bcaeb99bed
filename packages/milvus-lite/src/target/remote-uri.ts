import { InvalidKeyError, normalizePathKey } from '@leasehold/pool';

/**
 * Whether a string names a running Milvus rather than a local file: `http://`, `https://` (any
 * `scheme://`), `unix:` or `host:port`. Such strings pass through untouched (engine `'remote'`).
 */
export function isRemoteUri(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || value.startsWith('unix:') || /^[a-z0-9.-]+:\d{1,5}$/i.test(value);
}

/** The schemes a remote URI may have: the Node SDK connects to no others. */
const kRemoteSchemes = new Set(['http', 'https']);

/**
 * The identity of what a caller passed: a remote URI as is, a path normalized (`normalizePathKey`).
 * A `scheme://` other than http and https (`grpc://`, `tcp://`, …) is an `InvalidKeyError` naming
 * it: the SDK would fail on it with a raw name-resolution error.
 */
export async function normalizeTarget(key: unknown): Promise<string> {
  if (typeof key !== 'string' || !isRemoteUri(key)) return normalizePathKey(key);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(key)?.[1];
  if (scheme !== undefined && !kRemoteSchemes.has(scheme.toLowerCase())) {
    throw new InvalidKeyError(key, `${scheme}:// is not a scheme Milvus is reached by; use http://host:port, https://host:port, host:port, or a path to a local database file`);
  }
  return key;
}
