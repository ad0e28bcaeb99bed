import type { MilvusLitePoolOptions } from './pool/milvus-lite-pool.js';
import type { MilvusLiteServerOptions } from './server/local-server.js';

// Every option name, checked against the interfaces at compile time (a missing or extra key is a type error).
const kServerOptionKeys: Readonly<Record<keyof MilvusLiteServerOptions, true>> = {
  python: true,
  binary: true,
  engine: true,
  env: true,
  installation: true,
  install: true,
  startTimeoutMs: true,
  stopTimeoutMs: true,
  port: true,
  onStartStep: true,
};
const kPoolOptionKeys: Readonly<Record<keyof MilvusLitePoolOptions, true>> = {
  ...kServerOptionKeys,
  idleTimeoutMs: true,
  maxResources: true,
  maxIdle: true,
  captureStacks: true,
  onError: true,
  lock: true,
  share: true,
};

/** The names `createMilvusLitePool` takes (MilvusLitePoolOptions). */
export const kPoolOptions: ReadonlySet<string> = new Set(Object.keys(kPoolOptionKeys));

/**
 * Throws a TypeError naming the first key of `options` that `known` lacks, and what `where` takes:
 * plain JS (or a cast) must not get a typo, or an option of another function, silently ignored.
 * `hint` adds where that key belongs, when it does.
 */
export function rejectUnknownOptions(where: string, options: object, known: ReadonlySet<string>, hint?: (key: string) => string | undefined): void {
  for (const key in options) {
    if (known.has(key)) continue;
    const belongs = hint?.(key);
    throw new TypeError(`${where}: unknown option ${JSON.stringify(key)} (it takes ${[...known].join(', ')})${belongs === undefined ? '' : `; ${belongs}`}`);
  }
}
