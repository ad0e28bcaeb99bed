// The conformance suite on one target: one server for the file, shared by its cases, a fresh
// collection per case (a case that may kill milvus-lite gets a server of its own). Each case asserts
// the outcome expected.ts gives it; LEASEHOLD_CONFORMANCE_RECORD=1 also writes what happened to
// results/<target>.json, from which `pnpm conformance:table` writes the README's table.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createMilvusLitePool, openMilvus, type Installation, type LeasedMilvusClient, type LeasePool, type MilvusLiteServer } from '../../src/index.js';
import { startMilvusStandalone, type MilvusStandalone } from '../support/milvus-standalone.js';
import { freshDirs } from '../support/scratch-dirs.js';
import { caseId, kCases, type ConformanceCase } from './cases.js';
import { expectedOutcome, kTargetVersions } from './expected.js';
import { outcomeOf, type Outcome } from './outcome.js';
import type { RecordedResults } from './table.mjs';

export const kResultsDir = fileURLToPath(new URL('results/', import.meta.url));

/** How a target is reached: a local engine's installation, or the standalone's venv python. */
export type TargetSetup = { target: 'native' | 'python'; installation: Installation | undefined } | { target: 'standalone'; python: string | undefined };

/** milvus-lite 2.5.1 sometimes fails the first call of a new server (`Mmap manager has not been init`, DESIGN §2): retried. */
async function warmUp(client: LeasedMilvusClient): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const reply = await client.listCollections();
    if (reply.status.error_code === 'Success' || attempt === 5) return;
  }
}

/** Whether version `a` (`2.3.5`) is older than `b` (`2.4`), comparing numerically part by part. */
function olderThan(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.replace(/-.*$/, '').split('.').map(Number));
  for (let i = 0; i < Math.max(x!.length, y!.length); i++) {
    const d = (x![i] ?? 0) - (y![i] ?? 0);
    if (d !== 0) return d < 0;
  }
  return false;
}

/**
 * Every case of cases.ts on one target, one test per case, each asserting its cell of expected.ts.
 * milvus-lite targets get one server (through a pool of the file's own) and openMilvus, as users
 * do; the standalone target starts a Milvus standalone and opens its URI. Skips (as a describe)
 * only when the target is missing on purpose (LEASEHOLD_SKIP_MILVUS=1 outside CI).
 */
export function conformanceSuite(setup: TargetSetup): void {
  const { target } = setup;
  const missing = setup.target === 'standalone' ? setup.python === undefined : setup.installation === undefined;
  describe.skipIf(missing)(`conformance: ${target} (${kTargetVersions[target]})`, () => {
    const freshDir = freshDirs(`lh-conformance-${target}-`);
    const dbName = target === 'python' ? 'conformance' : 'conformance.db';
    const outcomes = new Map<string, Outcome>();
    let pool: LeasePool<MilvusLiteServer>;
    let standalone: MilvusStandalone | undefined;
    /** The server the cases share; replaced by a fresh one when a case kills it. */
    let shared: Promise<LeasedMilvusClient>;
    const replaced = new WeakSet<MilvusLiteServer>();
    /** The standalone's version (getVersion), to leave out what it predates; undefined for milvus-lite. */
    let serverVersion: string | undefined;

    const open = async (where: string, into: LeasePool<MilvusLiteServer>): Promise<LeasedMilvusClient> => {
      const client = await openMilvus(where, { pool: into, client: { logLevel: 'error' } });
      await warmUp(client);
      return client;
    };

    beforeAll(async () => {
      pool = setup.target === 'standalone' ? createMilvusLitePool() : createMilvusLitePool({ installation: setup.installation! });
      if (setup.target === 'standalone') standalone = await startMilvusStandalone(setup.python!);
      shared = open(standalone?.uri ?? join(freshDir(), dbName), pool);
      if (standalone) serverVersion = (await (await shared).getVersion()).version.replace(/^v/, '');
      else await shared;
    }, 240_000);

    afterAll(async () => {
      if (process.env['LEASEHOLD_CONFORMANCE_RECORD'] === '1' && outcomes.size === kCases.length) {
        const results: RecordedResults = { target, version: kTargetVersions[target], outcomes: Object.fromEntries(kCases.map((c) => [caseId(c), outcomes.get(caseId(c))!])) };
        mkdirSync(kResultsDir, { recursive: true });
        writeFileSync(join(kResultsDir, `${target}.json`), `${JSON.stringify(results, null, 2)}\n`);
      }
      await pool?.close();
      await standalone?.stop();
    }, 120_000);

    /**
     * Runs `c` on `client`'s server. When the server died of it, the outcome is `crashes`, and the
     * server is not used again (the shared one is replaced by a fresh one for the next cases; the
     * cases running beside it then fail too, and their tests say so).
     */
    async function runOn(client: LeasedMilvusClient, c: ConformanceCase, names: { name: string; name2: string; other: string }): Promise<Outcome> {
      const server = client.lease.resource;
      const outcome = await outcomeOf(Object.values(names), () => c.run({ client, target, ...names }));
      if (target === 'standalone' || outcome.kind === 'works') return outcome;
      const exit = await Promise.race([server.exited, new Promise<undefined>((resolve) => setTimeout(resolve, 500, undefined))]);
      if (exit === undefined) return outcome;
      if (!replaced.has(server)) {
        replaced.add(server);
        shared = open(join(freshDir(), dbName), pool);
      }
      return { kind: 'crashes', message: `the server exited (${exit.signal ?? `code ${String(exit.code)}`})` };
    }

    /** A case that kills milvus-lite 2.5.1, on a server of its own. */
    async function runAlone(c: ConformanceCase, names: { name: string; name2: string; other: string }): Promise<Outcome> {
      const own = createMilvusLitePool({ installation: (setup as { installation: Installation }).installation });
      try {
        return await runOn(await open(join(freshDir(), dbName), own), c, names);
      } finally {
        await own.close();
      }
    }

    kCases.forEach((c, index) => {
      const id = caseId(c);
      // Five cases at a time (vitest's maxConcurrency): Milvus standalone takes seconds per
      // collection (index, load), milvus-lite hundreds of ms, mostly waiting. A case marked alone
      // waits for the ones before it, and the ones after it wait for it.
      (c.alone ? it : it.concurrent)(id, async ({ expect }) => {
        const names = { name: `conf_${index}_a`, name2: `conf_${index}_b`, other: `conf_${index}_x` };
        const predates = serverVersion !== undefined && c.since !== undefined && olderThan(serverVersion, c.since);
        const outcome: Outcome = predates
          ? { kind: 'n/a', message: `Milvus ${serverVersion} predates it (since ${c.since})` }
          : c.killsNative && target === 'native'
            ? await runAlone(c, names)
            : await runOn(await shared, c, names);
        outcomes.set(id, outcome);
        const expected = expectedOutcome(target, id);
        expect({ kind: outcome.kind, message: outcome.message }).toEqual({ kind: expected.kind, message: expected.message === undefined ? outcome.message : expect.stringMatching(expected.message) });
      });
    });
  });
}
