import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MilvusLiteError } from '../errors.js';

const kName = '@leasehold/milvus-lite';
const here = dirname(fileURLToPath(import.meta.url));

/** The name in `dir`'s package.json, if it has one that parses. */
function packageNameIn(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name as string | undefined;
  } catch {
    return undefined;
  }
}

/**
 * This package's directory (where its package.json, named @leasehold/milvus-lite, is), from
 * wherever this code runs: `dist/…` (tsc's modules), `dist/bundle/chunks/` (the bundle the exports
 * name, scripts/bundle.mjs), or `src/…` (the tests). Files loaded by path (the spawner thread's
 * entry, the supervisor's) are found from here, in `dist/`. Undefined when no such package.json is
 * above this code: an application's bundler moved it out of the package (see `builtFile`).
 */
export const packageRoot: string | undefined = (() => {
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && packageNameIn(dir) === kName) return dir;
    if (dirname(dir) === dir) return undefined;
  }
})();

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

/** This package's version, from its package.json ('unknown' when it cannot be read). */
export function packageVersion(): string {
  if (packageRoot === undefined) return 'unknown';
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
