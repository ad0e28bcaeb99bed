// Wheel names and the default index: no network code here, so that what reads them (the install's
// diagnosis at a failed start, the config) does not load undici with the package.

/** PyPI's simple index: the default, replaced by `PIP_INDEX_URL` (pip's own variable). */
export const kDefaultIndexUrl = 'https://pypi.org/simple';

/**
 * The parts of a wheel file name (PEP 427): `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.
 * `undefined` when it is not one.
 */
export function parseWheelName(filename: string): { name: string; version: string; platformTags: string[] } | undefined {
  const match = /^([^-]+)-([^-]+)(?:-\d[^-]*)?-([^-]+)-([^-]+)-([^-]+)\.whl$/.exec(filename);
  if (match === null) return undefined;
  return { name: match[1]!, version: match[2]!, platformTags: match[5]!.split('.') };
}
