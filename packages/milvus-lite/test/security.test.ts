// Security properties, each with a test: private sockets, loopback only, no shell, hostile paths,
// and symlinks that must not be followed.
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMilvusLitePool, ServerStartError, type Installation } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { freshDirs } from './support/scratch-dirs.js';
import { connect, countRows, createDocs, insertRows } from './support/milvus-data.js';

const freshDir = freshDirs('lh-security-');

/** Local addresses (hex, as in /proc/net/tcp*) listening on `port`. */
function listeners(port: number): string[] {
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [address, portHex] = (fields[1] ?? '').split(':');
      if (fields[3] === '0A' && portHex !== undefined && Number.parseInt(portHex, 16) === port) out.push(address!);
    }
  }
  return out;
}

describe('no shell anywhere', () => {
  it('no source file spawns through a shell or imports child_process directly', () => {
    const src = fileURLToPath(new URL('../src/', import.meta.url));
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const text = readFileSync(join(src, file), 'utf8');
      expect(text, file).not.toMatch(/shell\s*:\s*true|from 'node:child_process'|execaCommand|\$`/);
    }
  });
});

for (const engine of ['native', 'python'] as const) {
  const installation: Installation | undefined = installationOf(engine);
  describe.skipIf(installation === undefined)(`${engine} engine`, () => {
    it('paths with spaces, quotes, unicode, shell syntax and a leading dash work, and are never read as flags or commands', async () => {
      const caseDir = freshDir();
      const hostile = join(caseDir, `with space`, `quo'te"s`, 'ünïcødé', '$(touch pwned);`id`', '-dash');
      mkdirSync(hostile, { recursive: true });
      const dbPath = join(hostile, engine === 'native' ? '-lead.db' : '-lead');
      await using pool = createMilvusLitePool({ installation: installation! });
      {
        await using lease = await pool.acquire(dbPath);
        expect(lease.resource.dbPath).toBe(dbPath);
        const client = await connect(lease.resource.uri);
        await createDocs(client, 'docs');
        await insertRows(client, 'docs', 0, 3);
        expect(await countRows(client, 'docs')).toBe(3);
        await client.closeConnection();
      }
      expect(existsSync(join(hostile, '-lead' + (engine === 'native' ? '.db' : '')))).toBe(true);
      expect(readdirSync(caseDir, { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith('pwned'))).toBe(false);
      expect(existsSync(join(process.cwd(), 'pwned'))).toBe(false);
    });

    if (engine === 'python') {
      it('with port (opt-in TCP), listens on 127.0.0.1 only', async () => {
        const probe = createServer();
        await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
        const { port } = probe.address() as { port: number };
        await new Promise((resolve) => probe.close(resolve));
        await using pool = createMilvusLitePool({ installation: installation!, port });
        await using lease = await pool.acquire(join(freshDir(), 'loopback'));
        expect(lease.resource.uri).toBe(`http://127.0.0.1:${port}`);
        // 127.0.0.1 in /proc/net/tcp's byte order, or as an IPv4-mapped IPv6 address (gRPC binds
        // that way); never 00000000 or :: (all interfaces).
        const found = listeners(port);
        expect(found.length).toBeGreaterThan(0);
        for (const address of found) expect(['0100007F', '0000000000000000FFFF00000100007F']).toContain(address);
      });
    }

    if (engine === 'native') {
      it('a symlink planted at the lock path is not followed, and its target is left untouched', async () => {
        const dir = freshDir();
        const victim = join(dir, 'victim.txt');
        writeFileSync(victim, 'important');
        symlinkSync(victim, join(dir, '.app.db.lock'));
        await using pool = createMilvusLitePool({ installation: installation! });
        const error = await pool.acquire(join(dir, 'app.db')).catch((e: unknown) => e);
        expect((error as Error).cause).toBeInstanceOf(ServerStartError);
        expect((error as Error).message).toMatch(/\.app\.db\.lock: it is a symbolic link, which is never followed/);
        expect(readFileSync(victim, 'utf8')).toBe('important');
        expect(readdirSync(dir).sort()).toEqual(['.app.db.lock', 'victim.txt']);
      });

      it('a symlink planted at the proper-lockfile path is not used either', async () => {
        const dir = freshDir();
        const victim = join(dir, 'victim-dir');
        mkdirSync(victim);
        symlinkSync(victim, join(dir, '.app.db.leasehold'));
        await using pool = createMilvusLitePool({ installation: installation!, lock: true });
        const error = await pool.acquire(join(dir, 'app.db')).catch((e: unknown) => e);
        expect((error as Error).name).toBe('KeyLockedError');
        expect(readdirSync(victim)).toEqual([]);
        expect(readdirSync(dir).sort()).toEqual(['.app.db.leasehold', 'victim-dir']);
      });
    }
  });
}
