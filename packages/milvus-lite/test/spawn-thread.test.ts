// The native engine's spawner thread (issue 24: execa's import off the main thread): what happens
// to the servers when the thread itself ends, and that a start after that gets a new thread.
// Real servers (native 2.5.1).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { spawnerThread } from '../src/server/engines/spawn-thread.js';
import { installationOf } from './support/installations.js';
import { isAlive } from './support/processes.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';
import { eventually } from './support/share-processes.js';

const installation = installationOf('native');
const freshDir = freshDirs('lh-spawn-thread-');
const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe.skipIf(installation === undefined)('the spawner thread', () => {
  const newPool = poolsClosedAfterEach(installation);

  // The sweep of dead owners' socket directories runs in the thread (issue 24: not the main
  // thread's time on a cold open), and holds the process until it is done, as its file-system calls
  // held it on the main thread: a directory half removed at exit would lose its owner file.
  it("sweeps the temp dir in the thread, and a process that only asked for it waits until it is done", async () => {
    const tmp = freshDir();
    const dead = spawnSync('true').pid;
    for (let i = 0; i < 300; i++) {
      const dir = join(tmp, `lh-dead${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'leasehold.pid'), String(dead));
      for (let j = 0; j < 5; j++) writeFileSync(join(dir, `milvus.INFO.${j}`), 'old log');
    }
    mkdirSync(join(tmp, 'lh-foreign')); // no owner file: never touched
    const entry = join(packageDir, 'dist/server/engines/spawn-thread.js');
    const run = await execa(process.execPath, ['--input-type=module', '-e', `const { spawnerThread } = await import(${JSON.stringify(entry)}); spawnerThread().sweep(${JSON.stringify(tmp)});`], { reject: false });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(readdirSync(tmp)).toEqual(['lh-foreign']);
  });

  it('ends under running servers: each is killed, its leases are revoked saying why, and the next acquire starts a server on a new thread', async () => {
    const pool = newPool();
    const [a, b] = [join(freshDir(), 'a.db'), join(freshDir(), 'b.db')];
    const leases = await Promise.all([pool.acquire(a), pool.acquire(b)]);
    const pids = leases.map((lease) => lease.resource.pid!);
    const thread = spawnerThread();
    await thread.terminate();
    for (const pid of pids) expect(await eventually(() => !isAlive(pid), 5000), `server ${pid}`).toBe(true);
    for (const lease of leases) {
      expect(await eventually(() => lease.signal.aborted, 5000)).toBe(true);
      expect(String((lease.signal.reason as Error).message)).toContain("leasehold's spawner thread ended");
    }
    const again = await pool.acquire(a);
    expect(spawnerThread()).not.toBe(thread);
    expect(isAlive(again.resource.pid!)).toBe(true);
    expect(again.resource.pid).not.toBe(pids[0]);
    await again.release();
  });

  it('ends during a start (after the spawn was asked for): the start fails with a ServerStartError saying so, and leaves no process', async () => {
    let spawned: number | undefined;
    const pool = newPool({
      onStartStep: async (step, info) => {
        if (step !== 'ready' || spawned !== undefined) return;
        spawned = info.pid;
        await spawnerThread().terminate();
      },
    });
    const db = join(freshDir(), 'c.db');
    const error = await pool.acquire(db).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.name).toBe('StartError');
    expect(String((error?.cause as Error).message)).toContain("leasehold's spawner thread ended");
    expect(spawned).toBeGreaterThan(0);
    expect(await eventually(() => !isAlive(spawned!), 5000)).toBe(true);
    const lease = await pool.acquire(db);
    expect(isAlive(lease.resource.pid!)).toBe(true);
    await lease.release();
  });

  // The thread is made at the start's first step; a start refused before its spawn must not leave
  // it keeping Node alive (its 'message' listener, added after an unref, ref'd it again: a script
  // whose open was refused never exited).
  it.each([
    ['a file that is not a milvus-lite database', 'not-a-db.db', 'InvalidDatabaseError'],
    ['its lock file is a directory: refused at the lock step', 'locked.db', 'ServerStartError'],
  ])('a script whose open is refused before the spawn (%s) exits by itself', async (_what, name, expected) => {
    const dir = freshDir();
    writeFileSync(join(dir, 'not-a-db.db'), 'hello, not SQLite');
    mkdirSync(join(dir, '.locked.db.lock'));
    const script = `import { openMilvus } from '@leasehold/milvus-lite'; await openMilvus(${JSON.stringify(join(dir, name))}).catch((e) => console.log(e.name, e.cause?.name));`;
    const run = await execa(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, timeout: 20_000, reject: false, env: { LEASEHOLD_NO_INSTALL: '1' } });
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(expected);
  });

  it("Node's permission model: without --allow-worker, --allow-child-process or --allow-addons, a start (shared or not) says which and how to allow it, at once and before taking anything; with all three, it opens", async () => {
    const dir = freshDir();
    // --permission from Node 22 (24 refuses the old name), --experimental-permission before.
    const flag = Number(process.versions.node.split('.')[0]) >= 22 ? '--permission' : '--experimental-permission';
    const open = async (name: string, allow: readonly string[], share = false): Promise<string> => {
      const db = join(dir, `${name}.db`);
      const script = `import('@leasehold/milvus-lite').then(async (m) => { const c = await m.openMilvus(${JSON.stringify(db)}, { share: ${share} }); console.log((await c.listCollections()).status.error_code); await c.closeConnection(); }).catch((e) => console.log(e.message));`;
      const env = { LEASEHOLD_NO_INSTALL: '1', LEASEHOLD_SHARE_DIR: join(dir, 'share') };
      const run = await execa(process.execPath, [flag, '--allow-fs-read=*', '--allow-fs-write=*', ...allow, '--input-type=module', '-e', script], { cwd: packageDir, timeout: 30_000, reject: false, env });
      expect(run.timedOut, `${name}: ${run.stdout}`).toBe(false);
      expect(run.exitCode, run.stderr).toBe(0);
      return run.stdout;
    };
    const all = ['--allow-worker', '--allow-child-process', '--allow-addons'];
    const [noWorker, noChild, noAddon, sharedNoChild, allowed] = await Promise.all([
      open('no-worker', ['--allow-child-process', '--allow-addons']),
      open('no-child', ['--allow-worker', '--allow-addons']),
      open('no-addon', ['--allow-worker', '--allow-child-process']),
      open('shared-no-child', ['--allow-worker', '--allow-addons'], true),
      open('allowed', all),
    ]);
    const flags = 'run with --allow-worker --allow-child-process --allow-addons';
    expect(noWorker).toContain(`Node's permission model is on and forbids worker threads (the native engine spawns its servers from one); ${flags}`);
    expect(noChild).toContain(`Node's permission model is on and forbids child processes (the servers, the shared-server supervisor); ${flags}`);
    // Node 20 cannot be asked about addons (has('addon') is false even when allowed): the refused load says it.
    expect(noAddon).toMatch(/forbids native addons.*--allow-addons/);
    expect(sharedNoChild).toContain("Node's permission model is on and forbids child processes (the servers, the shared-server supervisor); run with --allow-child-process");
    for (const out of [noWorker, noChild, noAddon, sharedNoChild]) expect(out).not.toContain('reinstall');
    // A cache it may not read looks empty to the search: said, not an install refused at its lock.
    const cache = join(freshDir(), 'cache'); // outside the directories it may read
    mkdirSync(cache);
    const db = join(dir, 'no-cache-read.db');
    const script = `import('@leasehold/milvus-lite').then((m) => m.openMilvus(${JSON.stringify(db)})).then(() => console.log('opened'), (e) => console.log(e.name, e.cause?.name, e.cause?.message))`;
    const repo = join(packageDir, '..', '..');
    const noCacheRead = await execa(process.execPath, [flag, `--allow-fs-read=${repo}/`, `--allow-fs-read=${dir}/`, '--allow-fs-write=*', ...all, '--input-type=module', '-e', script], {
      cwd: packageDir,
      timeout: 30_000,
      reject: false,
      // Nothing else to find it by: only the cache counts.
      env: { LEASEHOLD_CACHE_DIR: cache, LEASEHOLD_NO_INSTALL: '1', PATH: dirname(process.execPath), MILVUS_LITE_BIN: '', MILVUS_LITE_PYTHON: '', VIRTUAL_ENV: '' },
      extendEnv: false,
    });
    expect(noCacheRead.exitCode, noCacheRead.stderr).toBe(0);
    expect(noCacheRead.stdout).toContain(`Node's permission model forbids reading leasehold's cache ${cache}, where it is found and installed: run with --allow-fs-read=${cache}`);
    expect(noCacheRead.stdout).not.toMatch(/install lock|reinstall|opened/);
    expect(noCacheRead.stderr).not.toContain('installing');
    expect(allowed.trim().split('\n').at(-1)).toBe('Success');
    // Refused before the lock: no lock file beside the refused databases.
    expect(readdirSync(dir).filter((name) => name !== 'share').sort()).toEqual(['.allowed.db.lock', 'allowed.db']);
  });
});
