import type { TestAPI } from 'vitest';
import { createScratchPool, type ScratchDatabase, type ScratchPool, type ScratchPoolOptions } from './scratch-pool.js';

/** The fixtures `milvusFixture` adds: `milvus` per test, and the worker's scratch pool behind it. */
export interface MilvusFixtures {
  /** A fresh, empty, running database for this test; destroyed after it. */
  milvus: ScratchDatabase;
}

/**
 * Extends vitest's `test` with a `milvus` fixture: every test gets a fresh, empty database from a
 * worker-scoped pool of pre-warmed scratch servers (see `createScratchPool`). Pass your `test` in,
 * so this module never imports vitest itself.
 *
 * @example
 * import { test as base, expect } from 'vitest';
 * const test = milvusFixture(base);
 * test('inserts', async ({ milvus }) => {
 *   const client = new MilvusClient({ address: milvus.uri });
 * });
 */
export function milvusFixture(test: TestAPI, options: ScratchPoolOptions = {}): TestAPI<MilvusFixtures> {
  return test.extend<MilvusFixtures & { milvusScratchPool: ScratchPool }>({
    milvusScratchPool: [
      // eslint-disable-next-line no-empty-pattern -- vitest reads fixture dependencies from the destructuring pattern.
      async ({}, use) => {
        const pool = createScratchPool(options);
        await use(pool);
        await pool.drain();
      },
      { scope: 'worker' },
    ],
    milvus: async ({ milvusScratchPool }, use) => {
      const database = await milvusScratchPool.acquire();
      try {
        await use(database);
      } finally {
        await milvusScratchPool.destroy(database);
      }
    },
  }) as unknown as TestAPI<MilvusFixtures>;
}
