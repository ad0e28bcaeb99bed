// milvus-lite 2.5.1's mmap race (pymilvus#2981): each native server removes and re-creates
// $HOME/.cache/milvus when its first collection inits the mmap manager (MmapChunkManager's
// constructor), and removes it again at exit. Servers sharing one HOME race there, and the loser
// answers with `Mmap manager has not been init` (code 2000). leasehold gives each server a private
// HOME. This starts five servers at once, each followed at once by a quick createCollection and an
// insert, round after round, while both cores are kept busy: no call may fail.
// MMAP_ROUNDS sets the rounds (default 50); SOAK_SECONDS bounds the time (CI runs a short budget).
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, test } from 'vitest';
import { createMilvusLitePool, openMilvus } from '../../packages/milvus-lite/src/index.js';
import { installationOf } from '../../packages/milvus-lite/test/support/installations.js';

const ROUNDS = Number(process.env['MMAP_ROUNDS'] ?? 50);
const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 120);
const SERVERS = 5;
const native = installationOf('native');

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test.skipIf(native === undefined)(`mmap race: ${SERVERS} native servers at once, a quick createCollection and an insert each, up to ${ROUNDS} rounds with every core busy`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'leasehold-mmap-race-'));
  dirs.push(dir);
  // One busy loop per core, so the servers' inits interleave the way they do on a loaded machine.
  const burners = Array.from({ length: availableParallelism() }, () => execa(process.execPath, ['-e', 'for (;;);'], { reject: false, stdio: 'ignore' }));
  const failures: string[] = [];
  const started = performance.now();
  let rounds = 0;
  try {
    while (rounds < ROUNDS && (rounds < 3 || performance.now() - started < SECONDS * 1000)) {
      rounds += 1;
      const pool = createMilvusLitePool({ installation: native! });
      try {
        await Promise.all(
          Array.from({ length: SERVERS }, async (_, i) => {
            const where = `round ${rounds}, server ${i}`;
            try {
              await using client = await openMilvus(join(dir, `r${rounds}-s${i}.db`), { pool, client: { logLevel: 'error' } });
              const created = await client.createCollection({ collection_name: 'items', dimension: 4 });
              if (created.error_code !== 'Success') failures.push(`${where}: createCollection: ${created.reason}`);
              const inserted = await client.insert({ collection_name: 'items', data: [{ id: 1, vector: [1, 0, 0, 0] }, { id: 2, vector: [0, 1, 0, 0] }] });
              if (inserted.status.error_code !== 'Success') failures.push(`${where}: insert: ${inserted.status.reason}`);
              else if (inserted.insert_cnt !== '2') failures.push(`${where}: insert counted ${inserted.insert_cnt}`);
            } catch (error) {
              failures.push(`${where}: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
            }
          }),
        );
      } finally {
        await pool.close();
      }
    }
  } finally {
    for (const burner of burners) burner.kill('SIGKILL');
    await Promise.all(burners);
  }
  process.stderr.write(`[mmap-race] ${rounds} rounds × ${SERVERS} servers, ${failures.length} failed starts or calls in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  expect(failures).toEqual([]);
  expect(rounds).toBeGreaterThanOrEqual(Math.min(ROUNDS, 3));
});
