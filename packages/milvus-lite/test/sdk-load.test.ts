// How openMilvus loads @zilliz/milvus2-sdk-node (client/sdk.ts): by require, once, the same module an
// application's own import gives; and when it cannot, what it says. Real native server, the real
// SDK: an application that installed our package without the SDK, and one whose SDK install lost a
// dependency (a partial install), built from the repo's own files in a scratch project.
import { cpSync, mkdirSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { createMilvusLitePool, MilvusLiteError, openMilvus } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { freshDirs } from './support/scratch-dirs.js';

const installation = installationOf('native');
const freshDir = freshDirs('lh-sdk-load-');
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const sdkDir = join(packageDir, 'node_modules', '@zilliz', 'milvus2-sdk-node');

/**
 * A project with @leasehold/milvus-lite installed (its package.json and dist copied, so that it
 * resolves from the project, not the repo) and its dependencies, without the SDK; `sdk` adds the
 * SDK's own files without its dependencies.
 */
function project(sdk: 'none' | 'without its dependencies' | { readonly entryThrows: string }): string {
  const app = freshDir();
  const modules = join(app, 'node_modules');
  const ours = join(modules, '@leasehold', 'milvus-lite');
  mkdirSync(ours, { recursive: true });
  cpSync(join(packageDir, 'package.json'), join(ours, 'package.json'));
  cpSync(join(packageDir, 'dist'), join(ours, 'dist'), { recursive: true });
  for (const entry of readdirSync(join(packageDir, 'node_modules'))) {
    if (entry === '@zilliz' || entry === 'milvus-sdk-25' || entry === '.bin') continue;
    if (entry === '@leasehold') symlinkSync(join(packageDir, 'node_modules', entry, 'pool'), join(modules, '@leasehold', 'pool'));
    else if (!entry.startsWith('.')) symlinkSync(join(packageDir, 'node_modules', entry), join(modules, entry));
  }
  if (sdk !== 'none') {
    const target = join(modules, '@zilliz', 'milvus2-sdk-node');
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(sdkDir, 'package.json'), join(target, 'package.json'));
    cpSync(join(sdkDir, 'dist'), join(target, 'dist'), { recursive: true });
    // A fault injected into the SDK's own entry: it throws something that is not an Error.
    if (typeof sdk === 'object') writeFileSync(join(target, 'dist', 'milvus', 'index.js'), `throw ${sdk.entryThrows};\n`);
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  mkdirSync(join(app, 'data'));
  writeFileSync(
    join(app, 'main.mjs'),
    `import { openMilvus } from '@leasehold/milvus-lite';
try {
  await openMilvus('./data/app.db');
  console.log(JSON.stringify({ opened: true }));
} catch (error) {
  console.log(JSON.stringify({ name: error.name, message: error.message, cause: error.cause?.message }));
}
`,
  );
  return app;
}

/** Runs the project's main.mjs: what openMilvus threw, and how long the process took to exit, in ms. */
async function run(app: string, script = 'main.mjs', ...args: string[]): Promise<{ said: { name?: string; message?: string; cause?: string; opened?: boolean }; ms: number }> {
  const started = performance.now();
  const result = await execa(process.execPath, [script, ...args], {
    cwd: app,
    // Not the runner's environment: pnpm's NODE_PATH would lend the SDK's dependencies to require.
    extendEnv: false,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], MILVUS_LITE_BIN: installation!.binary, LEASEHOLD_NO_INSTALL: '1' },
    reject: false,
    timeout: 60_000,
  });
  expect(result.exitCode, result.stderr).toBe(0);
  return { said: JSON.parse(result.stdout.trim().split('\n').at(-1)!) as never, ms: performance.now() - started };
}

