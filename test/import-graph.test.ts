import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
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

/**
 * The sources (paths under the package's dist/, as tsc wrote them) behind the modules of package
 * `pkg` among `urls`: a bundle's output stands for the sources esbuild put in it (its metafile,
 * dist/bundle/meta.json, see scripts/bundle.mjs); a module of tsc's build for itself.
 */
function sourcesOf(urls: readonly string[], pkg: 'milvus-lite' | 'pool'): { sources: string[]; modules: number } {
  const marker = `/packages/${pkg}/dist/`;
  const meta = JSON.parse(readFileSync(join(root, 'packages', pkg, 'dist/bundle/meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  const own = urls.filter((url) => url.includes(marker)).map((url) => url.slice(url.indexOf(marker) + marker.length));
  const sources = own.flatMap((file) => (file.startsWith('bundle/') ? Object.keys(meta.outputs[file]?.inputs ?? { [`(not in meta.json) ${file}`]: 1 }) : [file]));
  return { sources, modules: own.length };
}

const kNeverAtImport = ['execa', 'proper-lockfile', 'async-mutex', 'generic-pool', 'cli-progress', 'undici', 'yauzl', 'fs-native-extensions', '@zilliz/milvus2-sdk-node'];

describe('importing a main entry', () => {
  it('@leasehold/milvus-lite loads none of the dependencies or modules openMilvus does not use', async () => {
    const urls = await modulesLoadedBy('@leasehold/milvus-lite', join(root, 'packages/milvus-lite'));
    // The entry is the bundle (scripts/bundle.mjs), and the hook saw it (so an empty list cannot pass for a clean one).
    expect(urls.some((url) => url.endsWith('/milvus-lite/dist/bundle/index.js'))).toBe(true);
    const loaded = packagesOf(urls);
    for (const name of kNeverAtImport) expect(loaded, name).not.toContain(name);
    const { sources: own, modules } = sourcesOf(urls, 'milvus-lite');
    expect(own).toContain('client/open-milvus.js');
    for (const file of ['cli/migrate.js', 'cli/dump.js', 'install/install.js', 'cli.js', 'cli/main.js', 'cli/args.js', 'lock-broker.js', 'share/attach.js', 'share/supervisor.js', 'share/control.js', 'share/protocol.js', 'share/peer-credentials.js']) {
      expect(own, file).not.toContain(file);
    }
    expect(own.filter((file) => file.startsWith('testing/'))).toEqual([]);
    expect(own.filter((file) => file.startsWith('(not in meta.json)'))).toEqual([]);
    // A handful of modules for some sixty sources: Node's loader pays per module (~0.4 ms each here).
    expect(own.length).toBeGreaterThan(40);
    expect(modules).toBeLessThanOrEqual(12);
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
    expect(sourcesOf(urls, 'milvus-lite').sources).toContain('server/engines/native.js');
    expect(packagesOf(urls)).toContain('@zilliz/milvus2-sdk-node');
    expect(packagesOf(urls)).not.toContain('execa');
  });

  // execa 9 is ~180 modules; Node 20's loader spent ~150 ms of CPU on them in the thread, beside the
  // SDK's load. Bundled into the thread's entry (scripts/bundle.mjs), it is one module.
  it("the spawner thread's entry is one module: execa bundled in, nothing imported but Node's built-ins", () => {
    const meta = JSON.parse(readFileSync(join(root, 'packages/milvus-lite/dist/bundle/spawner/meta.json'), 'utf8')) as {
      outputs: Record<string, { imports: Array<{ path: string; external?: boolean }>; inputs: Record<string, unknown> }>;
    };
    const output = meta.outputs['bundle/spawner/spawn-worker.js'];
    expect(output).toBeDefined();
    expect(Object.keys(output!.inputs).some((input) => /\/node_modules\/execa\/index\.js$/.test(input))).toBe(true);
    expect(Object.keys(output!.inputs)).toContain('server/engines/spawn-worker.js');
    const imported = output!.imports.map((entry) => entry.path);
    expect(imported.length).toBeGreaterThan(0);
    expect(imported.filter((path) => !isBuiltin(path))).toEqual([]);
  });

  it('@leasehold/pool loads no dependency (proper-lockfile comes with the first locked acquire)', async () => {
    const urls = await modulesLoadedBy('@leasehold/pool', join(root, 'packages/pool'));
    expect(urls.some((url) => url.endsWith('/pool/dist/bundle/index.js'))).toBe(true);
    expect(sourcesOf(urls, 'pool').sources).toContain('lease-pool.js');
    expect(sourcesOf(urls, 'pool').modules).toBe(1);
    expect([...packagesOf(urls)]).toEqual([]);
  });
});
