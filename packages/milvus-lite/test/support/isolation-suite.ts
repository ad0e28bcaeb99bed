import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Installation } from '../../src/index.js';
import { grpcAnswers } from '../../src/server/grpc-probe.js';
import { connect } from './milvus-data.js';
import { freshDirs, poolsClosedAfterEach } from './scratch-dirs.js';

const kDatabases = 20;
const kRounds = 5;

/** A unix: URI's socket, or an http://127.0.0.1:P URI's port, as the probe wants it. */
function probeTarget(uri: string): { socketPath: string } | { host: string; port: number } {
  if (uri.startsWith('unix:')) return { socketPath: uri.slice('unix:'.length) };
  const url = new URL(uri);
  return { host: url.hostname, port: Number(url.port) };
}

/** Fisher-Yates with a seeded generator, so a failing order can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Database isolation, run once per engine: a URI reaches its own database while its server runs,
 * and nothing at all once that server stopped, however the next servers are placed.
 */
export function isolationSuite(engine: 'native' | 'python', installation: Installation | undefined): void {
  describe.skipIf(installation === undefined)(`${engine} engine: one database per URI, never another`, () => {
    const freshDir = freshDirs(`lh-iso-${engine}-`);
    const newPool = poolsClosedAfterEach(installation);

    it(`${kDatabases} databases opened, closed and reopened in ${kRounds} rounds: each URI lists only its own collection, and no old URI answers`, async () => {
      const dir = freshDir();
      // A patient deadline: 20 python interpreters starting on a loaded 2-core machine are slow.
      const pool = newPool({ idleTimeoutMs: 0, startTimeoutMs: 300_000 });
      const paths = Array.from({ length: kDatabases }, (_, i) => join(dir, `db${i}${engine === 'native' ? '.db' : ''}`));
      const staleUris = new Map<string, number>();
      for (let round = 0; round < kRounds; round++) {
        const order = shuffled(paths.map((_, i) => i), round + 1);
        // Opened 4 at a time, all held open together.
        const leases: { i: number; lease: Awaited<ReturnType<typeof pool.acquire>> }[] = [];
        for (let k = 0; k < order.length; k += 4) {
          leases.push(...(await Promise.all(order.slice(k, k + 4).map(async (i) => ({ i, lease: await pool.acquire(paths[i]!) })))));
        }
        // A URI is never handed out twice: each start gets its own socket (or port).
        for (const { lease } of leases) expect(staleUris.has(lease.resource.uri), `round ${round}: ${lease.resource.uri} was handed out before`).toBe(false);
        // Every stopped server's URI is dead, not another database's: a real gRPC call goes unanswered.
        const answered = await Promise.all([...staleUris.keys()].map(async (uri) => ((await grpcAnswers(probeTarget(uri), 2000)) ? uri : undefined)));
        expect(answered.filter(Boolean), `round ${round}: stale URIs that still answer`).toEqual([]);
        for (const { i, lease } of leases) {
          const client = await connect(lease.resource.uri);
          if (round === 0) {
            const created = await client.createCollection({
              collection_name: `only_${i}`,
              fields: [
                { name: 'id', data_type: 5, is_primary_key: true, autoID: false },
                { name: 'vector', data_type: 101, dim: 4 },
              ],
            });
            expect(created.error_code).toBe('Success');
          }
          const listed = await client.listCollections();
          expect(listed.data.map((c) => c.name), `round ${round}: ${lease.resource.uri} (db${i})`).toEqual([`only_${i}`]);
          await client.closeConnection();
        }
        for (const { i, lease } of leases) staleUris.set(lease.resource.uri, i);
        await Promise.all(leases.map(({ lease }) => lease.release()));
        expect(pool.stats().resources).toBe(0);
      }
      expect(staleUris.size).toBe(kDatabases * kRounds);
    }, 900_000);
  });
}
