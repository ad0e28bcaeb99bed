import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { installationOf } from './support/installations.js';

/** The files left in `dir`, but the empty lock files `.<name>.lock` that stay beside native databases (docs/locking.md). */
const databasesIn = (dir: string): string[] => readdirSync(dir).filter((f) => !/^\..+\.lock$/.test(f)).sort();

const examples = fileURLToPath(new URL('../examples/dist/', import.meta.url));
const root = realpathSync(mkdtempSync(join(tmpdir(), 'lh-examples-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs a compiled example the way a user would, in its own data directory, on one engine. */
async function run(name: string, engine: 'native' | 'python'): Promise<{ stdout: string; dir: string }> {
  const dir = join(root, `${engine}-${name}`);
  mkdirSync(dir);
  const env = { MILVUS_LITE_PYTHON: installationOf(engine)!.python };
  const result = await execa(process.execPath, [join(examples, `${name}.js`), dir], { reject: false, timeout: 120_000, env });
  expect(result.exitCode, `${name} failed:\n${result.stderr}`).toBe(0);
  return { stdout: result.stdout, dir };
}

for (const engine of ['native', 'python'] as const)
describe.skipIf(installationOf(engine) === undefined)(`the examples run as a user would run them (${engine} engine)`, () => {
  it('server-manager: the Python ServerManager walkthrough', async () => {
    const { stdout, dir } = await run('server-manager', engine);
    expect(stdout).toMatch(/started .*local\.db at (unix:\/|http:\/\/127\.0\.0\.1:)/);
    expect(stdout).toContain('same path, same server: true');
    expect(stdout).toContain('nearest to "groceries milk": buy milk and bread');
    expect(stdout).toContain('released');
    expect(databasesIn(dir)).toEqual(['local.db']);
  });

  it('multi-database: users, products and analytics in three servers', async () => {
    const { stdout, dir } = await run('multi-database', engine);
    expect(stdout).toContain('users     "who enjoys chess" -> bob writes rust and plays chess');
    expect(stdout).toContain('products  "camera for photos" -> mirrorless camera with zoom lens');
    expect(stdout).toContain('analytics "why did mobile checkout drop" -> checkout conversion dropped on mobile');
    expect(stdout).toContain('servers: 3, still running: 0');
    expect(databasesIn(dir)).toEqual(['analytics.db', 'products.db', 'users.db']);
  });

  it('threaded: one database per worker thread', async () => {
    const { stdout, dir } = await run('threaded', engine);
    for (const worker of [0, 1, 2]) expect(stdout).toContain(`worker ${worker}: server pid`);
    for (const worker of [0, 1, 2]) expect(stdout).toContain(`found "item from worker ${worker}"`);
    expect(stdout).toContain('distinct servers: 3');
    expect(databasesIn(dir)).toEqual(['worker-0.db', 'worker-1.db', 'worker-2.db']);
  });

  it('demo: two tenants, searched, and every server stopped at the end', async () => {
    const { stdout, dir } = await run('demo', engine);
    expect(stdout).toMatch(/\[acme\] server pid \d+ at (unix:|http:\/\/127\.0\.0\.1:)/);
    expect(stdout).toMatch(/\[globex\] server pid \d+ at (unix:|http:\/\/127\.0\.0\.1:)/);
    expect(stdout).toContain('Q: where can I eat lunch\n         1. Lunch is served in the east cafeteria');
    expect(stdout).toContain('servers running after the demo: 0');
    expect(databasesIn(dir)).toEqual(['acme.db', 'globex.db']);
  });
});
