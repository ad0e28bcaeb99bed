import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'lh-pack-')));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const registryReachable = (() => {
  try {
    execFileSync('npm', ['view', '@zilliz/milvus2-sdk-node@3.0.6', 'version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return process.env['CI'] !== undefined; // under CI a missing registry fails the test, never skips it
  }
})();

// The README's quick start, as a Node 20 user writes it in plain JS (no `await using`).
const kQuickStartJs = `
import { openMilvus } from '@leasehold/milvus-lite';

const client = await openMilvus(process.argv[2]);
try {
  await client.createCollection({ collection_name: 'docs', dimension: 4 });
  await client.insert({ collection_name: 'docs', data: [{ id: 1, vector: [0.1, 0.2, 0.3, 0.4] }] });
  const { results } = await client.search({ collection_name: 'docs', data: [0.1, 0.2, 0.3, 0.4], limit: 1 });
  console.log('found', results[0].id);
} finally {
  await client[Symbol.asyncDispose]();
}
`;
const kQuickStartTs = `
import { openMilvus } from '@leasehold/milvus-lite';

await using client = await openMilvus(process.argv[2]!);
await client.createCollection({ collection_name: 'docs', dimension: 4 });
await client.insert({ collection_name: 'docs', data: [{ id: 1, vector: [0.1, 0.2, 0.3, 0.4] }] });
const { results } = await client.search({ collection_name: 'docs', data: [0.1, 0.2, 0.3, 0.4], limit: 1 });
console.log('found', results[0]!.id);
`;

describe.skipIf(!registryReachable)('the packed packages, installed with npm outside the workspace', () => {
  it('ship no build leftovers, and run the README quick start in plain JS and in TypeScript', async () => {
    const tarballs = join(scratch, 'tarballs');
    for (const pkg of ['pool', 'milvus-lite']) await execa('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(root, 'packages', pkg) });
    const files = readdirSync(tarballs).map((name) => join(tarballs, name));
    expect(files).toHaveLength(2);
    for (const file of files) {
      const listing = (await execa('tar', ['-tzf', file])).stdout.split('\n');
      expect(listing.filter((f) => f.endsWith('.tsbuildinfo'))).toEqual([]);
      // No output of a source that is gone (tsc -b never removes one; scripts/bundle.mjs does).
      const orphans = listing.filter((f) => /^package\/dist\/(?!bundle\/).*\.(js|d\.ts)$/.test(f) && !listing.includes(f.replace(/^package\/dist\//, 'package/src/').replace(/\.(js|d\.ts)$/, '.ts')));
      expect(orphans).toEqual([]);
      expect(listing.some((f) => f.startsWith('package/dist/bundle/index.js'))).toBe(true);
      expect(listing).toContain('package/LICENSE');
      // Every source map points at a shipped source.
      for (const map of listing.filter((f) => f.endsWith('.js.map')).slice(0, 5)) {
        const { sources } = JSON.parse((await execa('tar', ['-xzOf', file, map])).stdout) as { sources: string[] };
        for (const source of sources) expect(listing).toContain(join(map, '..', source));
      }
      if (file.includes('milvus-lite')) {
        // The spawner thread's entry, execa bundled in, and the licenses of what it bundles.
        expect(listing).toContain('package/dist/bundle/spawner/spawn-worker.js');
        const licenses = (await execa('tar', ['-xzOf', file, 'package/dist/bundle/spawner/THIRD-PARTY-LICENSES.txt'])).stdout;
        expect(licenses).toMatch(/^execa@9\.\d+\.\d+ \(MIT\)$/m);
        expect(licenses).toMatch(/^cross-spawn@\d+\.\d+\.\d+ \(MIT\)$/m);
      }
    }

    const project = join(scratch, 'app');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await execa('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files, '@zilliz/milvus2-sdk-node@3.0.6'], { cwd: project, timeout: 300_000 });

    writeFileSync(join(project, 'quick-start.mjs'), kQuickStartJs);
    const js = await execa(process.execPath, ['quick-start.mjs', join(project, 'js.db')], { cwd: project, reject: false, timeout: 120_000 });
    expect(js.exitCode, js.stderr).toBe(0);
    expect(js.stdout).toContain('found 1');

    writeFileSync(join(project, 'quick-start.ts'), kQuickStartTs);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', lib: ['ES2023', 'esnext.disposable', 'DOM'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: [], outDir: 'out' }, files: ['quick-start.ts'] }),
    );
    const tsc = await execa(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project, reject: false });
    expect(tsc.exitCode, tsc.stdout).toBe(0);
    const ts = await execa(process.execPath, ['out/quick-start.js', join(project, 'ts.db')], { cwd: project, reject: false, timeout: 120_000 });
    expect(ts.exitCode, ts.stderr).toBe(0);
    expect(ts.stdout).toContain('found 1');
  }, 600_000);
});
