import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { findMilvusLite, installMilvusLite, MilvusLiteError } from '../src/index.js';
import { freshDirs } from './support/scratch-dirs.js';
import { serveIndex, testWheel } from './support/wheel-index.js';

const script = fileURLToPath(new URL('fixtures/open-and-release.mjs', import.meta.url));
const freshDir = freshDirs('lh-install-');
// No Python on PATH has milvus-lite here, so only leasehold's cache counts.
const cleanEnv = (cache: string): Record<string, string> => ({ PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LEASEHOLD_CACHE_DIR: cache });
const wheel = testWheel();

describe('install on first use', () => {
  it('the python engine: a failing pip (no network) names the command, exit code and output tail, and leaves no venv', async () => {
    const cache = freshDir();
    const env = { ...process.env, LEASEHOLD_CACHE_DIR: cache, PIP_INDEX_URL: 'http://127.0.0.1:9/simple', PIP_RETRIES: '0', PIP_TIMEOUT: '1', PIP_NO_CACHE_DIR: '1' };
    const error = await installMilvusLite({ version: '3.2.2', env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MilvusLiteError);
    expect((error as Error).message).toMatch(/`.*python -m pip install .*milvus-lite==3\.2\.2 pymilvus` failed \(exit code \d+\):\n/);
    expect((error as Error).message).toMatch(/No matching distribution|Could not find|ERROR/);
    expect(readdirSync(cache).filter((n) => n.includes('milvus-lite'))).toEqual([]);
  }, 120_000);

  it('LEASEHOLD_NO_INSTALL=1 brings back the not-found error, naming the install command', async () => {
    const cache = freshDir();
    const result = await execa(process.execPath, [script, join(freshDir(), 'app.db')], { env: { ...cleanEnv(cache), LEASEHOLD_NO_INSTALL: '1' }, extendEnv: false, reject: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/MilvusLiteNotFoundError/);
    expect(result.stderr).toContain('npx leasehold-milvus install');
    expect(readdirSync(cache)).toEqual([]);
  });

  it.skipIf(wheel === undefined)('concurrent first starts in three processes, on an empty cache, install once from the index (one download), each saying so on stderr', async () => {
    const served = await serveIndex([{ path: wheel! }]);
    try {
      const cache = freshDir();
      const env = { ...cleanEnv(cache), PIP_INDEX_URL: served.url };
      const children = [0, 1, 2].map((i) => execa(process.execPath, [script, join(freshDir(), `app-${i}.db`)], { env, extendEnv: false, reject: false }));
      const results = await Promise.all(children);
      for (const result of results) {
        expect(result.exitCode, result.stderr).toBe(0);
        expect(result.stderr).toContain(`leasehold: milvus-lite was not found; installing milvus-lite 2.5.1 from ${served.url} into ${join(cache, 'milvus-lite-native-2.5.1')} (once; LEASEHOLD_NO_INSTALL=1 turns this off)`);
      }
      expect(served.requests.filter((r) => r.startsWith('GET /files/'))).toHaveLength(1);
      expect(readdirSync(cache).sort()).toEqual(['milvus-lite-native-2.5.1']);
      expect((await findMilvusLite({ env: { PATH: '', LEASEHOLD_CACHE_DIR: cache } })).source).toBe('cache');
    } finally {
      await served.close();
    }
  }, 300_000);
});
