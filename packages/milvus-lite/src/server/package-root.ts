import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MilvusLiteError } from '../errors.js';

const kName = '@leasehold/milvus-lite';
const here = dirname(fileURLToPath(import.meta.url));

/** `dir`'s package.json, parsed; undefined when there is none or it does not parse. */
function manifestIn(dir: string): { readonly name?: unknown; readonly version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined;
  }
}

/**
 * This package's directory (where its package.json, named @leasehold/milvus-lite, is) and its
 * version, that package.json read once, from wherever this code runs: `dist/…` (tsc's modules),
 * `dist/bundle/chunks/` (the bundle the exports name, scripts/bundle.mjs), or `src/…` (the tests).
 * Undefined when no such package.json is above this code: an application's bundler moved it out of
 * the package (see `builtFile`).
 */
const found = ((): { readonly dir: string; readonly version: unknown } | undefined => {
  for (let dir = here; ; dir = dirname(dir)) {
    const manifest = existsSync(join(dir, 'package.json')) ? manifestIn(dir) : undefined;
    if (manifest?.name === kName) return { dir, version: manifest.version };
    if (dirname(dir) === dir) return undefined;
  }
})();

/**
 * This package's directory (see `found`). Files loaded by path (the spawner thread's entry, the
 * supervisor's) are found from here, in `dist/`. Undefined when bundled into an application.
 */
export const packageRoot: string | undefined = found?.dir;

/**
 * A file of the build, `dist/<path>`, by its path from `dist/`.
 * @throws MilvusLiteError when it is not there, saying why: this code was bundled into an
 *   application (its code moved, its files did not: keep the package external to the bundler), or
 *   the install is incomplete (reinstall it).
 */
export function builtFile(path: string): string {
  if (packageRoot === undefined) {
    throw new MilvusLiteError(
      `${kName} runs from ${here}, outside its package (no package.json named ${kName} above it): a bundler inlined it into your application, but it loads files of its own by path (dist/${path}); keep it external to the bundle (esbuild --external:${kName}, webpack externals, rollup external) and install it beside your bundle`,
    );
  }
  const file = join(packageRoot, 'dist', path);
  if (!existsSync(file)) throw new MilvusLiteError(`${kName}'s file ${file} is missing: the install is incomplete; reinstall ${kName}`);
  return file;
}

/** This package's version, from its package.json ('unknown' when it has none, or when bundled into an application). */
export function packageVersion(): string {
  return typeof found?.version === 'string' ? found.version : 'unknown';
}
