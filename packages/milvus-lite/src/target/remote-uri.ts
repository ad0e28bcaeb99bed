import { normalizePathKey } from '@leasehold/pool';

/**
 * Whether a string names a running Milvus rather than a local file: `http://`, `https://` (any
 * `scheme://`), `unix:` or `host:port`. Such strings pass through untouched (engine `'remote'`).
 */
export function isRemoteUri(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || value.startsWith('unix:') || /^[a-z0-9.-]+:\d{1,5}$/i.test(value);
}

/** The identity of what a caller passed: a remote URI as is, a path normalized (`normalizePathKey`). */
export async function normalizeTarget(key: unknown): Promise<string> {
  return typeof key === 'string' && isRemoteUri(key) ? key : normalizePathKey(key);
}
