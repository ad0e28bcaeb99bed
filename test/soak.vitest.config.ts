import { defineConfig } from 'vitest/config';

// `pnpm soak`: the bounded soak test alone. SOAK_SECONDS sets its budget (default 120).
export default defineConfig({
  test: {
    include: ['test/soak/**/*.test.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 5 * 60_000,
    pool: 'forks',
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
    globalSetup: ['test/global-setup.ts'],
  },
});
