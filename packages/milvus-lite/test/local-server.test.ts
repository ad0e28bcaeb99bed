import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MilvusLiteError, MilvusLiteServer } from '../src/index.js';
import { LocalServer } from '../src/server/local-server.js';
import { installationOf } from './support/installations.js';
import { freshDirs } from './support/scratch-dirs.js';

// The server layer's class serves one local file with the installation it is given (issue 26): it
// never searches for or installs milvus-lite, and never treats a target as a remote URI. The public
// MilvusLiteServer (target/) is the layer above that does both.
const freshDir = freshDirs('lh-local-server-');

describe('LocalServer (server/): one server for one local file, given its installation', () => {
  it('without an installation it fails at start, naming the path and what to pass, and creates nothing', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'app.db');
    const server = new LocalServer(dbPath);
    const error = await server.start().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MilvusLiteError);
    expect((error as Error).message).toBe(`no milvus-lite installation was given for ${dbPath}; pass options.installation (see findMilvusLite), or use MilvusLiteServer, which finds one`);
    expect(existsSync(dbPath)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    expect(server.engine).toBeUndefined();
    await server.stop();
  });

  it('a remote-looking target is not passed through: it is a path like any other (the layer above chooses)', async () => {
    const server = new LocalServer('http://127.0.0.1:19530');
    expect(server.engine).toBeUndefined();
    expect(() => server.uri).toThrow(MilvusLiteError);
    const remote = new MilvusLiteServer('http://127.0.0.1:19530');
    expect(remote.engine).toBe('remote');
    expect(remote.uri).toBe('http://127.0.0.1:19530');
    expect(remote).toBeInstanceOf(LocalServer);
  });

  const installation = installationOf('native');
  it.skipIf(installation === undefined)('with an installation it serves the file', async () => {
    const dbPath = join(freshDir(), 'app.db');
    await using server = await new LocalServer(dbPath, { installation: installation! }).start();
    expect(server.engine).toBe('native');
    expect(server.dbPath).toBe(dbPath);
    expect(server.uri).toMatch(/^unix:\//);
    expect(server.pid).toBeGreaterThan(0);
  });
});
