import { defineConfig } from 'vitest/config';

// The pool's own unit tests, for Stryker: no global setup (it installs milvus-lite), no cross-package tests.
export default defineConfig({
  test: {
    include: ['packages/pool/test/**/*.test.ts'],
    // types.test.ts is tsc's; leak and native-await-using run the built dist in child processes.
    exclude: ['**/node_modules/**', '**/dist/**', 'packages/pool/test/types.test.ts', 'packages/pool/test/leak.test.ts', 'packages/pool/test/native-await-using.test.ts'],
    // The model test runs its fixed seeds only, with fewer runs each (deterministic).
    env: { LEASEHOLD_MUTATION: '1' },
    // A mutant that leaves a promise pending fails its test in seconds, instead of a Stryker timeout
    // (which restarts the worker).
    testTimeout: 4000,
    pool: 'forks',
  },
});
