import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

// Importing a package's main entry loads only what openMilvus (or a LeasePool) uses: checked from
// the module graph the loader saw (test/support/import-graph.mjs), not with a timer.
const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'lh-import-graph-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Every module URL a fresh `node` loads for `import(specifier)` from `cwd`. */
async function modulesLoadedBy(specifier: string, cwd: string): Promise<string[]> {
  const log = join(scratch, `${specifier.replaceAll('/', '_')}.txt`);
  await execa('node', ['--import', join(root, 'test/support/import-graph.mjs'), '--input-type=module', '-e', `await import(${JSON.stringify(specifier)});`], {
    cwd,
    env: { LEASEHOLD_IMPORT_GRAPH: log },
  });
  return [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
}

/** The npm packages among `urls` (by their node_modules directory). */
const packagesOf = (urls: readonly string[]): Set<string> =>
  new Set(urls.flatMap((url) => [...url.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((match) => match[1]!).filter((name) => name !== '.pnpm')));

const kNeverAtImport = ['execa', 'proper-lockfile', 'async-mutex', 'generic-pool', 'cli-progress', 'undici', 'yauzl', 'fs-native-extensions', '@zilliz/milvus2-sdk-node'];

describe('importing a main entry', () => {
  it('@leasehold/milvus-lite loads none of the dependencies or modules openMilvus does not use', async () => {
    const urls = await modulesLoadedBy('@leasehold/milvus-lite', join(root, 'packages/milvus-lite'));
    // The hook saw the import (so an empty list cannot pass for a clean one).
    expect(urls.some((url) => url.endsWith('/milvus-lite/dist/client/open-milvus.js'))).toBe(true);
    const loaded = packagesOf(urls);
    for (const name of kNeverAtImport) expect(loaded, name).not.toContain(name);
    const own = urls.filter((url) => url.includes('/packages/milvus-lite/dist/')).map((url) => url.replace(/^.*\/dist\//, ''));
    for (const file of ['cli/migrate.js', 'cli/dump.js', 'install/install.js', 'cli.js', 'cli/main.js', 'cli/args.js', 'lock-broker.js', 'share/attach.js', 'share/supervisor.js', 'share/control.js', 'share/protocol.js', 'share/peer-credentials.js']) {
      expect(own, file).not.toContain(file);
    }
    expect(own.filter((file) => file.startsWith('testing/'))).toEqual([]);
  });

  // Issue 24: execa's import (~110 ms) left the critical path for the spawner thread. The script runs
  // as `node --input-type=module -e`, an option the thread must not inherit (it ended the thread).
  it('a cold open through the native engine (openMilvus, a call, dispose) never loads execa on the main thread: the spawner thread spawns', async () => {
    const db = join(mkdtempSync(join(scratch, 'db-')), 'cold.db');
    const log = join(scratch, 'cold-open.txt');
    const script = `const { openMilvus } = await import('@leasehold/milvus-lite'); const c = await openMilvus(${JSON.stringify(db)}); const r = await c.listCollections(); console.log(r.status.error_code, c.lease.resource.engine); await c.closeConnection();`;
    const run = await execa('node', ['--import', join(root, 'test/support/import-graph.mjs'), '--input-type=module', '-e', script], {
      cwd: join(root, 'packages/milvus-lite'),
      env: { LEASEHOLD_IMPORT_GRAPH: log, LEASEHOLD_IDLE_TIMEOUT_MS: '0' },
    });
    expect(run.stdout.trim().split('\n').at(-1)).toBe('Success native'); // after the SDK's own log lines
    const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(urls.some((url) => url.endsWith('/milvus-lite/dist/server/engines/native.js'))).toBe(true);
    expect(packagesOf(urls)).toContain('@zilliz/milvus2-sdk-node');
    expect(packagesOf(urls)).not.toContain('execa');
  });

  it('@leasehold/pool loads no dependency (proper-lockfile comes with the first locked acquire)', async () => {
    const urls = await modulesLoadedBy('@leasehold/pool', join(root, 'packages/pool'));
    expect(urls.some((url) => url.endsWith('/pool/dist/lease-pool.js'))).toBe(true);
    expect([...packagesOf(urls)]).toEqual([]);
  });
});
