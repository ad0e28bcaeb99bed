import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ServerManager, type Installation } from '../src/index.js';
import { shareRequested } from '../src/share/shared-pool.js';
import { installationOf } from './support/installations.js';
import { isAlive } from './support/processes.js';
import { eventually, milvusServersOf, shareScratch, type ShareClient } from './support/share-processes.js';

type Scratch = ReturnType<typeof shareScratch>;

/**
 * Two processes open one database through openMilvus(path, { share: true }): one server; each
 * inserts and reads the other's rows; once both close, the server is gone within `stopWithinMs`.
 */
async function twoProcessesShareRows(scratch: Scratch, inst: Installation, stopWithinMs: number): Promise<void> {
  const db = scratch.db();
  const a = scratch.client(db, inst);
  const b = scratch.client(db, inst);
  const [ra, rb] = await Promise.all([a.ok('open', { name: 'x' }), b.ok('open', { name: 'x' })]);
  expect(ra['pid']).toBe(rb['pid']);
  expect(milvusServersOf(db)).toEqual([ra['pid']]);
  await a.ok('createCollection', { name: 'x', collection: 'docs' });
  await a.ok('insert', { name: 'x', collection: 'docs', ids: [1, 2] });
  await b.ok('insert', { name: 'x', collection: 'docs', ids: [3, 4] });
  expect((await a.ok('ids', { name: 'x', collection: 'docs' }))['ids']).toEqual([1, 2, 3, 4]);
  expect((await b.ok('ids', { name: 'x', collection: 'docs' }))['ids']).toEqual([1, 2, 3, 4]);
  await a.ok('close', { name: 'x' });
  await b.ok('close', { name: 'x' });
  expect(await eventually(() => milvusServersOf(db).length === 0, stopWithinMs)).toBe(true);
}

/**
 * The process that spawned the supervisor is SIGKILLed while another is attached: the other keeps
 * working, unrevoked, and once it closes the supervisor (which must not depend on its spawner, not
 * even for its log) stops the server gracefully and ends within `stopWithinMs`.
 */
async function spawnerKilledFirst(scratch: Scratch, inst: Installation, stopWithinMs: number): Promise<void> {
  const db = scratch.db();
  const starter = scratch.client(db, inst);
  const first = await starter.ok('acquire', { name: 'l' });
  const other = scratch.client(db, inst);
  await other.ok('open', { name: 'x' });
  await other.ok('createCollection', { name: 'x', collection: 'docs' });
  await starter.end();
  await other.ok('insert', { name: 'x', collection: 'docs', ids: [7] });
  expect((await other.ok('ids', { name: 'x', collection: 'docs' }))['ids']).toEqual([7]);
  expect(milvusServersOf(db)).toEqual([first['pid']]);
  expect(other.events.filter((e) => e.event === 'revoked')).toEqual([]);
  await other.ok('close', { name: 'x' });
  // A log on a pipe through the dead spawner used to end the supervisor at its next line.
  expect(await eventually(() => !isAlive(first['supervisorPid'] as number) && !isAlive(first['pid'] as number), stopWithinMs)).toBe(true);
  expect(scratch.logOf(db)).toMatch(/stopping: idle\n.*stopped \(the server ended with exit code 0\)\n/);
}

/** `n` processes acquire one cold database at once: one server and one supervisor for all. */
async function concurrentColdOpens(scratch: Scratch, inst: Installation, n: number): Promise<void> {
  const db = scratch.db();
  const clients: ShareClient[] = Array.from({ length: n }, () => scratch.client(db, inst));
  const replies = await Promise.all(clients.map((c) => c.ok('acquire', { name: 'l' })));
  expect(new Set(replies.map((r) => r['pid'])).size).toBe(1);
  expect(new Set(replies.map((r) => r['supervisorPid'])).size).toBe(1);
  expect(milvusServersOf(db)).toEqual([replies[0]!['pid']]);
  await Promise.all(clients.map((c) => c.ok('release', { name: 'l' })));
  await Promise.all(clients.map((c) => c.end()));
}

const installation = installationOf('native');

