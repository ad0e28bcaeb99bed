// The CLI with the python engine (milvus-lite 3.x), apart from cli.test.ts so that the no-python
// run (.ci/run) can run the native CLI tests by file name and leave these out.
import { readFileSync } from 'node:fs';
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
const freshDir = freshDirs('lh-cli-python-');
const run = (args: string[], env: Record<string, string> = {}) => execa(cli, args, { reject: false, env, timeout: 120_000 });

describe.skipIf(installationOf('python') === undefined)('leasehold-milvus with the python engine', () => {
  it('dump exports a milvus-lite 3.x database (a directory) the same way', async () => {
    const python = installationOf('python')!;
    const dir = freshDir();
    const dbPath = join(dir, 'data');
    {
      await using pool = createMilvusLitePool({ installation: python });
      await using lease = await pool.acquire(dbPath);
      const client = await connect(lease.resource.uri);
      await createDocs(client, 'docs');
      await insertRows(client, 'docs', 0, 1200);
      await client.flush({ collection_names: ['docs'] });
      await client.closeConnection();
    }
    const out = join(dir, 'export');
    const result = await run(['dump', '-d', dbPath, '-c', 'docs', '-p', out, '--engine', 'python']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Dumped 1200 rows of docs to /);
    const { rows } = JSON.parse(readFileSync(join(out, 'docs', '1.json'), 'utf8')) as { rows: { id: number; tag: string }[] };
    expect(new Set(rows.map((r) => Number(r.id))).size).toBe(1200);
    expect(rows.find((r) => Number(r.id) === 7)?.tag).toBe('row-7');
  });

  it('serve --engine python prints a unix: URI and stops on SIGTERM', async () => {
    const dbPath = join(freshDir(), 'served');
    const child = execa(cli, ['serve', dbPath, '--engine', 'python', '--json'], { reject: false });
    const line = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(String(chunk))));
    const info = JSON.parse(line) as { uri: string; pid: number; engine: string };
    expect(info.engine).toBe('python');
    expect(info.uri).toMatch(/^unix:\/.+\/milvus\.sock$/);
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(0);
    expect(isAlive(info.pid)).toBe(false);
  });
});
