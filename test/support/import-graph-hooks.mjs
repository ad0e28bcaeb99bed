// Module loader hooks (run by import-graph.mjs through module.register): every URL the ESM loader
// resolves is appended, one a line, to the file named by data.log. Synchronous writes, so the
// list is complete when the importing process exits.
import { appendFileSync } from 'node:fs';

let log;

export function initialize(data) {
  log = data.log;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(log, `${resolved.url}\n`);
  return resolved;
}
