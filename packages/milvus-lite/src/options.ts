// The options every entry point takes, and their check. It sits above target/ (the pool's options
// name its server class) and below share/ and pool/, which both take them.
import type { LeasePoolOptions, LockOptions } from '@leasehold/pool';
import type { MilvusLiteServer, MilvusLiteServerOptions } from './target/milvus-lite-server.js';

/** Options of `createMilvusLitePool`: where milvus-lite is, timeouts, and the pool's own knobs. */
export interface MilvusLitePoolOptions
  extends MilvusLiteServerOptions,
    Pick<LeasePoolOptions<MilvusLiteServer>, 'idleTimeoutMs' | 'maxResources' | 'maxIdle' | 'captureStacks' | 'onError'> {
  /**
   * Add proper-lockfile's lock (`.<name>.leasehold` beside the database) to the engine's own.
   * Default false: milvus-lite's kernel lock (fcntl on `.<name>.lock` for 2.x, flock on `LOCK` for
   * 3.x) already excludes other processes, Python's ServerManager included, and the kernel drops it
   * the moment its owner dies, where a proper-lockfile lock left by a SIGKILLed owner blocks for
   * `staleMs`. Turn it on for network filesystems, where fcntl locks may not reach other hosts.
   */
  readonly lock?: boolean | LockOptions;
  /**
   * Share each database's server with the other processes of this user that open it (same device
   * and inode), through a per-database supervisor process, instead of `KeyLockedError`. Default:
   * `LEASEHOLD_SHARE=1` in the environment, else false. See docs/sharing.md.
   */
  readonly share?: boolean;
}


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
