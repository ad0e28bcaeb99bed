// Mutation testing of the milvus-lite adapter against the real servers (both engines): `pnpm mutate:adapter`.
// Separate from the pool's config: the adapter's tests start real processes, so one at a time.
// A subset: `pnpm mutate:adapter --mutate packages/milvus-lite/src/server/engines/server-process.ts`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.adapter-mutation.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'packages/milvus-lite/src/server/engines/*.ts',
    'packages/milvus-lite/src/server/lock-file.ts',
    'packages/milvus-lite/src/server/lock-holder.ts',
    'packages/milvus-lite/src/server/registry.ts',
    'packages/milvus-lite/src/server/local-server.ts',
    'packages/milvus-lite/src/target/milvus-lite-server.ts',
    'packages/milvus-lite/src/server/database-identity.ts',
    'packages/milvus-lite/src/pool/server-manager.ts',
    'packages/milvus-lite/src/client/open-milvus.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 30_000,
  tempDirName: '.stryker-tmp-adapter',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/adapter.json' },
};
