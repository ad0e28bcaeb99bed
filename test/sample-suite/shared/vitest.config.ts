import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['*.test.ts'],
    globalSetup: ['./global-setup.ts'],
    pool: 'forks',
    // Two files in two worker processes, one database between them.
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 2,
  },
});