describe.skipIf(installation === undefined)('share: one database, many processes (real processes, native 2.5.1)', () => {
  const scratch = shareScratch('lh-share-');
  const inst = installation!;

  it('done-when: two processes insert through openMilvus(path, { share: true }) and each reads the other’s rows', async () => {
    await twoProcessesShareRows(scratch, inst, 5000);
  });

  it('the process that started the server is killed while others are attached: the others keep working, and the server stops gracefully after them', async () => {
    await spawnerKilledFirst(scratch, inst, 5000);
  });

  it('the last client is killed: the server is gone within the idle timeout plus 2 s', async () => {
    const db = scratch.db();
    const client = scratch.client(db, inst, { idleTimeoutMs: 1000 });
    const { pid, supervisorPid } = await client.ok('acquire', { name: 'l' });
    await client.end();
    const killedAt = Date.now();
    // isAlive counts a zombie as gone: the orphaned supervisor has exited once it is one, though
    // init may reap it a second or two later.
    expect(await eventually(() => !isAlive(pid as number) && !isAlive(supervisorPid as number), 1000 + 2000)).toBe(true);
    // Not before the idle timeout (with a margin for the clock's coarseness).
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(900);
    // Stopped by its supervisor, gracefully, not by the supervisor's death.
    expect(scratch.logOf(db)).toMatch(/stopping: idle\n.*stopped \(the server ended with exit code 0\)\n/);
  });

  it('the supervisor is killed: every client’s leases are revoked within 1 s, no server is orphaned, the next acquire starts afresh', async () => {
    const db = scratch.db();
    const clients = [scratch.client(db, inst), scratch.client(db, inst), scratch.client(db, inst)];
    const replies = await Promise.all(clients.map((c) => c.ok('acquire', { name: 'l' })));
    await clients[0]!.ok('acquire', { name: 'second' });
    const { pid, supervisorPid } = replies[0]!;
    expect(new Set(replies.map((r) => r['supervisorPid']))).toEqual(new Set([supervisorPid]));
    process.kill(supervisorPid as number, 'SIGKILL');
    const killedAt = Date.now();
    // Client 0's two leases are reported on two lines, which may arrive apart: wait for both.
    const revoked = (c: ShareClient, name: string): boolean => c.events.some((e) => e.event === 'revoked' && e['name'] === name);
    expect(await eventually(() => clients.every((c) => revoked(c, 'l')) && revoked(clients[0]!, 'second'), 1000)).toBe(true);
    for (const c of clients) for (const e of c.events.filter((e) => e.event === 'revoked')) expect(e['at'] as number).toBeLessThanOrEqual(killedAt + 1000);
    expect(await eventually(() => !isAlive(pid as number), 5000)).toBe(true);
    for (const c of clients) {
      await c.ok('release', { name: 'l' });
    }
    await clients[0]!.ok('release', { name: 'second' });
    const again = await clients[1]!.ok('acquire', { name: 'l' });
    expect(again['supervisorPid']).not.toBe(supervisorPid);
    expect(milvusServersOf(db)).toEqual([again['pid']]);
    await clients[1]!.ok('release', { name: 'l' });
  });

  it('the socket file is deleted after the spawner died: attached clients keep working and a new process still finds the server', async () => {
    const db = scratch.db();
    const spawner = scratch.client(db, inst);
    await spawner.ok('acquire', { name: 'l' });
    const a = scratch.client(db, inst);
    const first = await a.ok('open', { name: 'x' });
    await a.ok('createCollection', { name: 'x', collection: 'docs' });
    await spawner.end();
    const { readdirSync } = await import('node:fs');
    for (const f of readdirSync(scratch.rendezvous).filter((f) => f.endsWith('.sock'))) rmSync(`${scratch.rendezvous}/${f}`);
    await a.ok('insert', { name: 'x', collection: 'docs', ids: [1] });
    const b = scratch.client(db, inst);
    const second = await b.ok('open', { name: 'x' });
    expect(second['pid']).toBe(first['pid']);
    expect((await b.ok('ids', { name: 'x', collection: 'docs' }))['ids']).toEqual([1]);
    expect(milvusServersOf(db)).toEqual([first['pid']]);
    expect(scratch.logOf(db)).toMatch(/was deleted; listening again/);
    await a.ok('close', { name: 'x' });
    await b.ok('close', { name: 'x' });
  });

  it('ServerManager({ share: true }) in this process and a share: true pool in another use one server', async () => {
    const db = scratch.db();
    process.env['LEASEHOLD_SHARE_DIR'] = scratch.rendezvous;
    const other = scratch.client(db, inst);
    const { pid } = await other.ok('acquire', { name: 'l' });
    const manager = new ServerManager({ installation: inst, share: true, log: () => {} });
    try {
      const uri = await manager.startAndGetUri(db);
      expect(uri).toMatch(/^unix:/);
      expect(uri).toBe((await other.ok('acquire', { name: 'm' }))['uri']);
      expect(milvusServersOf(db)).toEqual([pid]);
    } finally {
      await manager[Symbol.asyncDispose]();
    }
    // Released here, still served for the other process.
    expect(milvusServersOf(db)).toEqual([pid]);
    await other.ok('release', { name: 'l' });
    await other.ok('release', { name: 'm' });
  });

  it('LEASEHOLD_SHARE=1 turns share on where the option is not given; the option wins', () => {
    expect(shareRequested(undefined, { LEASEHOLD_SHARE: '1' })).toBe(true);
    expect(shareRequested(undefined, {})).toBe(false);
    expect(shareRequested(false, { LEASEHOLD_SHARE: '1' })).toBe(false);
    expect(shareRequested(true, {})).toBe(true);
  });

  it('16 processes open one cold database at once: one server', async () => {
    await concurrentColdOpens(scratch, inst, 16);
  }, 180_000);
});

