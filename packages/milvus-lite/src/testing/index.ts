export { createScratchPool } from './scratch-pool.js';
export type { ScratchDatabase, ScratchPool, ScratchPoolOptions } from './scratch-pool.js';
export { milvusFixture } from './vitest.js';
export type { MilvusFixtures } from './vitest.js';
export { scratchDatabase, drainScratchDatabases } from './node-test.js';
export type { NodeTestContext } from './node-test.js';
export { startSharedDatabase } from './shared-database.js';
export type { SharedDatabase } from './shared-database.js';
