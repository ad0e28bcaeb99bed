import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * This package's directory (where its package.json is), from wherever this code runs: `dist/…`
 * (tsc's modules), `dist/bundle/chunks/` (the bundle the exports name, scripts/bundle.mjs), or
 * `src/…` (the tests). Files loaded by path (the spawner thread's entry, the supervisor's) are
 * found from here, in `dist/`.
 */
export const packageRoot: string = (() => {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return here;
  }
})();

/** A file of the tsc build, `dist/<path>`, by its path from `dist/`. */
export function builtFile(path: string): string {
  return join(packageRoot, 'dist', path);
}

/** This package's version, from its package.json ('unknown' when it cannot be read). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
