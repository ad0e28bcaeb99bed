// The testing layer (`@leasehold/milvus-lite/testing`): scratch databases and fixtures for vitest and
// node:test, and a shared database for test suites. It may import pool/ and every layer below it,
// never client/ or cli/. This file is its public entry point: an explicit export list.
export { createScratchPool } from './scratch-pool.js';
export type { ScratchDatabase, ScratchPool, ScratchPoolOptions } from './scratch-pool.js';
export { milvusFixture } from './vitest.js';
export type { MilvusFixtures } from './vitest.js';
export { scratchDatabase, drainScratchDatabases } from './node-test.js';
export type { NodeTestContext } from './node-test.js';
export { startSharedDatabase } from './shared-database.js';
export type { SharedDatabase } from './shared-database.js';
