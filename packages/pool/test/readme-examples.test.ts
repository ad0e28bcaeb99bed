// The README's examples for @leasehold/pool, run as written (with a toy resource in place of a real
// database), so the README cannot drift from what works.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { test as base, describe, expect, it } from 'vitest';
import { LeasePool, LeaseRevokedError, type Lease } from '../src/index.js';
import { scratchDir } from './support/scratch-dir.js';

const dataDir = scratchDir('lh-readme-');
const events: string[] = [];
/** A stand-in for a real per-file resource such as a database server. */
class Database {
  constructor(readonly path: string) {}
  static async open(path: string): Promise<Database> {
    events.push(`open ${path.slice(dataDir.length + 1)}`);
    return new Database(path);
  }
  async query(sql: string): Promise<string> {
    return `${sql} on ${this.path.slice(dataDir.length + 1)}`;
  }
  async close(): Promise<void> {
    events.push(`close ${this.path.slice(dataDir.length + 1)}`);
  }
}

describe('README: a request handler takes a lease per request', () => {
  it('shares one resource between concurrent requests and stops it when idle', async () => {
    events.length = 0;
    // --- README: request handler ---
    const pool = new LeasePool({
      start: (path) => Database.open(path),
      stop: (db) => db.close(),
      idleTimeoutMs: 50, // keep a database open a little after its last request
    });

    const server: Server = createServer(async (req, res) => {
      const tenant = new URL(req.url!, 'http://x').searchParams.get('tenant')!;
      await using lease = await pool.acquire(join(dataDir, `${tenant}.db`));
      res.end(await lease.resource.query('select 1'));
    });
    // --- end ---
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const bodies = await Promise.all(
      ['acme', 'acme', 'globex'].map(async (tenant) => (await fetch(`http://127.0.0.1:${port}/?tenant=${tenant}`)).text()),
    );
    expect(bodies).toEqual(['select 1 on acme.db', 'select 1 on acme.db', 'select 1 on globex.db']);
    expect(events.filter((e) => e.startsWith('open')).sort()).toEqual(['open acme.db', 'open globex.db']);
    await expect.poll(() => events.filter((e) => e.startsWith('close')).length).toBe(2);
    server.close();
    await pool.close();
  });
});

describe('README: one lease per tenant in a multi-tenant server', () => {
  it('holds a lease while the tenant is active, and learns when its resource is lost', async () => {
    events.length = 0;
    // --- README: per-tenant leases ---
    const pool = new LeasePool<Database>({
      start: (path, { lost }) => {
        const db = Database.open(path);
        void db.then((d) => crashes.set(path, () => lost(new Error(`${d.path} crashed`))));
        return db;
      },
      stop: (db) => db.close(),
    });
    const active = new Map<string, Lease<Database>>();

    async function activate(tenant: string): Promise<Database> {
      let lease = active.get(tenant);
      if (lease === undefined || lease.signal.aborted) {
        lease = await pool.acquire(join(dataDir, `${tenant}.db`));
        active.set(tenant, lease);
        lease.signal.addEventListener('abort', () => {
          // Evicted, lost or closed: forget it; the next request re-activates the tenant.
          if (active.get(tenant) === lease) active.delete(tenant);
          void lease!.release();
        });
      }
      return lease.resource;
    }

    async function deactivate(tenant: string): Promise<void> {
      await active.get(tenant)?.release();
      active.delete(tenant);
    }
    // --- end ---
    const crashes = new Map<string, () => void>();
    expect(await (await activate('acme')).query('q')).toBe('q on acme.db');
    expect(await activate('acme')).toBe(await activate('acme'));
    const lease = active.get('acme')!;
    crashes.get(join(dataDir, 'acme.db'))!();
    expect(lease.signal.reason).toBeInstanceOf(LeaseRevokedError);
    expect(active.has('acme')).toBe(false);
    await activate('acme');
    expect(events.filter((e) => e === 'open acme.db')).toHaveLength(2);
    await deactivate('acme');
    await pool.close();
    expect(events.at(-1)).toBe('close acme.db');
  });
});

// --- README: test fixture ---
const pool = new LeasePool({ start: (path) => Database.open(path), stop: (db) => db.close() });
const test = base.extend<{ db: Database }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads fixtures from the pattern
  db: async ({}, use) => {
    await using lease = await pool.acquire(join(dataDir, 'fixture.db'));
    await use(lease.resource);
  },
});
// --- end ---

describe('README: a lease per test in a fixture', () => {
  test('the fixture hands the test a started resource', async ({ db }) => {
    expect(await db.query('select 2')).toBe('select 2 on fixture.db');
    expect(pool.stats().leases).toBe(1);
  });
  it('and released it after the test', () => {
    expect(pool.stats().leases).toBe(0);
    expect(events).toContain('close fixture.db');
  });
});