describe.skipIf(installation === undefined)('openMilvus and the SDK it loads', () => {
  it('hands out a client of the very MilvusClient class an application imports, in the same process', async () => {
    const pool = createMilvusLitePool({ installation: installation! });
    try {
      const client = await openMilvus(join(freshDir(), 'a.db'), { pool });
      const sdk = await import('@zilliz/milvus2-sdk-node');
      expect(client).toBeInstanceOf(sdk.MilvusClient);
      expect(client.constructor).toBe(sdk.MilvusClient);
      expect((await client.listCollections()).status.error_code).toBe('Success');
      // Its methods keep their names; `in` sees what the handle adds.
      expect([client.search.name, client.query.name]).toEqual(['search', 'query']);
      expect([Symbol.asyncDispose in client, 'lease' in client, 'search' in client]).toEqual([true, true, true]);
      // SDK 3.x's session(clusterId) calls through its parent: the handle, so it ends with the lease.
      const session = client.session('cluster-a');
      expect((session as unknown as { parent: unknown }).parent).toBe(client);
      await client[Symbol.asyncDispose]();
      const afterRelease = await Promise.resolve()
        .then(() => session.query({ collection_name: 'docs', filter: 'id > 0' }))
        .catch((error: unknown) => error);
      expect(afterRelease).toBeInstanceOf(MilvusLiteError);
      expect((afterRelease as Error).message).toMatch(/this openMilvus handle of .*a\.db was released/);
      expect(() => Object.defineProperty(client, 'extra', { value: 1 })).toThrow(/was released/);
      expect(client.constructor).toBe(sdk.MilvusClient);
    } finally {
      await pool.close();
    }
  });

  it('an application without the SDK is told to install it; its server is stopped and the process exits at once', async () => {
    const app = project('none');
    const { said, ms } = await run(app);
    expect(said).toEqual({
      name: 'MilvusLiteError',
      message: 'openMilvus needs @zilliz/milvus2-sdk-node: npm install @zilliz/milvus2-sdk-node',
      cause: expect.stringContaining("Cannot find module '@zilliz/milvus2-sdk-node'"),
    });
    // The server it started is gone with its socket directory: nothing keeps the process (the
    // default pool's idle time would have, for 30 s), and only the database and its lock file remain.
    expect(ms).toBeLessThan(20_000);
    expect(readdirSync(join(app, 'data')).sort()).toEqual(['.app.db.lock', 'app.db']);
  });

  it('two opens at once without the SDK both say to install it; once it is installed, the next run opens the database the failed one left', async () => {
    const app = project('none');
    writeFileSync(
      join(app, 'both.mjs'),
      `import { openMilvus } from '@leasehold/milvus-lite';
const settled = await Promise.allSettled([openMilvus('./data/app.db'), openMilvus('./data/app.db')]);
console.log(JSON.stringify({ first: settled.map((r) => (r.status === 'rejected' ? r.reason.name + ': ' + r.reason.message : 'opened')) }));
`,
    );
    const needs = 'MilvusLiteError: openMilvus needs @zilliz/milvus2-sdk-node: npm install @zilliz/milvus2-sdk-node';
    expect((await run(app, 'both.mjs')).said).toEqual({ first: [needs, needs] });
    // "npm install" (here: the repo's SDK linked in). Node remembers a package it did not find for
    // the rest of the process (require and import alike), so it is the next run that opens.
    mkdirSync(join(app, 'node_modules', '@zilliz'));
    symlinkSync(realpathSync(sdkDir), join(app, 'node_modules', '@zilliz', 'milvus2-sdk-node'));
    expect((await run(app)).said).toEqual({ opened: true });
  });

  it('an SDK installed without its dependencies is "installed but could not load", naming what is missing, not "npm install" it', async () => {
    const app = project('without its dependencies');
    const { said } = await run(app);
    expect(said.name).toBe('MilvusLiteError');
    // One line: the require stack stays in the cause.
    expect(said.message).toMatch(/^openMilvus could not load @zilliz\/milvus2-sdk-node, which is installed: Error: Cannot find module '(@[a-z-]+\/)?[a-z-]+' \(a broken install: reinstall it; or a Node option/);
    expect(said.message).not.toContain('\n');
    expect(said.cause).toContain('Require stack');
    expect(said.message).toContain('a broken install: reinstall it');
    expect(said.message).not.toContain('npm install');
  });

  it('an SDK whose code throws something that is not an Error (null, a string) is said on one line, not as leasehold’s own TypeError', async () => {
    for (const [thrown, said] of [['null', 'it threw null'], ['"\\nboom\\nmore"', 'it threw boom']] as const) {
      const { said: got } = await run(project({ entryThrows: thrown }));
      expect(got.message, thrown).toBe(`openMilvus could not load @zilliz/milvus2-sdk-node, which is installed: ${said} (a broken install: reinstall it; or a Node option such as --disallow-code-generation-from-strings)`);
    }
  });
});
