// Hard links (issue 21's promise, a sibling of the lock-file faults): `ln h1.db h2.db` gives one
// database file two names, so two name locks (`.h1.db.lock`, `.h2.db.lock`). The native engine's
// second lock, by device and inode (src/inode-lock.ts), must keep one server on the file, across
// processes and in one process. Real milvus-lite 2.5.1 servers, real Node processes.
import { existsSync, linkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyLockedError } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { connect, countRows, createDocs, insertRows } from './support/milvus-data.js';
import { isAlive, processesMentioning, startOwner } from './support/processes.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

const installation = installationOf('native');
const freshDir = freshDirs('lh-hardlink-');

// A private rendezvous directory (where the inode locks live) for this file and the processes it starts.
let savedShareDir: string | undefined;
let rendezvous = '';
beforeAll(() => {
  savedShareDir = process.env['LEASEHOLD_SHARE_DIR'];
  rendezvous = join(freshDir(), 'rv');
  process.env['LEASEHOLD_SHARE_DIR'] = rendezvous;
});
afterAll(() => {
  if (savedShareDir === undefined) delete process.env['LEASEHOLD_SHARE_DIR'];
  else process.env['LEASEHOLD_SHARE_DIR'] = savedShareDir;
});

/** A database file with a second name: `h1.db` made (empty: a new database), `h2.db` a hard link of it. */
function hardLinked(): { dir: string; h1: string; h2: string } {
  const dir = freshDir();
  const h1 = join(dir, 'h1.db');
  const h2 = join(dir, 'h2.db');
  writeFileSync(h1, '');
  linkSync(h1, h2);
  return { dir, h1, h2 };
}

const inodeLockOf = (path: string): string => {
  const { dev, ino } = statSync(path);
  return join(rendezvous, `${dev.toString(16)}-${ino.toString(16)}.db.lock`);
};

describe.skipIf(installation === undefined)('two hard links of one database file (native)', () => {
  const newPool = poolsClosedAfterEach(installation);

  it('two Node processes: the second is refused, naming the first name, its pid and the hard link; a SIGKILLed holder frees it', async () => {
    const { h1, h2 } = hardLinked();
    const first = await startOwner(h1, installation!);
    try {
      expect(first.report.error).toBeUndefined();
      const second = await startOwner(h2, installation!, 'exit');
      await second.child;
      expect(second.report.error).toBe('KeyLockedError');
      expect(second.report.message).toContain(`${h2} is in use`);
      expect(second.report.message).toContain(`another hard link, ${h1}`);
      expect(second.report.message).toContain(`another leasehold process of this user (pid ${first.report.owner})`);
      expect(second.report.message).toContain(inodeLockOf(h1));
      // Only the first process's server runs on the file.
      expect(processesMentioning(h2)).toEqual([]);
    } finally {
      first.child.kill('SIGKILL');
      await first.child;
    }
    await expect.poll(() => isAlive(first.report.pid!), { timeout: 15_000 }).toBe(false);
    const third = await startOwner(h2, installation!, 'exit');
    await third.child;
    expect(third.report.error).toBeUndefined();
    expect(third.report.pid).toBeGreaterThan(0);
  });

  it('one process, two hard-linked paths: the second open is refused with both paths named, and a stop releases the file to the other name', async () => {
    const { h1, h2 } = hardLinked();
    const pool = newPool();
    const lease = await pool.acquire(h1);
    const client = await connect(lease.resource.uri);
    await createDocs(client, 'docs');
    await insertRows(client, 'docs', 0, 20);
    await client.closeConnection();
    const error = await pool.acquire(h2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyLockedError);
    const message = (error as Error).message;
    expect(message).toContain(`${h2} is in use`);
    expect(message).toContain(`another hard link, ${h1}`);
    expect(message).toContain('this process');
    expect(message).toContain(`open ${h1} instead (this process then shares its server)`);
    // A second pool in this process: the same refusal (the lock, not one pool's bookkeeping, refuses).
    await expect(newPool().acquire(h2)).rejects.toBeInstanceOf(KeyLockedError);
    expect(processesMentioning(h2)).toEqual([]);

    await lease.release();
    await pool.close();
    const other = newPool();
    const reopened = await other.acquire(h2);
    const again = await connect(reopened.resource.uri);
    // The same file through the other name: the rows written through h1 are there.
    expect(await countRows(again, 'docs')).toBe(20);
    await again.closeConnection();
    await reopened.release();
  });

  it('the inode lock file is in the private rendezvous directory, and a stale one is harmless', async () => {
    const { h1, h2 } = hardLinked();
    const pool = newPool();
    const lease = await pool.acquire(h2);
    expect(existsSync(inodeLockOf(h1))).toBe(true);
    expect(statSync(rendezvous).mode & 0o777).toBe(0o700);
    await lease.release();
    await pool.close();
    // Left in place (never unlinked, like the name lock), unlocked: the next open through h1 takes it.
    expect(existsSync(inodeLockOf(h1))).toBe(true);
    const next = await newPool().acquire(h1);
    expect(next.resource.pid).toBeGreaterThan(0);
    await next.release();
  });
});
