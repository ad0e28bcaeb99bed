// ServerManager against the real native server: the warm path (no path resolution, no mutex), what
// a release clears, and each logged message word for word. The interleavings are the model test's
// (server-manager.property.test.ts); the basics are in api.test.ts.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ServerManager } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { isAlive, processesMentioning } from './support/processes.js';
import { freshDirs } from './support/scratch-dirs.js';

const installation = installationOf('native');
const freshDir = freshDirs('lh-manager-');

/** Settles after `n` microtasks and no macrotask: any file system call (a path's realpath) is still pending then. */
async function microtasks(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

/** The pid of the one server process serving `uri`'s socket. */
function serverOf(uri: string): number {
  const pids = processesMentioning(uri.slice('unix:'.length));
  expect(pids).toHaveLength(1);
  return pids[0]!;
}

describe.skipIf(installation === undefined)('ServerManager, real milvus-lite 2.5', () => {
  const managerLogging = (): { manager: ServerManager; logged: string[] } => {
    const logged: string[] = [];
    return { manager: new ServerManager({ installation: installation!, log: (m) => logged.push(m) }), logged };
  };

  it('a warm call, spelled as before, resolves its URI within microtasks: no path resolution, no mutex', async () => {
    const { manager } = managerLogging();
    await using _ = manager;
    const dir = freshDir();
    const dbPath = join(dir, 'warm.db');
    const uri = await manager.startAndGetUri(dbPath);
    let warm: string | null | undefined;
    void manager.startAndGetUri(dbPath).then((u) => (warm = u));
    await microtasks();
    expect(warm).toBe(uri);
    // Another spelling of the same path is not warm: it resolves the path first, and then gets the same URI.
    const spelled = relative(process.cwd(), dbPath);
    expect(spelled).not.toBe(dbPath);
    let cold: string | null | undefined;
    const coldCall = manager.startAndGetUri(spelled).then((u) => (cold = u));
    await microtasks();
    expect(cold).toBeUndefined();
    await coldCall;
    expect(cold).toBe(uri);
  });

  const askedAgain = [
    ['under a warm URI, asked for as before: noticed at the call itself', (dbPath: string) => dbPath],
    ['then asked for by a new spelling (the ordered path): the held server is dropped', (dbPath: string) => relative(process.cwd(), dbPath)],
  ] as const;
  for (const [how, spell] of askedAgain) {
    it(`a database deleted ${how}; a new server, the file made again`, async () => {
      const { manager, logged } = managerLogging();
      await using _ = manager;
      const dbPath = join(freshDir(), 'gone.db');
      const uri = (await manager.startAndGetUri(dbPath))!;
      const pid = serverOf(uri);
      rmSync(dbPath);
      // At once: before the directory watch can report the deletion.
      const again = (await manager.startAndGetUri(spell(dbPath)))!;
      expect(again).toMatch(/^unix:\//);
      expect(again).not.toBe(uri);
      expect(serverOf(again)).not.toBe(pid);
      expect(existsSync(dbPath)).toBe(true);
      await expect.poll(() => isAlive(pid), { timeout: 10_000 }).toBe(false);
      // The first spelling gets the new server too.
      expect(await manager.startAndGetUri(dbPath)).toBe(again);
      expect(logged).toEqual([]);
    });
  }

  it('a lost server (its database deleted) is let go at once: the path is not warm, a release then stopped nothing, and other paths stay warm', async () => {
    const { manager, logged } = managerLogging();
    await using _ = manager;
    const dir = freshDir();
    const [lost, kept] = [join(dir, 'lost.db'), join(dir, 'kept.db')];
    const [lostUri, keptUri] = await Promise.all([manager.startAndGetUri(lost), manager.startAndGetUri(kept)]);
    const pid = serverOf(lostUri!);
    rmSync(lost);
    // No call on the path: the directory watch alone reports the loss, and the manager drops its lease.
    await expect.poll(() => isAlive(pid), { timeout: 10_000 }).toBe(false);
    let warm: string | null | undefined;
    void manager.startAndGetUri(kept).then((u) => (warm = u));
    await microtasks();
    expect(warm).toBe(keptUri);
    await manager.releaseServer(lost);
    expect(logged).toEqual([`leasehold: no local milvus for ${lost}`]);
    expect(existsSync(lost)).toBe(false);
  });

  it('a release aborts a start stalled in its hook: the release resolves, the start is null, and no server is left', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'stalled.db');
    const logged: string[] = [];
    let reached!: () => void;
    const atSpawn = new Promise<void>((resolve) => (reached = resolve));
    await using manager = new ServerManager({
      installation: installation!,
      log: (m) => logged.push(m),
      startTimeoutMs: 120_000,
      // Never returns: only the start's signal (the release's abort) can end this start in time.
      onStartStep: (step) => (step === 'spawn' ? (reached(), new Promise<never>(() => {})) : undefined),
    });
    const start = manager.startAndGetUri(dbPath);
    await atSpawn;
    await manager.releaseServer(dbPath);
    expect(await start).toBeNull();
    expect(logged).toEqual([`leasehold: startAndGetUri(${JSON.stringify(dbPath)}) returned null: the server of ${dbPath} was released while it was starting`]);
    expect(processesMentioning(dir)).toEqual([]);
  }, 20_000);

  for (const release of ['releaseServer', 'releaseAll'] as const) {
    it(`a start called right after ${release}() (not awaited) is not answered with the released server: it queues behind the release`, async () => {
      const { manager, logged } = managerLogging();
      await using _ = manager;
      const dbPath = join(freshDir(), `${release}.db`);
      const uri = (await manager.startAndGetUri(dbPath))!;
      const pid = serverOf(uri);
      const released = release === 'releaseServer' ? manager.releaseServer(dbPath) : manager.releaseAll();
      const next = manager.startAndGetUri(dbPath);
      await released;
      expect(isAlive(pid)).toBe(false);
      const uri2 = (await next)!;
      expect(uri2).toMatch(/^unix:\//);
      expect(uri2).not.toBe(uri);
      expect(isAlive(serverOf(uri2))).toBe(true);
      expect(logged).toEqual([]);
    });
  }

  it('releaseServer logs "no local milvus" only when it stopped nothing and aborted no start, naming the normalized path', async () => {
    const { manager, logged } = managerLogging();
    await using _ = manager;
    const dir = freshDir();
    const dbPath = join(dir, 'once.db');
    const spelled = relative(process.cwd(), dbPath);
    await manager.startAndGetUri(dbPath);
    await manager.releaseServer(spelled);
    expect(logged).toEqual([]);
    await manager.releaseServer(spelled);
    expect(logged).toEqual([`leasehold: no local milvus for ${dbPath}`]);
    // A release that aborts a pending start stopped something: only the start's own line.
    logged.length = 0;
    const [uri] = await Promise.all([manager.startAndGetUri(dbPath), manager.releaseServer(dbPath)]);
    expect(uri).toBeNull();
    expect(logged).toEqual([`leasehold: startAndGetUri(${JSON.stringify(dbPath)}) returned null: the server of ${dbPath} was released while it was starting`]);
    // Nothing stays pending after that: the next release of the path stopped nothing again.
    logged.length = 0;
    await manager.releaseServer(dbPath);
    expect(logged).toEqual([`leasehold: no local milvus for ${dbPath}`]);
    // A path that cannot be a database is named as the caller spelled it.
    logged.length = 0;
    await manager.releaseServer('');
    await manager.releaseServer(42 as unknown as string);
    expect(logged).toEqual(['leasehold: no local milvus for ', 'leasehold: no local milvus for 42']);
    expect(processesMentioning(dir)).toEqual([]);
  });

  it('each failure is logged word for word, and resolves null', async () => {
    const { manager, logged } = managerLogging();
    await using _ = manager;
    const dir = freshDir();
    const dbPath = join(dir, 'ok.db');
    expect(await manager.startAndGetUri(dbPath, 'localhost:19530')).toBeNull();
    expect(await manager.startAndGetUri(42 as unknown as string)).toBeNull();
    const corrupt = join(dir, 'corrupt.db');
    writeFileSync(corrupt, 'not a database, not empty');
    expect(await manager.startAndGetUri(corrupt)).toBeNull();
    expect(logged[0]).toBe(`leasehold: startAndGetUri(${JSON.stringify(dbPath)}): a server address (localhost:19530) is not supported; leasehold serves on a private socket`);
    expect(logged[1]).toMatch(/^leasehold: cannot start milvus-lite for 42: \S/);
    expect(logged[2]).toMatch(new RegExp(`^leasehold: cannot start milvus-lite for ${corrupt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*not a milvus-lite database`));
    expect(logged).toHaveLength(3);
    // The address refusal started nothing, and the failures left no process behind.
    expect(existsSync(dbPath)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
  });

  it('without a log option, the reason goes to console.error', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await using manager = new ServerManager({ installation: installation! });
      expect(await manager.startAndGetUri(join(freshDir(), 'x.db'), '127.0.0.1:1')).toBeNull();
      expect(spy.mock.calls).toEqual([[expect.stringMatching(/^leasehold: startAndGetUri\(.*\): a server address \(127\.0\.0\.1:1\) is not supported/)]]);
    } finally {
      spy.mockRestore();
    }
  });

  it('disposal stops every server and closes the pool: a start afterwards is refused, logged and null', async () => {
    const { manager, logged } = managerLogging();
    const dir = freshDir();
    const uris = await Promise.all([manager.startAndGetUri(join(dir, 'a.db')), manager.startAndGetUri(join(dir, 'b.db'))]);
    const pids = uris.map((u) => serverOf(u!));
    await manager[Symbol.asyncDispose]();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
    expect(await manager.startAndGetUri(join(dir, 'a.db'))).toBeNull();
    expect(logged).toEqual([expect.stringMatching(new RegExp(`^leasehold: cannot start milvus-lite for ${join(dir, 'a.db')}: .*closed`, 'i'))]);
  });
});
