// The published entries, bundled (issue 24): `tsc -b` writes one module per source file under
// dist/, and Node's ESM loader pays for each (~60 of them at `import '@leasehold/milvus-lite'`,
// ~25 ms of a cold open); esbuild joins them into dist/bundle/, which package.json's exports and
// bin name. Chunks are shared (splitting), so the entries of one package share one copy of its
// module state, and code loaded on demand (migrate, the CLI's commands, share/attach) stays out of
// the import. Dependencies stay external (installed packages, @leasehold/pool included). The
// spawner thread's and the supervisor's entries are not bundled: they are loaded by path from
// dist/ (see package-root.ts), off the critical path. meta.json (esbuild's metafile) says which
// sources each output holds: test/import-graph.test.ts reads it.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Removes tsc's outputs whose source is gone (a file moved or deleted): `tsc -b` never does, and
 * `files` would pack them (a stale dist/package-root.js was packed once).
 */
function removeOrphans(pkg) {
  const dist = join(root, 'packages', pkg, 'dist');
  const src = join(root, 'packages', pkg, 'src');
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    const rel = relative(dist, path);
    if (rel.startsWith('bundle') || !/\.(js|d\.ts)(\.map)?$/.test(rel)) continue;
    if (!existsSync(join(src, rel.replace(/\.(js|d\.ts)(\.map)?$/, '.ts')))) rmSync(path);
  }
}

async function bundle(pkg, entries) {
  removeOrphans(pkg);
  const dist = join(root, 'packages', pkg, 'dist');
  // Afresh: chunk names carry a hash, and a stale chunk would be packed.
  rmSync(join(dist, 'bundle'), { recursive: true, force: true });
  const result = await build({
    absWorkingDir: dist,
    entryPoints: Object.fromEntries(entries.map((entry) => [entry.replace(/\.js$/, ''), join(dist, entry)])),
    outdir: join(dist, 'bundle'),
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20.10',
    packages: 'external',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  writeFileSync(join(dist, 'bundle', 'meta.json'), JSON.stringify(result.metafile));
}

await bundle('pool', ['index.js']);
await bundle('milvus-lite', ['index.js', 'testing/index.js', 'bin.js']);
