import { defineConfig } from 'vitest/config';

// The pool's own unit tests, for Stryker: no global setup (it installs milvus-lite), no cross-package tests.
export default defineConfig({
  test: {
    include: ['packages/pool/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'packages/pool/test/types.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
