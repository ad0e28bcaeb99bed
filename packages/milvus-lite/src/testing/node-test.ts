import { createScratchPool, type ScratchDatabase, type ScratchPool, type ScratchPoolOptions } from './scratch-pool.js';

/** The part of node:test's `TestContext` this helper needs. */
export interface NodeTestContext {
  after(fn: () => unknown): void;
}

let shared: ScratchPool | undefined;

/**
 * For `node:test`: a fresh, empty database for the test `t`, destroyed when the test ends. Scratch
 * servers come from one pre-warmed pool per process (options apply when it is first created);
 * `drainScratchDatabases()` in an `after` hook stops the warm ones.
 *
 * @example
 * test('inserts', async (t) => {
 *   const db = await scratchDatabase(t);
 *   const client = new MilvusClient({ address: db.uri });
 * });
 */
export async function scratchDatabase(t: NodeTestContext, options: ScratchPoolOptions = {}): Promise<ScratchDatabase> {
  const pool = (shared ??= createScratchPool(options));
  const database = await pool.acquire();
  t.after(() => pool.destroy(database));
  return database;
}

/** Stops the warm scratch servers of `scratchDatabase`. */
export async function drainScratchDatabases(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.drain();
}
