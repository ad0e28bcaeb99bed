import { defineConfig } from 'vitest/config';

// The adapter's real-server tests, for `pnpm mutate:adapter` (stryker.adapter.config.mjs): each
// mutant of the engines, lock, registry, server, ServerManager and openMilvus runs against real servers.
export default defineConfig({
  test: {
    // LEASEHOLD_MUTATE_TESTS narrows a subset run, e.g. 'packages/milvus-lite/test/native.e2e.test.ts'.
    include: process.env['LEASEHOLD_MUTATE_TESTS']?.split(',') ?? ['packages/milvus-lite/test/{faults,api,security,native.e2e,python.e2e,server-manager.property,lock-file,registry,python-interop}.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    minWorkers: 1,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});
