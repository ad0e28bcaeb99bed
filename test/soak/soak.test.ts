// Bounded soak against the real milvus-lite server: random acquires, releases, evictions and server
// kills over eight database files, then every row accounted for and nothing leaked.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import type { Lease } from '@leasehold/pool';
import { createMilvusLitePool, type MilvusLiteServer } from '../../packages/milvus-lite/src/index.js';
import { countRows, createDocs, insertRows } from '../../packages/milvus-lite/test/support/milvus-data.js';
import { processesMentioning } from '../../packages/milvus-lite/test/support/processes.js';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 120);
const DBS = 8;
const MAX_LEASES_PER_DB = 3;
// Heap may grow by caches warming up, never by a leak proportional to the work done.
const HEAP_GROWTH_BOUND = 64 * 2 ** 20;
const FD_SLACK = 8;

const SEED = Number(process.env['SOAK_SEED'] ?? Date.now() % 2 ** 31);
let seed = SEED;
const random = (): number => {
  // mulberry32: a seeded generator, so a failing run can be replayed with SOAK_SEED.
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;

const fdCount = async (): Promise<number> => (await readdir('/proc/self/fd')).length;

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test(`soak: ${DBS} databases, random leases, evictions and kills for ${SECONDS}s`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'leasehold-soak-'));
  dirs.push(dir);
  const paths = Array.from({ length: DBS }, (_, i) => join(dir, `db${i}.db`));
  const expected = new Map(paths.map((p) => [p, 0]));
  const pool = createMilvusLitePool();
  const leases = new Map<string, Lease<MilvusLiteServer>[]>(paths.map((p) => [p, []]));
  const counts = { acquires: 0, releases: 0, evictions: 0, kills: 0, inserts: 0, failedInserts: 0 };
  let nextId = 1;

  const withClient = async <T>(uri: string, fn: (c: MilvusClient) => Promise<T>): Promise<T> => {
    const client = new MilvusClient({ address: uri });
    try {
      return await fn(client);
    } finally {
      await client.closeConnection();
    }
  };

  for (const path of paths) {
    await using lease = await pool.acquire(path);
    await withClient(lease.resource.uri, (c) => createDocs(c, 'soak'));
  }
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const fdsBefore = await fdCount();

  const deadline = Date.now() + SECONDS * 1000;
  while (Date.now() < deadline) {
    const path = pick(paths);
    const held = leases.get(path)!;
    const action = random();
    if (action < 0.35 && held.length < MAX_LEASES_PER_DB) {
      const lease = await pool.acquire(path);
      counts.acquires++;
      held.push(lease);
      const count = 1 + Math.floor(random() * 20);
      const from = nextId;
      nextId += count;
      try {
        await withClient(lease.resource.uri, async (c) => {
          await insertRows(c, 'soak', from, count);
          await c.flush({ collection_names: ['soak'] });
        });
        expected.set(path, expected.get(path)! + count);
        counts.inserts++;
      } catch (error) {
        // Only a server killed under us may fail an insert; then the lease knows it.
        if (!lease.signal.aborted) throw error;
        counts.failedInserts++;
      }
    } else if (action < 0.7 && held.length > 0) {
      await held.splice(Math.floor(random() * held.length), 1)[0]!.release();
      counts.releases++;
    } else if (action < 0.85) {
      await pool.evict(path);
      for (const lease of held) expect(lease.signal.aborted).toBe(true);
      counts.evictions++;
    } else if (held.length > 0 && !held[0]!.signal.aborted) {
      const lease = held[0]!;
      process.kill(lease.resource.pid!, 'SIGKILL');
      await new Promise<void>((resolve) => lease.signal.addEventListener('abort', () => resolve(), { once: true }));
      counts.kills++;
    }
    // Leases whose server went away are released, as a well-behaved user would.
    for (const [p, list] of leases) {
      const alive = list.filter((l) => !l.signal.aborted);
      for (const l of list) if (l.signal.aborted) await l.release();
      leases.set(p, alive);
    }
  }

  for (const list of leases.values()) for (const lease of list) await lease.release();
  for (const path of paths) {
    await using lease = await pool.acquire(path);
    const rows = await withClient(lease.resource.uri, async (c) => {
      await c.loadCollection({ collection_name: 'soak' });
      return countRows(c, 'soak');
    });
    expect(rows, `rows in ${path}`).toBe(expected.get(path));
  }
  await pool.close();

  expect(processesMentioning(dir)).toEqual([]);
  expect(pool.stats().resources).toBe(0);
  const fdsAfter = await fdCount();
  expect(fdsAfter).toBeLessThanOrEqual(fdsBefore + FD_SLACK);
  globalThis.gc?.();
  const growth = process.memoryUsage().heapUsed - heapBefore;
  console.log(`soak SOAK_SEED=${SEED} ${JSON.stringify(counts)} heapGrowth=${(growth / 2 ** 20).toFixed(1)}MiB fds ${fdsBefore}->${fdsAfter}`);
  expect(growth).toBeLessThan(HEAP_GROWTH_BOUND);
  expect(counts.acquires).toBeGreaterThan(0);
});
