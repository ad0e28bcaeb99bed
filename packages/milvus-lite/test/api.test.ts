import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createMilvusLitePool,
  findMilvusLite,
  MilvusLiteNotFoundError,
  MilvusLiteServer,
  openMilvus,
  ServerManager,
  ServerStartError,
} from '../src/index.js';
import { installationOf, interopPython } from './support/installations.js';
import { freshDirs } from './support/scratch-dirs.js';
import { isAlive, processesMentioning, startOwner } from './support/processes.js';

const installation = installationOf('native');
const freshDir = freshDirs('lh-api-');

describe('findMilvusLite', () => {
  it('lists every place it tried and the command that fixes it', async () => {
    const empty = freshDir();
    const error = await findMilvusLite({ env: { PATH: '', LEASEHOLD_CACHE_DIR: empty } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MilvusLiteNotFoundError);
    const { tried, message } = error as MilvusLiteNotFoundError;
    expect(tried).toEqual([
      '$MILVUS_LITE_PYTHON: not set',
      '$MILVUS_LITE_BIN: not set',
      '$VIRTUAL_ENV: not set',
      `leasehold's wheel installs ${join(empty, 'milvus-lite-native-*')}: none there`,
      `leasehold's cache venvs ${join(empty, 'milvus-lite-<version>')}: none there`,
      'python3 on PATH: not found',
    ]);
    // The native engine alone never looks for a python.
    const native = await findMilvusLite({ engine: 'native', env: { PATH: '', LEASEHOLD_CACHE_DIR: empty } }).catch((e: unknown) => e);
    expect((native as MilvusLiteNotFoundError).tried.some((t) => t.includes('python3'))).toBe(false);
    expect((native as Error).message).toContain(`it installs the native engine from the milvus-lite wheel into ${join(empty, 'milvus-lite-native-2.5.1')}; no Python needed`);
    expect(message).toContain('npx leasehold-milvus install');
  });

  it('says why an explicit interpreter was refused', async () => {
    const error = await findMilvusLite({ python: '/nonexistent/python', env: { PATH: '', LEASEHOLD_CACHE_DIR: freshDir() } }).catch((e: unknown) => e);
    expect((error as MilvusLiteNotFoundError).tried[0]).toBe('option python (/nonexistent/python): does not exist');
  });

  it('rejects an unknown engine with a TypeError naming it', async () => {
    await expect(findMilvusLite({ engine: 'rust' as never })).rejects.toThrow(/engine must be 'auto', 'native' or 'python', got "rust"/);
  });

  it.runIf(installation !== undefined)('finds the native engine from MILVUS_LITE_PYTHON and from MILVUS_LITE_BIN', async () => {
    const viaPython = await findMilvusLite({ env: { PATH: process.env['PATH'], MILVUS_LITE_PYTHON: interopPython(), LEASEHOLD_CACHE_DIR: freshDir() } });
    expect(viaPython).toMatchObject({ engine: 'native', version: installation!.version, source: '$MILVUS_LITE_PYTHON' });
    const viaBin = await findMilvusLite({ env: { PATH: process.env['PATH'], MILVUS_LITE_BIN: installation!.binary, LEASEHOLD_CACHE_DIR: freshDir() } });
    expect(viaBin).toMatchObject({ engine: 'native', binary: installation!.binary, source: '$MILVUS_LITE_BIN' });
  });

  it.runIf(installation !== undefined)("refuses an installation of the other engine when one is asked for", async () => {
    const error = await findMilvusLite({ engine: 'python', python: interopPython()!, env: { PATH: '', LEASEHOLD_CACHE_DIR: freshDir() } }).catch((e: unknown) => e);
    expect((error as MilvusLiteNotFoundError).tried[0]).toMatch(/has milvus-lite 2\.\d+\.\d+ \(the native engine\), but engine 'python' was asked for/);
  });
});

describe.skipIf(installation === undefined)('MilvusLiteServer, ServerManager and openMilvus with the real server', () => {
  it('MilvusLiteServer starts, answers, and stops without a pool', async () => {
    const dbPath = join(freshDir(), 'solo.db');
    const server = new MilvusLiteServer(dbPath, { installation: installation! });
    expect(() => server.uri).toThrow(/not running; await start\(\) first/);
    expect(await server.start()).toBe(server);
    expect(server.uri).toMatch(/^unix:\//);
    expect(isAlive(server.pid!)).toBe(true);
    const exit = await server.stop();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(isAlive(server.pid!)).toBe(false);
    await expect(server.start()).rejects.toThrow(/was stopped; create a new MilvusLiteServer/);
  });

  it('MilvusLiteServer.start({ signal }) aborted at the ready step rejects with the reason itself, and stops the server', async () => {
    const dir = freshDir();
    const controller = new AbortController();
    const reason = new Error('gave up');
    let pid = 0;
    const server = new MilvusLiteServer(join(dir, 'a.db'), {
      installation: installation!,
      onStartStep: (step, info) => {
        if (step === 'ready') {
          pid = info.pid!;
          controller.abort(reason);
        }
      },
    });
    await expect(server.start({ signal: controller.signal })).rejects.toBe(reason);
    expect(isAlive(pid)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
  });

  it("a startup failure carries the server's exit code and the tail of its stderr, and leaves the file alone", async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'corrupt.db');
    const bytes = Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(8192, 0x5a)]);
    writeFileSync(dbPath, bytes);
    const error = await new MilvusLiteServer(dbPath, { installation: installation! }).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerStartError);
    expect((error as ServerStartError).exit?.code).toBe(255);
    expect((error as Error).message).toContain(dbPath);
    expect((error as Error).message).toContain('exit code 255');
    expect((error as Error).message).toMatch(/server output \(tail\)[\s\S]*not a database/);
    expect(readFileSync(dbPath).equals(bytes)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['.corrupt.db.lock', 'corrupt.db']); // the empty lock file stays: docs/locking.md
  });

  it('ServerManager: the same URI for the same path however it is spelled, and release stops it', async () => {
    const dir = freshDir();
    const logged: string[] = [];
    await using manager = new ServerManager({ installation: installation!, log: (m) => logged.push(m) });
    const [a, b] = await Promise.all([manager.startAndGetUri(join(dir, 'm.db')), manager.startAndGetUri(join(dir, '.', 'm.db'))]);
    expect(a).toMatch(/^unix:\//);
    expect(b).toBe(a);
    expect(await manager.startAndGetUri(relative(process.cwd(), join(dir, 'm.db')))).toBe(a);
    const other = await manager.startAndGetUri(join(dir, 'n.db'));
    expect(other).not.toBe(a);
    await manager.releaseServer(join(dir, 'm.db'));
    const again = await manager.startAndGetUri(join(dir, 'm.db'));
    expect(again).not.toBe(a);
    await manager.releaseAll();
    await manager.releaseServer(join(dir, 'n.db'));
    expect(logged).toEqual([`leasehold: no local milvus for ${join(dir, 'n.db')}`]);
  });

  it('ServerManager: a server that died is started again on the next call', async () => {
    await using manager = new ServerManager({ installation: installation!, log: () => {} });
    const dbPath = join(freshDir(), 'dies.db');
    const uri = (await manager.startAndGetUri(dbPath))!;
    expect(await manager.startAndGetUri(dbPath)).toBe(uri);
    const socket = uri.slice('unix:'.length);
    const [pid] = processesMentioning(socket);
    expect(pid).toBeDefined();
    process.kill(Number(pid), 'SIGKILL');
    await expect.poll(() => manager.startAndGetUri(dbPath), { timeout: 10_000, interval: 20 }).not.toBe(uri);
  });

  it('ServerManager: releaseAll() called with a pending start wins (the issue): null, the reason logged, nothing left running, the lock free', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'r.db');
    const logged: string[] = [];
    await using manager = new ServerManager({ installation: installation!, log: (m) => logged.push(m) });
    const [uri] = await Promise.all([manager.startAndGetUri(dbPath), manager.releaseAll()]);
    expect(uri).toBeNull();
    expect(logged).toEqual([`leasehold: startAndGetUri(${JSON.stringify(dbPath)}) returned null: the server of ${dbPath} was released while it was starting`]);
    expect(processesMentioning(dir)).toEqual([]);
    const { child, report } = await startOwner(dbPath, installation!, 'exit');
    await child;
    expect(report.pid).toBeGreaterThan(0);
  });

  it('ServerManager: releaseServer() while the start waits at its ready step: null, and when the release resolves the server is gone', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'p.db');
    let reached!: (pid: number) => void;
    const atReady = new Promise<number>((resolve) => (reached = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const logged: string[] = [];
    await using manager = new ServerManager({
      installation: installation!,
      log: (m) => logged.push(m),
      onStartStep: async (step, { pid }) => {
        if (step !== 'ready') return;
        reached(pid!);
        await resumed;
      },
    });
    const start = manager.startAndGetUri(dbPath);
    const pid = await atReady;
    expect(isAlive(pid)).toBe(true);
    const release = manager.releaseServer(dbPath);
    resume();
    await release;
    expect(isAlive(pid)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
    expect(readdirSync(dir).filter((f) => f !== 'p.db' && f !== '.p.db.lock')).toEqual([]);
    expect(await start).toBeNull();
    expect(logged).toEqual([`leasehold: startAndGetUri(${JSON.stringify(dbPath)}) returned null: the server of ${dbPath} was released while it was starting`]);
    const { child, report } = await startOwner(dbPath, installation!, 'exit');
    await child;
    expect(report.pid).toBeGreaterThan(0);
  });

  it('ServerManager: null and a logged reason on failure', async () => {
    const dir = freshDir();
    const logged: string[] = [];
    await using manager = new ServerManager({ installation: installation!, log: (m) => logged.push(m) });
    expect(await manager.startAndGetUri(join(dir, 'missing', 'x.db'))).toBeNull();
    expect(await manager.startAndGetUri(join(dir, `${'x'.repeat(247)}.db`))).toBeNull();
    expect(await manager.startAndGetUri(join(dir, 'ok.db'), 'localhost:19530')).toBeNull();
    expect(logged).toHaveLength(3);
    expect(logged[0]).toContain(join(dir, 'missing'));
    expect(logged[1]).toMatch(/x{247}\.db.*the file name is 250 bytes/);
    expect(logged[2]).toMatch(/address .* is not supported/);
  });

  it('openMilvus gives a connected client bound to a lease; disposing it releases the lease', async () => {
    const pool = createMilvusLitePool({ installation: installation! });
    const dbPath = join(freshDir(), 'open.db');
    let pid: number;
    {
      await using client = await openMilvus(dbPath, { pool });
      pid = client.lease.resource.pid!;
      expect((await client.listCollections()).status.error_code).toBe('Success');
      expect(pool.stats().leases).toBe(1);
    }
    expect(pool.stats().leases).toBe(0);
    expect(isAlive(pid)).toBe(false);
    await pool.close();
  });
});

