import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { createMilvusLitePool } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { freshDirs } from './support/scratch-dirs.js';
import { connect, createDocs, insertRows } from './support/milvus-data.js';
import { isAlive } from './support/processes.js';

// The CLI as installed: the bin shim pnpm puts in node_modules/.bin for the workspace.
const cli = fileURLToPath(new URL('../../../node_modules/.bin/leasehold-milvus', import.meta.url));
const installation = installationOf('native');
const freshDir = freshDirs('lh-cli-');
const run = (args: string[], env: Record<string, string> = {}) => execa(cli, args, { reject: false, env, timeout: 120_000 });

describe('leasehold-milvus: usage', () => {
  it.each(['', 'serve', 'dump', 'doctor', 'install'])('--help %s prints usage and exits 0', async (command) => {
    const result = await run(command ? [command, '--help'] : ['--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(command ? new RegExp(`^Usage: leasehold-milvus ${command}`) : /Commands:/);
  });

  it('no command at all is bad usage: exit 2, the help on stderr (newcomer: it exited 0)', async () => {
    const result = await run([]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/Commands:/);
    expect(result.stdout).toBe('');
  });

  it('--version (and -V) prints the package version, exit 0 (newcomer: it was an unknown command)', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await run([flag]);
      expect([result.exitCode, result.stdout.trim()]).toEqual([0, version]);
    }
  });

  it('stop --help says what its exit codes mean (1: nothing serves the database)', async () => {
    const result = await run(['stop', '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Exit codes: 0 stopped; 1 no shared server serves <db>');
  });

  it.each([
    [['bogus'], /unknown command "bogus"/],
    [['serve'], /serve needs a database path/],
    [['serve', 'x.db', '--engine', 'rust'], /--engine must be auto, native or python, got "rust"/],
    [['dump', '-d', 'x.db'], /dump needs -d <db>, -c <collection> and -p <dir>/],
    [['serve', 'a.db', 'b.db'], /unexpected argument "b.db"/],
    [['install', '--version', 'latest!'], /version must look like 2\.5\.1/],
    [['serve', 'x.db', '--port', 'http'], /--port must be an integer from 1 to 65535, got "http"/],
    [['dump', '-d', 'package.json', '-c', 'docs', '-p', 'package.json'], /the dump path .*package\.json is a file, not a directory; pass a directory/],
  ])('%j is bad usage: exit 2 and one line on stderr', async (args, message) => {
    const result = await run(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe.skipIf(installation === undefined)('leasehold-milvus with the real server', () => {
  it('serve --port on the native engine is bad usage: exit 2, one line saying --port is the python engine\'s, and nothing made', async () => {
    const dir = freshDir();
    const result = await run(['serve', join(dir, 'x.db'), '--engine', 'native', '--port', '19530']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--port applies to the python engine \(milvus-lite ≥ 3\) only; the native engine \(milvus-lite [\d.]+\) serves on a private unix socket: leave --port out, or add --engine python/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a database that does not exist or is empty (migrate’s source, dump) or is not one (serve) is bad usage: exit 2, one line naming it, nothing made or changed', async () => {
    const dir = freshDir();
    for (const args of [['migrate', join(dir, 'missing.db'), join(dir, 'target.db')], ['dump', '-d', join(dir, 'missing.db'), '-c', 'docs', '-p', dir]]) {
      const result = await run(args);
      expect(result.exitCode, args[0]).toBe(2);
      expect(result.stderr, args[0]).toMatch(new RegExp(`^leasehold-milvus: cannot open ${join(dir, 'missing.db')}: it does not exist; check the`));
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(readdirSync(dir)).toEqual([]);
    // A file that is not a database, given to serve: the same (the start's refusal, its cause, says why).
    const notDb = join(dir, 'notes.db');
    writeFileSync(notDb, 'not a database');
    const served = await run(['serve', notDb]);
    expect(served.exitCode).toBe(2);
    expect(served.stderr).toContain(`cannot open ${notDb}: it is not a milvus-lite database`);
    expect(readFileSync(notDb, 'utf8')).toBe('not a database');
    // An empty file, as migrate's source or dump's database: milvus-lite would make it a database as
    // it opened it; neither command writes its source.
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    for (const args of [['migrate', empty, join(dir, 'target.db')], ['dump', '-d', empty, '-c', 'docs', '-p', join(dir, 'out')]]) {
      const result = await run(args);
      expect(result.exitCode, args[0]).toBe(2);
      expect(result.stderr, args[0]).toMatch(new RegExp(`^leasehold-milvus: cannot open ${empty}: it is empty \\(0 bytes\\), not a database; check the .*never writes`));
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(readdirSync(dir).sort()).toEqual(['empty.db', 'notes.db']);
    expect(readFileSync(empty, 'utf8')).toBe('');
  });

  it('serve prints the URI, serves until SIGINT, then stops cleanly', async () => {
    const dbPath = join(freshDir(), 'served.db');
    const child = execa(cli, ['serve', dbPath, '--json'], { reject: false });
    const line = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(String(chunk))));
    const info = JSON.parse(line) as { uri: string; pid: number; dbPath: string; engine: string };
    expect(info).toMatchObject({ dbPath, engine: 'native' });
    const client = await connect(info.uri);
    expect((await client.listCollections()).status.error_code).toBe('Success');
    await client.closeConnection();
    child.kill('SIGINT');
    expect((await child).exitCode).toBe(0);
    expect(isAlive(info.pid)).toBe(false);
    expect(readdirSync(join(dbPath, '..')).sort()).toEqual(['.served.db.lock', 'served.db']); // the empty lock file stays: docs/locking.md
  });

  it('serve on a database in use exits 4 and says so', async () => {
    const dbPath = join(freshDir(), 'busy.db');
    await using pool = createMilvusLitePool({ installation: installation! });
    await using lease = await pool.acquire(dbPath);
    const result = await run(['serve', dbPath]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(`${dbPath} is in use`);
    expect(isAlive(lease.resource.pid!)).toBe(true);
  });

  it('serve under a missing directory exits 2 naming it', async () => {
    const missing = join(freshDir(), 'nope');
    const result = await run(['serve', join(missing, 'x.db')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(missing);
  });

  it('dump writes bulk-insert JSON with every row, and never overwrites', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'data.db');
    {
      await using pool = createMilvusLitePool({ installation: installation! });
      await using lease = await pool.acquire(dbPath);
      const client = await connect(lease.resource.uri);
      await createDocs(client, 'docs');
      await insertRows(client, 'docs', 0, 2500);
      await client.flush({ collection_names: ['docs'] });
      await client.closeConnection();
    }
    const out = join(dir, 'export');
    const result = await run(['dump', '-d', dbPath, '-c', 'docs', '-p', out]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Dumped 2500 rows of docs to /);
    const files = readdirSync(join(out, 'docs'));
    expect(files).toEqual(['1.json']);
    const { rows } = JSON.parse(readFileSync(join(out, 'docs', '1.json'), 'utf8')) as { rows: { id: number; tag: string; vector: number[] }[] };
    expect(rows).toHaveLength(2500);
    expect(new Set(rows.map((r) => Number(r.id))).size).toBe(2500);
    const row = rows.find((r) => Number(r.id) === 42)!;
    expect(row.tag).toBe('row-42');
    expect(row.vector).toHaveLength(8);
    const again = await run(['dump', '-d', dbPath, '-c', 'docs', '-p', out]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(`${join(out, 'docs')} already holds an export (1.json); dump never overwrites one: remove it, or pass another directory`);
    expect(again.stderr).not.toMatch(/EEXIST/);
    expect(JSON.parse(readFileSync(join(out, 'docs', '1.json'), 'utf8')).rows).toHaveLength(2500);
    const missing = await run(['dump', '-d', dbPath, '-c', 'nope', '-p', join(dir, 'x')]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/collection "nope" does not exist in .*data\.db; it has: docs/);
  });

  it('doctor reports both engines and a real start, and exits 0', async () => {
    const result = await run(['doctor']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/ok {4}native engine: milvus-lite 2\.5\.\d+/);
    expect(result.stdout).toMatch(/started a \w+ server on a scratch database in \d+ ms/);
    expect(result.stdout).toContain('all checks passed');
  });

  it('doctor with nothing installed exits 3 and prints the fix', async () => {
    // PATH is empty, so run the built CLI with this Node rather than through the shim.
    const built = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    const env = { PATH: '', LEASEHOLD_CACHE_DIR: freshDir(), MILVUS_LITE_PYTHON: '', MILVUS_LITE_BIN: '', VIRTUAL_ENV: '' };
    const result = await execa(process.execPath, [built, 'doctor'], { reject: false, env, extendEnv: false });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toContain('fix: leasehold-milvus install');
  });
});

describe('leasehold-milvus and Node’s compile cache', () => {
  // module.enableCompileCache exists from Node 22.1; on Node 20 the command runs as before.
  const hasCompileCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

  it(`the command turns the compile cache on where Node has it (here: ${hasCompileCache ? 'yes' : 'no'}), in the OS temp dir, without NODE_COMPILE_CACHE`, async () => {
    const tmp = freshDir();
    const result = await run(['--help'], { TMPDIR: tmp, NODE_COMPILE_CACHE: '' });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('leasehold-milvus');
    expect(existsSync(join(tmp, 'node-compile-cache'))).toBe(hasCompileCache);
  });
});
