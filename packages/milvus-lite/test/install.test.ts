import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { findMilvusLite, installMilvusLite, MilvusLiteError, MilvusLiteNotFoundError } from '../src/index.js';
import { processesMentioning } from './support/processes.js';
import { freshDirs } from './support/scratch-dirs.js';

const script = fileURLToPath(new URL('fixtures/open-and-release.mjs', import.meta.url));
const freshDir = freshDirs('lh-install-');
// No Python on PATH has milvus-lite here, so only leasehold's cache counts.
const cleanEnv = (cache: string): Record<string, string> => ({ PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LEASEHOLD_CACHE_DIR: cache });
const hasPipNetwork = (() => {
  try {
    execFileSync('python3', ['-c', "import urllib.request; urllib.request.urlopen('https://pypi.org/simple/milvus-lite/', timeout=10)"], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return process.env['CI'] !== undefined; // under CI a missing network fails the tests, never skips them
  }
})();

describe('install on first use', () => {
  it('a failing pip (no network) names the command, exit code and output tail, and leaves no venv', async () => {
    const cache = freshDir();
    const env = { ...process.env, LEASEHOLD_CACHE_DIR: cache, PIP_INDEX_URL: 'http://127.0.0.1:9/simple', PIP_RETRIES: '0', PIP_TIMEOUT: '1', PIP_NO_CACHE_DIR: '1' };
    const error = await installMilvusLite({ version: '2.5.1', env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MilvusLiteError);
    expect((error as Error).message).toMatch(/`.*python -m pip install .*milvus-lite==2\.5\.1` failed \(exit code \d+\):\n/);
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

  it.skipIf(!hasPipNetwork)('a SIGKILLed install leaves nothing findMilvusLite accepts; concurrent first starts in three processes install once', async () => {
    const cache = freshDir();
    // 1. An install killed midway (and its pip with it).
    const killed = execa(process.execPath, [script, join(freshDir(), 'killed.db')], { env: cleanEnv(cache), extendEnv: false, reject: false });
    const deadline = Date.now() + 60_000;
    while (!readdirSync(cache).some((n) => n.startsWith('.milvus-lite-2.5.1.tmp-')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    killed.kill('SIGKILL');
    await killed;
    for (const pid of processesMentioning(cache)) process.kill(pid, 'SIGKILL');
    await expect(findMilvusLite({ env: { PATH: '', LEASEHOLD_CACHE_DIR: cache } })).rejects.toBeInstanceOf(MilvusLiteNotFoundError);
    expect(readdirSync(cache).filter((n) => n.startsWith('milvus-lite-'))).toEqual([]);

    // 2. Three processes start a server on an empty cache at once.
    const children = [0, 1, 2].map((i) => execa(process.execPath, [script, join(freshDir(), `app-${i}.db`)], { env: cleanEnv(cache), extendEnv: false, reject: false }));
    const results = await Promise.all(children);
    for (const result of results) {
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/^leasehold: milvus-lite was not found; installing milvus-lite 2\.5\.1 from PyPI into .*milvus-lite-2\.5\.1 \(once; LEASEHOLD_NO_INSTALL=1 turns this off\)$/m);
    }
    const marker = readFileSync(join(cache, 'milvus-lite-2.5.1', '.leasehold-complete'), 'utf8');
    expect(children.map((c) => c.pid)).toContain(Number(/installed by pid (\d+)/.exec(marker)![1]));
    // Exactly one venv, and the killed install's leftovers are gone.
    expect(readdirSync(cache).sort()).toEqual(['found-milvus-lite.json', 'milvus-lite-2.5.1']);
    expect(existsSync(join(cache, '.milvus-lite-2.5.1.install.lock'))).toBe(false);
    expect((await findMilvusLite({ env: { PATH: '', LEASEHOLD_CACHE_DIR: cache } })).source).toBe('cache');
  }, 600_000);
});
