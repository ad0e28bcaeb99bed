// The published entries, bundled (issue 24): `tsc -b` writes one module per source file under
// dist/, and Node's ESM loader pays for each (~60 of them at `import '@leasehold/milvus-lite'`,
// ~25 ms of a cold open); esbuild joins them into dist/bundle/, which package.json's exports and
// bin name. Chunks are shared (splitting), so the entries of one package share one copy of its
// module state, and code loaded on demand (migrate, the CLI's commands, share/attach) stays out of
// the import. Dependencies stay external (installed packages, @leasehold/pool included), except
// in the spawner thread's entry (below). The supervisor's entry is not bundled: it is loaded by
// path from dist/ (see package-root.ts), off the critical path. meta.json (esbuild's metafile)
// says which sources each output holds: test/import-graph.test.ts reads it.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
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

/** The package directory (holding a package.json with a name) of a bundled dependency's file. */
function packageDirOf(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name !== undefined) return dir;
  }
  throw new Error(`no package.json above ${file}`);
}

/**
 * The spawner thread's entry (server/engines/spawn-worker.js), bundled with its dependencies,
 * execa included, into one file (dist/bundle/spawner/spawn-worker.js): execa 9 is ~180 modules,
 * and Node 20's ESM loader spent ~150 ms of CPU resolving and compiling them in the thread, on a
 * 2-core machine beside the SDK's load, whose own background threads it then slowed (issue 24:
 * 46 ms of a cold open's wall time, paired). execa stays the spawner, at the version this repo's
 * lockfile resolves; the license of each bundled package is written beside the bundle
 * (THIRD-PARTY-LICENSES.txt), as their terms (MIT, ISC, Apache-2.0) ask. No source map: it would
 * be execa's sources again (~0.5 MB in the tarball). The main thread's uses of execa (the
 * python engine, the installer) import the installed package as before.
 */
async function bundleSpawner() {
  const dist = join(root, 'packages', 'milvus-lite', 'dist');
  const outdir = join(dist, 'bundle', 'spawner');
  const result = await build({
    absWorkingDir: dist,
    entryPoints: { 'spawn-worker': join(dist, 'server', 'engines', 'spawn-worker.js') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.10',
    // cross-spawn (execa's) is CommonJS and requires Node's built-ins: an ES module has no require.
    banner: { js: "import { createRequire as __leaseholdCreateRequire } from 'node:module';\nconst require = __leaseholdCreateRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  const packages = new Map();
  for (const input of Object.keys(result.metafile.inputs)) {
    if (!input.includes('node_modules')) continue;
    const dir = packageDirOf(join(dist, input));
    const { name, version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((entry) => /^(licen[cs]e|copying)(\.|$)/i.test(entry));
    if (file === undefined) throw new Error(`${name}@${version} is bundled into the spawner thread's entry but ships no license file`);
    packages.set(`${name}@${version}`, `${name}@${version} (${license})\n\n${readFileSync(join(dir, file), 'utf8').trim()}\n`);
  }
  const notices = [...packages].sort(([a], [b]) => a.localeCompare(b)).map(([, text]) => text);
  writeFileSync(join(outdir, 'THIRD-PARTY-LICENSES.txt'), `Packages bundled into spawn-worker.js, with their licenses.\n\n${notices.join('\n---\n\n')}`);
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
}

await bundle('pool', ['index.js']);
await bundle('milvus-lite', ['index.js', 'testing/index.js', 'bin.js']);
await bundleSpawner();
