// Mutation testing of the milvus-lite adapter against the real servers (both engines): `pnpm mutate:adapter`.
// Separate from the pool's config: the adapter's tests start real processes, so one at a time.
// A subset: `pnpm mutate:adapter --mutate packages/milvus-lite/src/engines/server-process.ts`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.adapter-mutation.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'packages/milvus-lite/src/engines/*.ts',
    'packages/milvus-lite/src/lock-file.ts',
    'packages/milvus-lite/src/lock-holder.ts',
    'packages/milvus-lite/src/registry.ts',
    'packages/milvus-lite/src/milvus-lite-server.ts',
    'packages/milvus-lite/src/database-identity.ts',
    'packages/milvus-lite/src/server-manager.ts',
    'packages/milvus-lite/src/open-milvus.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 30_000,
  tempDirName: '.stryker-tmp-adapter',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/adapter.json' },
};
