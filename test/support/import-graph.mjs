// `node --import ./import-graph.mjs -e "await import(X)"` with LEASEHOLD_IMPORT_GRAPH=<file>:
// writes every module the process loads to <file>, one URL a line: ESM through the loader's
// resolve hook, CommonJS (required from inside packages) from require.cache at exit. A worker
// thread (it runs this --import too) writes to <file>.thread-<threadId> instead.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread, threadId } from 'node:worker_threads';

const base = process.env['LEASEHOLD_IMPORT_GRAPH'];
const log = base && (isMainThread ? base : `${base}.thread-${threadId}`);
if (log) {
  writeFileSync(log, '');
  register(new URL('./import-graph-hooks.mjs', import.meta.url), { data: { log } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    appendFileSync(log, Object.keys(require.cache).map((path) => `${pathToFileURL(path).href}\n`).join(''));
  });
}
