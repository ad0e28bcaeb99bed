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
 * Refuses a remote URI whose `scheme://` is not one Milvus is reached by (`grpc://`, `tcp://`, …):
 * the SDK would fail on it later with a raw name-resolution error.
 * @throws InvalidKeyError naming the URI and the schemes that work.
 */
export function checkRemoteScheme(uri: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1];
  if (scheme !== undefined && !kRemoteSchemes.has(scheme.toLowerCase())) {
    throw new InvalidKeyError(uri, `${scheme}:// is not a scheme Milvus is reached by; use http://host:port, https://host:port, host:port, or a path to a local database file`);
  }
}

/**
 * The identity of what a caller passed: a remote URI as is (its scheme checked by
 * `checkRemoteScheme`), a path normalized (`normalizePathKey`).
 * @throws InvalidKeyError for a scheme other than http and https, or a path `normalizePathKey` refuses.
 */
export async function normalizeTarget(key: unknown): Promise<string> {
  if (typeof key !== 'string' || !isRemoteUri(key)) return normalizePathKey(key);
  checkRemoteScheme(key);
  return key;
}