describe.skipIf(installationOf('python') === undefined)('the python engine on a chosen port', () => {
  const python = installationOf('python');

  it('a busy port is a ServerStartError that says so and what to do; a free one is used', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as AddressInfo).port;
    try {
      const error = await new MilvusLiteServer(join(freshDir(), 'busy'), { installation: python!, port: busy }).start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServerStartError);
      expect((error as Error).message).toContain(`127.0.0.1:${busy}, which is in use; choose another port, or leave port unset`);
    } finally {
      blocker.close();
    }
    await new Promise<void>((resolve) => blocker.once('close', resolve));
    await using server = await new MilvusLiteServer(join(freshDir(), 'free'), { installation: python!, port: busy }).start();
    expect(server.uri).toBe(`http://127.0.0.1:${busy}`);
  });

  it('port is refused for the native engine and out of range', async () => {
    expect(() => new MilvusLiteServer('x.db', { port: 70000 })).toThrow(/port must be an integer from 1 to 65535, got 70000/);
    if (installation !== undefined) {
      const error = await new MilvusLiteServer(join(freshDir(), 'n.db'), { installation, port: 19530 }).start().catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/port applies to the python engine/);
    }
  });
});

describe.skipIf(installationOf('python') === undefined || installation === undefined)('the python engine, a server that exits during start', () => {
  it("gets a ServerStartError with the exit code and the tail of the server's stderr", async () => {
    // A real interpreter whose milvus-lite (2.5) has no 3.x server module: the server process
    // starts, fails, and exits, as a broken install would.
    const broken = { ...installationOf('python')!, python: interopPython()!, binary: interopPython()! };
    const dir = freshDir();
    const error = await new MilvusLiteServer(join(dir, 'data'), { installation: broken }).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerStartError);
    expect((error as ServerStartError).exit?.code).toBe(1);
    expect((error as Error).message).toMatch(/exited while starting \(exit code 1\)/);
    expect((error as Error).message).toMatch(/server output \(tail\)[\s\S]*ModuleNotFoundError/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
