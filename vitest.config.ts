import { defineConfig } from 'vitest/config';

// One run covers every package and the cross-package tests in test/.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'test/soak/**', 'test/sample-suite/shared/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // milvus-lite servers are heavy: two cores, so keep file-level parallelism modest.
    maxWorkers: 2,
    minWorkers: 1,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    // The type-level tests (expectTypeOf) run through tsc as part of `pnpm test`: a wrong type fails the run.
    typecheck: {
      enabled: true,
      include: ['packages/pool/test/types.test.ts'],
      tsconfig: 'packages/pool/tsconfig.test.json',
    },
    // A run that skipped anything ends with one loud line saying how many and why.
    reporters: ['default', './test/skip-reporter.ts'],
  },
});
