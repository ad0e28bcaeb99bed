import { defineConfig } from 'vitest/config';

// The main config's global setup and skip reporter, on one fixture file.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/skip-policy/needs-milvus.fixture.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/skip-reporter.ts'],
    pool: 'forks',
  },
});
