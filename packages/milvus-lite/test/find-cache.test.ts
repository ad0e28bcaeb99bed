import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findMilvusLite } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { freshDirs } from './support/scratch-dirs.js';

const installation = installationOf('native');
const freshDir = freshDirs('lh-find-cache-');

describe.skipIf(installation === undefined)('findMilvusLite remembers what it learned on disk', () => {
  const env = (cache: string) => ({ PATH: process.env['PATH'], MILVUS_LITE_PYTHON: installation!.python!, LEASEHOLD_CACHE_DIR: cache });
  type Found = Record<string, { fingerprint: string; info: { version: string } }>;

  it('writes an entry, uses it without running Python, and notices a changed venv', async () => {
    const cache = freshDir();
    const first = await findMilvusLite({ env: env(cache) });
    const file = join(cache, 'found-milvus-lite.json');
    const found = JSON.parse(readFileSync(file, 'utf8')) as Found;
    expect(found[installation!.python!]?.info.version).toBe(first.version);

    // A doctored entry with the right fingerprint is believed: no Python ran (another cache dir, so a fresh in-memory cache).
    const second = freshDir();
    found[installation!.python!]!.info.version = '2.5.999';
    writeFileSync(join(second, 'found-milvus-lite.json'), JSON.stringify(found));
    expect((await findMilvusLite({ env: env(second) })).version).toBe('2.5.999');

    // The same entry with a fingerprint that no longer matches (pip changed the venv) is re-inspected.
    const third = freshDir();
    found[installation!.python!]!.fingerprint = 'changed';
    writeFileSync(join(third, 'found-milvus-lite.json'), JSON.stringify(found));
    expect((await findMilvusLite({ env: env(third) })).version).toBe(first.version);
  });
});
