import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { installationOf } from '../../packages/milvus-lite/test/support/installations.js';

const installation = installationOf('native');

describe.skipIf(installation === undefined)('the node:test helper', () => {
  it('runs a node:test suite with a scratch database per test', async () => {
    const suite = fileURLToPath(new URL('./node-test.mjs', import.meta.url));
    const result = await execa(process.execPath, ['--test', '--test-reporter=tap', suite], {
      reject: false,
      env: { MILVUS_LITE_INSTALLATION: JSON.stringify(installation) },
      timeout: 120_000,
    });
    expect(result.stdout).toMatch(/# pass 2/);
    expect(result.stdout).toMatch(/# fail 0/);
    expect(result.exitCode).toBe(0);
  });
});
