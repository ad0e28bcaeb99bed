import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { createMilvusLitePool, KeyLockedError, MilvusLiteError, openMilvus } from '../src/index.js';
import { listSharedServers, stopSharedServer } from '../src/share/control.js';
import { kProtocolVersion } from '../src/share/protocol.js';
import { ensureRendezvousDir, keyOfStats, RendezvousError, rendezvousPaths } from '../src/server/rendezvous.js';
import type { SupervisorStep } from '../src/share/supervisor.js';
import { installationOf } from './support/installations.js';
import { interopPython } from './support/interop-python.js';
import { isAlive, processesMentioning } from './support/processes.js';
import { withEnv } from './support/scratch-dirs.js';
import { eventually, milvusServersOf, shareScratch } from './support/share-processes.js';

/** `read()`, or '' while the file it reads does not exist yet (ENOENT); any other error is thrown. */
function readIfThere(read: () => string): string {
  try {
    return read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

const installation = installationOf('native');
const supervisorMain = fileURLToPath(new URL('../dist/share/supervisor-main.js', import.meta.url));

describe('share: the rendezvous directory is refused, unchanged, unless it is private and ours', () => {
  const root = mkdtempSync(join(tmpdir(), 'lh-rdv-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is created 0700 when missing', async () => {
    const dir = join(root, 'fresh');
    await ensureRendezvousDir(dir);
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
  });

  it.each([
    ['a symbolic link', (dir: string) => symlinkSync(mkdtempSync(join(root, 'target-')), dir), /symbolic link/],
    ['group- and world-readable', (dir: string) => (mkdirSync(dir), chmodSync(dir, 0o755)), /mode 0755/],
    ['a file', (dir: string) => writeFileSync(dir, 'x'), /not a directory/],
  ])('%s: RendezvousError naming it, nothing changed', async (_what, make, pattern) => {
    const dir = join(root, `bad-${Math.random().toString(36).slice(2)}`);
    make(dir);
    const before = lstatSync(dir);
    const error = await ensureRendezvousDir(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RendezvousError);
    expect((error as Error).message).toContain(dir);
    expect((error as Error).message).toMatch(pattern);
    const after = lstatSync(dir);
    expect([after.mode, after.ino, after.isSymbolicLink()]).toEqual([before.mode, before.ino, before.isSymbolicLink()]);
  });
});

describe('share: a rendezvous directory too long for its sockets is refused before anything is made', () => {
  const root = mkdtempSync(join(tmpdir(), 'lh-rdv-long-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  // A socket is <dir>/<40 hex>.sock: 46 bytes after the directory, 107 in all (sun_path).
  const ofLength = (bytes: number): string => join(root, 'd'.repeat(bytes - Buffer.byteLength(root) - 1));

  it('61 bytes is the longest that fits; 62 is a RendezvousError saying why and what to do, and nothing is created', async () => {
    expect(Buffer.byteLength(ofLength(61))).toBe(61);
    await ensureRendezvousDir(ofLength(61));
    expect(lstatSync(ofLength(61)).isDirectory()).toBe(true);
    const long = ofLength(62);
    const error = await ensureRendezvousDir(long).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RendezvousError);
    expect((error as Error).message).toBe(`the shared-server directory ${long} is too long: its sockets' paths would take 108 bytes, and a unix socket path holds at most 107; leasehold changed nothing: set LEASEHOLD_SHARE_DIR to a directory of at most 61 bytes`);
    expect(existsSync(long)).toBe(false);
  });

  it('openMilvus(path, { share: true }) with a long LEASEHOLD_SHARE_DIR rejects at once, and no supervisor or server is started', async () => {
    const dir = mkdtempSync(join(root, 'db-'));
    const dbPath = join(dir, 'app.db');
    const long = ofLength(112);
    const started = performance.now();
    const error = await withEnv('LEASEHOLD_SHARE_DIR', long, () => openMilvus(dbPath, { share: true, timeoutMs: 20_000 })).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5000);
    const cause = error instanceof RendezvousError ? error : (error as Error).cause;
    expect(cause).toBeInstanceOf(RendezvousError);
    expect((cause as Error).message).toContain(`${long} is too long`);
    expect(existsSync(long)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
  });
});

describe.skipIf(installation === undefined)('share: failures of the supervisor and interop (real processes, native 2.5.1)', () => {
  const scratch = shareScratch('lh-share-faults-');
  const inst = installation!;

  function pausedPid(step: SupervisorStep): number | undefined {
    const match = new RegExp(`LEASEHOLD_TEST_PAUSED ${step} (\\d+)`).exec(scratch.log());
    return match ? Number(match[1]) : undefined;
  }

  // Each step of the start: the supervisor is SIGKILLed while the client's acquire waits on it.
  it.each(['spawned', 'elected', 'listening', 'server-started'] as const)('SIGKILL at start step %s: no server is left, the waiting acquire gets a fresh one', async (step) => {
    const db = scratch.db();
    const client = scratch.client(db, inst, {}, { LEASEHOLD_TEST_PAUSE_AT: step });
    const acquired = client.run('acquire', { name: 'l' });
    expect(await eventually(() => pausedPid(step) !== undefined, 30_000)).toBe(true);
    const paused = pausedPid(step)!;
    const serversAtPause = milvusServersOf(db);
    expect(serversAtPause.length).toBe(step === 'server-started' ? 1 : 0);
    process.kill(paused, 'SIGKILL');
    // The killed supervisor's server (if it had one) goes with it.
    for (const pid of serversAtPause) expect(await eventually(() => !isAlive(pid), 5000)).toBe(true);
    const reply = await acquired;
    expect(reply.ok).toBe(true);
    expect(reply['supervisorPid']).not.toBe(paused);
    expect(milvusServersOf(db)).toEqual([reply['pid']]);
    await client.ok('release', { name: 'l' });
    expect(await eventually(() => milvusServersOf(db).length === 0, 5000)).toBe(true);
  }, 90_000);

  // Each step of the stop: the last release starts it (idleTimeoutMs 0).
  it.each(['stopping', 'server-stopped'] as const)('SIGKILL at stop step %s: no server is left, the next acquire starts afresh', async (step) => {
    const db = scratch.db();
    const client = scratch.client(db, inst, {}, { LEASEHOLD_TEST_PAUSE_AT: step });
    const first = await client.ok('acquire', { name: 'l' });
    await client.ok('release', { name: 'l' });
    expect(await eventually(() => pausedPid(step) !== undefined, 30_000)).toBe(true);
    process.kill(pausedPid(step)!, 'SIGKILL');
    expect(await eventually(() => !isAlive(first['pid'] as number), 5000)).toBe(true);
    const again = await client.ok('acquire', { name: 'l' });
    expect(again['pid']).not.toBe(first['pid']);
    expect(milvusServersOf(db)).toEqual([again['pid']]);
    await client.ok('release', { name: 'l' });
  }, 90_000);

  // The stop asked for while the supervisor stops by itself (its last process left, idleTimeoutMs 0):
  // its socket is closed by then, and the answer must still wait for it to end (CI saw a scratch
  // directory removed under a server that was still stopping).
  it('stopSharedServer during the supervisor\'s own stop waits for it to end; one that never ends is a named error after timeoutMs', async () => {
    const db = scratch.db();
    const client = scratch.client(db, inst, {}, { LEASEHOLD_TEST_PAUSE_AT: 'server-stopped' });
    const first = await client.ok('acquire', { name: 'l' });
    // This database's supervisor (earlier tests paused theirs at this step too).
    const pausedPidOf = (path: string): number | undefined => Number(/LEASEHOLD_TEST_PAUSED server-stopped (\d+)/.exec(scratch.logOf(path))?.[1] ?? Number.NaN) || undefined;
    await client.ok('release', { name: 'l' });
    expect(await eventually(() => pausedPidOf(db) !== undefined, 30_000)).toBe(true);
    const supervisor = pausedPidOf(db)!;
    expect(isAlive(first['pid'] as number)).toBe(false);
    const refused = await stopSharedServer(db, scratch.rendezvous, { timeoutMs: 500 }).catch((error: Error) => error);
    expect(refused).toBeInstanceOf(MilvusLiteError);
    expect((refused as Error).message).toContain(`the shared server of ${db} did not stop within 500 ms`);
    expect((refused as Error).message).toContain(`(kill ${supervisor})`);
    expect((refused as Error).message).toContain(`${scratch.rendezvous}/`);
    let settled: boolean | undefined;
    const stopping = stopSharedServer(db, scratch.rendezvous).then((stopped) => (settled = stopped));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBeUndefined();
    process.kill(supervisor, 'SIGKILL');
    await stopping;
    expect(settled).toBe(true);
    expect(isAlive(supervisor)).toBe(false);
    // Nobody holds it now: false at once.
    expect(await stopSharedServer(db, scratch.rendezvous)).toBe(false);
  }, 90_000);

  // A candidate spawned while another supervisor was starting or stopping (several first opens at
  // once, or a slow spawn) wins the election once that one has ended, with nobody left to serve.
  it('a candidate elected after the last supervisor stopped never starts a server: with no hello within firstAttachGraceMs it leaves, the database untouched', async () => {
    const db = scratch.db();
    const client = scratch.client(db, inst, {}, { LEASEHOLD_TEST_PAUSE_AT: 'server-stopped' });
    await client.ok('acquire', { name: 'l' });
    await client.ok('release', { name: 'l' });
    const paused = (): number | undefined => Number(/LEASEHOLD_TEST_PAUSED server-stopped (\d+)/.exec(scratch.logOf(db))?.[1] ?? Number.NaN) || undefined;
    expect(await eventually(() => paused() !== undefined, 30_000)).toBe(true);
    const key = keyOfStats(statSync(db));
    const config = { dir: scratch.rendezvous, key, dbPath: db, installation: inst, firstAttachGraceMs: 1500 };
    const candidate = execa(process.execPath, [supervisorMain, JSON.stringify(config)], { cwd: scratch.rendezvous, reject: false, env: scratch.env });
    await new Promise((r) => setTimeout(r, 300)); // waiting on the election lock the paused one holds
    process.kill(paused()!, 'SIGKILL');
    let servers = 0;
    const watch = setInterval(() => (servers += milvusServersOf(db).length), 20);
    const ended = await candidate;
    clearInterval(watch);
    expect(ended.exitCode).toBe(0);
    expect(servers).toBe(0);
    expect(`${ended.stdout}${ended.stderr}`).toContain('the server was never started');
    expect(`${ended.stdout}${ended.stderr}`).not.toContain('serving');
    // A client that comes later is served as ever.
    const later = await client.ok('acquire', { name: 'm' });
    expect(milvusServersOf(db)).toEqual([later['pid']]);
    await client.ok('release', { name: 'm' });
  }, 90_000);

  // A stop asked for while a process waits for the server's start: the stop is the answer (before,
  // the waiting process took the closed connection as a cue and started a new server).
  it('a stop during a start: the waiting acquire fails saying it was stopped, and no new server is started', async () => {
    const db = scratch.db();
    const client = scratch.client(db, inst, {}, { LEASEHOLD_TEST_PAUSE_AT: 'listening' });
    const acquired = client.run('acquire', { name: 'l' });
    // The database file comes first (the attach makes it, to key the rendezvous by its inode), the
    // supervisor's log a moment later: until then, not paused yet (CI once read the log in between).
    const paused = (): boolean => existsSync(db) && /LEASEHOLD_TEST_PAUSED listening/.test(readIfThere(() => scratch.logOf(db)));
    expect(await eventually(paused, 30_000)).toBe(true);
    // The client's hello reaches the paused supervisor (its event loop still runs) meanwhile.
    await new Promise((r) => setTimeout(r, 300));
    expect(await stopSharedServer(db, scratch.rendezvous)).toBe(true);
    const reply = await acquired;
    expect(reply.ok).toBe(false);
    expect(String(reply['message'])).toContain(`the shared server of ${db} was stopped while this process waited for it (stopped by process ${process.pid} (leasehold-milvus stop))`);
    await new Promise((r) => setTimeout(r, 1500));
    expect(milvusServersOf(db)).toEqual([]);
    expect(processesMentioning(scratch.rendezvous).filter((pid) => isAlive(pid))).toEqual([]);
  }, 90_000);

  it('500 acquire/release rounds across 2 processes with idleTimeoutMs 0: never two servers, no row lost', async () => {
    // 250 rounds in each of the 2 processes: the 500. LEASEHOLD_SHARE_ROUNDS sets the count per process.
    const rounds = Number(process.env['LEASEHOLD_SHARE_ROUNDS'] ?? 250);
    const db = scratch.db();
    const setup = scratch.client(db, inst);
    await setup.ok('open', { name: 'x' });
    await setup.ok('createCollection', { name: 'x', collection: 'docs' });
    await setup.ok('close', { name: 'x' });
    await setup.end();
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, milvusServersOf(db).length)), 10);
    const [a, b] = [scratch.client(db, inst, { idleTimeoutMs: 0 }), scratch.client(db, inst, { idleTimeoutMs: 0 })];
    const [ra, rb] = await Promise.all([a.ok('rounds', { n: rounds, collection: 'docs', base: 0 }), b.ok('rounds', { n: rounds, collection: 'docs', base: 100_000 })]);
    clearInterval(sampler);
    expect(most).toBe(1);
    const servers = new Set([...(ra['servers'] as number[]), ...(rb['servers'] as number[])]);
    expect(servers.size).toBeGreaterThan(10); // the server really was stopped and restarted in between (108 times in one run)
    const check = scratch.client(db, inst);
    await check.ok('open', { name: 'x' });
    await check.ok('createCollection', { name: 'x', collection: 'docs' }).catch(() => {});
    const ids = (await check.ok('ids', { name: 'x', collection: 'docs' }))['ids'] as number[];
    const expected = [...Array.from({ length: rounds }, (_, i) => i), ...Array.from({ length: rounds }, (_, i) => 100_000 + i)];
    expect(ids).toEqual(expected);
    await check.ok('close', { name: 'x' });
  }, 600_000);

  it('without share, a shared database gets KeyLockedError; Python’s ServerManager its own refusal', async () => {
    const db = scratch.db();
    const client = scratch.client(db, inst);
    await client.ok('acquire', { name: 'l' });
    await using pool = createMilvusLitePool({ installation: inst, share: false });
    const error = await pool.acquire(db).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyLockedError);
    const python = String.raw`
import logging, sys
logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
from milvus_lite.server_manager import server_manager_instance as m
print(m.start_and_get_uri(sys.argv[1]), flush=True)
`;
    const result = await execa(interopPython()!, ['-c', python, db], { reject: false });
    expect(result.stdout.trim()).toBe('None');
    expect(result.stderr).toMatch(/opened by another program/);
    await client.ok('release', { name: 'l' });
  });

  it('a shared open of a database Python holds: every waiting process gets KeyLockedError', async () => {
    const db = scratch.db();
    const python = String.raw`
import sys
from milvus_lite.server_manager import server_manager_instance as m
print(m.start_and_get_uri(sys.argv[1]), flush=True)
sys.stdin.read()
m.release_all()
`;
    const holder = execa(interopPython()!, ['-c', python, db], { stdin: 'pipe', reject: false });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const clients = [scratch.client(db, inst), scratch.client(db, inst), scratch.client(db, inst)];
    const replies = await Promise.all(clients.map((c) => c.run('acquire', { name: 'l' })));
    for (const reply of replies) {
      expect(reply.ok).toBe(false);
      expect([reply['error'], reply['cause']]).toContain('KeyLockedError');
      expect(reply['message']).toContain(db);
      expect(reply['message']).toContain(`pid ${String(holder.pid)}`);
    }
    // Only Python's server: none of ours started beside it.
    expect(milvusServersOf(db)).toHaveLength(1);
    holder.stdin!.end();
    await holder;
    expect(await eventually(() => milvusServersOf(db).length === 0, 15_000)).toBe(true);
  });

  // The token: the supervisor's secret in a 0600 file of the 0700 rendezvous directory; a connection
  // that cannot present it (not this user) is refused and never counted. No Python is involved.
  it('a client without the token of the supervisor (another user could not read it) is refused and not counted; with it, served', async () => {
    const db = scratch.db();
    const client = scratch.client(db, inst);
    const lease = await client.ok('acquire', { name: 'l' });
    // This database's socket (another test's supervisor may still be listening in the same directory).
    const socketPath = rendezvousPaths(scratch.rendezvous, keyOfStats(statSync(db))).socket;
    const opened: Socket[] = [];
    const hello = (fields: object) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const raw = connect(socketPath);
        opened.push(raw);
        let buffered = '';
        raw.setEncoding('utf8').on('data', (chunk: string) => {
          buffered += chunk;
          if (buffered.includes('\n')) resolve(JSON.parse(buffered.slice(0, buffered.indexOf('\n'))) as Record<string, unknown>);
        });
        raw.on('error', reject);
        raw.write(`${JSON.stringify({ op: 'hello', version: kProtocolVersion, idleTimeoutMs: 0, ...fields })}\n`);
      });
    const tokenPath = socketPath.replace(/\.sock$/, '.token');
    expect(lstatSync(tokenPath).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenPath, 'utf8');
    try {
      for (const forged of [{}, { token: 'not-the-token' }, { token: token.slice(1) }]) {
        const reply = await hello({ pid: process.pid, ...forged });
        expect(reply).toMatchObject({ op: 'error', code: 'refused' });
        expect((reply['error'] as Error).message).toBe(`the connection did not present the token of ${tokenPath}, which only the user this server serves can read`);
      }
      const listed = (await listSharedServers(scratch.rendezvous)).find((s) => s.serverPid === lease['pid']);
      expect(listed?.clients).toEqual([client.pid]);
      expect(await hello({ pid: process.pid, token })).toMatchObject({ op: 'ready', serverPid: lease['pid'] });
    } finally {
      for (const raw of opened) raw.destroy();
    }
    await client.ok('release', { name: 'l' });
  });
});
