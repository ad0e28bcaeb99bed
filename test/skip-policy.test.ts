// The skip policy (issue 13.5): a test that needs milvus-lite never skips silently. Child vitest
// runs with a cache dir that has nothing in it and installs turned off, so milvus-lite is missing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { ciIsSet } from '../packages/milvus-lite/test/support/skip-policy.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const emptyCache = mkdtempSync(join(tmpdir(), 'lh-skip-policy-'));
afterAll(() => rmSync(emptyCache, { recursive: true, force: true }));

function runChild(env: Record<string, string | undefined>) {
  return execa(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/skip-policy/vitest.config.ts'], {
    cwd: root,
    reject: false,
    all: true,
    extendEnv: false,
    env: {
      PATH: '/usr/bin:/bin',
      HOME: process.env['HOME'],
      LEASEHOLD_CACHE_DIR: emptyCache,
      LEASEHOLD_NO_INSTALL: '1',
      ...env,
    },
  });
}

describe('the skip policy', () => {
  it('any truthy CI counts; empty, 0, false, no and off do not', () => {
    for (const value of ['true', '1', 'yes', 'TRUE', 'on']) expect(ciIsSet({ CI: value })).toBe(true);
    for (const value of [undefined, '', '0', 'false', 'no', 'off', 'False']) expect(ciIsSet({ CI: value })).toBe(false);
  });

  it('CI=1 with milvus-lite missing: the run fails, naming what is missing', async () => {
    const result = await runChild({ CI: '1' });
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/milvus-lite \(native engine\) is required but was not found \(CI is set: these tests never skip\)/);
  });

  it('CI=1 and LEASEHOLD_SKIP_MILVUS=1: still fails (CI never skips)', async () => {
    const result = await runChild({ CI: '1', LEASEHOLD_SKIP_MILVUS: '1' });
    expect(result.exitCode).not.toBe(0);
  });

  it('outside CI, missing and not asked to skip: fails too', async () => {
    const result = await runChild({});
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/LEASEHOLD_SKIP_MILVUS=1/);
  });

  it('LEASEHOLD_SKIP_MILVUS=1 outside CI: skips, and the run ends with one loud line saying how many and why', async () => {
    const result = await runChild({ LEASEHOLD_SKIP_MILVUS: '1' });
    expect(result.exitCode).toBe(0);
    const loud = result.all.split('\n').filter((line) => line.includes('SKIPPED'));
    expect(loud).toHaveLength(1);
    expect(loud[0]).toMatch(/SKIPPED 1 of 1 tests: LEASEHOLD_SKIP_MILVUS=1 is set/);
  });
}, 120_000);
