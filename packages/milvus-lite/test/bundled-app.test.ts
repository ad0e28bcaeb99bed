// An application that bundles @leasehold/milvus-lite into its own file (esbuild, webpack…): the
// code moves, the package's own files (the spawner thread's entry, the supervisor's) do not. The
// start says so, and what to do, instead of a spawner thread that dies on a missing module and a
// server "killed" that never ran (a newcomer's report). Real native server, real esbuild.
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { installationOf } from './support/installations.js';
import { freshDirs } from './support/scratch-dirs.js';

const installation = installationOf('native');
const freshDir = freshDirs('lh-bundled-app-');
const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe.skipIf(installation === undefined)('an application that bundled the package into its own file', () => {
  it('a native open says the package must stay external to the bundle, takes nothing, and the same code unbundled opens', async () => {
    const app = freshDir();
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'bundled-app', private: true, type: 'module' }));
    // The package's dependencies resolve from the app (as they would when installed there).
    symlinkSync(join(packageDir, 'node_modules'), join(app, 'node_modules'));
    const db = join(app, 'data', 'app.db');
    mkdirSync(join(app, 'data'));
    const source = join(app, 'main.mjs');
    writeFileSync(
      source,
      `import { openMilvus } from ${JSON.stringify(join(packageDir, 'dist/bundle/index.js'))};
try {
  const client = await openMilvus(${JSON.stringify(db)});
  const listed = await client.listCollections();
  console.log(JSON.stringify({ opened: listed.status.error_code }));
  await client.closeConnection();
} catch (error) {
  console.log(JSON.stringify({ name: error.name, message: error.message, cause: error.cause?.message }));
}
`,
    );
    // Our code inlined into the app's bundle; its dependencies stay external, as an app's usually do.
    await build({ entryPoints: [source], outfile: join(app, 'out', 'main.mjs'), bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' });
    const env = { LEASEHOLD_IDLE_TIMEOUT_MS: '0', MILVUS_LITE_BIN: installation!.binary };
    const bundled = await execa(process.execPath, [join(app, 'out', 'main.mjs')], { cwd: app, env, reject: false, timeout: 60_000 });
    expect(bundled.exitCode, bundled.stderr).toBe(0);
    const said = JSON.parse(bundled.stdout.trim().split('\n').at(-1)!) as { name: string; message: string; cause?: string };
    expect(said.name).toBe('StartError');
    expect(said.cause).toContain(db);
    expect(said.cause).toContain('outside its package');
    expect(said.cause).toContain('keep it external to the bundle (esbuild --external:@leasehold/milvus-lite');
    expect(said.cause).not.toMatch(/killed|exited while starting|reinstall/);
    // Nothing taken: the lock file stays as the check left it, and no server or socket dir remains.
    expect(readdirSync(join(app, 'data')).sort()).toEqual(['.app.db.lock', 'app.db']);
    // The same source, unbundled, opens.
    const plain = await execa(process.execPath, [source], { cwd: app, env, reject: false, timeout: 60_000 });
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout.trim().split('\n').at(-1)!)).toEqual({ opened: 'Success' });
  });
});
