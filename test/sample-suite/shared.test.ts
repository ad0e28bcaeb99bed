import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { installationOf } from '../../packages/milvus-lite/test/support/installations.js';

describe.skipIf(installationOf('native') === undefined)('the globalSetup recipe', () => {
  it('shares one database between the worker processes of a suite', async () => {
    const config = fileURLToPath(new URL('./shared/vitest.config.ts', import.meta.url));
    const vitest = fileURLToPath(new URL('../../node_modules/.bin/vitest', import.meta.url));
    const result = await execa(vitest, ['run', '--config', config], { reject: false, timeout: 120_000, env: { NO_COLOR: '1', FORCE_COLOR: '0' } });
    expect(result.stdout).toMatch(/Tests\s+2 passed/);
    const lines = [...result.stdout.matchAll(/pid (\d+) uri (\S+)/g)];
    expect(lines).toHaveLength(2);
    expect(lines[0]![1]).not.toBe(lines[1]![1]);
    expect(lines[0]![2]).toBe(lines[1]![2]);
    expect(result.exitCode).toBe(0);
  });
});