// The same protocol with the python engine (milvus-lite 3.x, a Python wrapper per server): the
// supervisor owns a wrapper instead of a binary, and its death must take the wrapper along.
const pythonInstallation = installationOf('python');

describe.skipIf(pythonInstallation === undefined)('share: one database, many processes (real processes, python engine 3.2.2)', () => {
  const scratch = shareScratch('lh-share-py-');
  const inst = pythonInstallation!;

  it('two processes insert through openMilvus(path, { share: true }) and each reads the other’s rows; the last close stops the server', async () => {
    await twoProcessesShareRows(scratch, inst, 10_000);
  }, 120_000);

  it('the supervisor is killed: the leases are revoked within 1 s, its python server goes too, the next acquire starts afresh', async () => {
    const db = scratch.db();
    const clients = [scratch.client(db, inst), scratch.client(db, inst)];
    const replies = await Promise.all(clients.map((c) => c.ok('acquire', { name: 'l' })));
    const { pid, supervisorPid } = replies[0]!;
    expect(replies[1]!['pid']).toBe(pid);
    process.kill(supervisorPid as number, 'SIGKILL');
    const killedAt = Date.now();
    expect(await eventually(() => clients.every((c) => c.events.some((e) => e.event === 'revoked' && e['name'] === 'l')), 1000)).toBe(true);
    for (const c of clients) for (const e of c.events.filter((e) => e.event === 'revoked')) expect(e['at'] as number).toBeLessThanOrEqual(killedAt + 1000);
    // The wrapper, orphaned, stops on its stdin's EOF and the parent-death signal (30 s at most).
    expect(await eventually(() => !isAlive(pid as number), 30_000)).toBe(true);
    for (const c of clients) await c.ok('release', { name: 'l' });
    const again = await clients[1]!.ok('acquire', { name: 'l' });
    expect(again['supervisorPid']).not.toBe(supervisorPid);
    expect(milvusServersOf(db)).toEqual([again['pid']]);
    await clients[1]!.ok('release', { name: 'l' });
  }, 120_000);

  it('the process that started the server is killed while another is attached: the other keeps working, and the server stops gracefully after it', async () => {
    await spawnerKilledFirst(scratch, inst, 10_000);
  }, 120_000);

  it('4 processes open one cold database at once: one server', async () => {
    await concurrentColdOpens(scratch, inst, 4);
  }, 180_000);
});
