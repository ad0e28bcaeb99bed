import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { createMilvusLitePool, openMilvus } from '../src/index.js';
import { kMaxIdleServers } from '../src/client/open-milvus.js';
import { installationOf } from './support/installations.js';
import { isAlive } from './support/processes.js';
import { eventually } from './support/share-processes.js';
import { freshDirs } from './support/scratch-dirs.js';

const installation = installationOf('native');
const script = fileURLToPath(new URL('fixtures/per-request.mjs', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Runs the fixture in a fresh process (its own default pool), which must exit by itself. */
async function perRequest(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeout = 25_000): Promise<number[]> {
  // 25 s by default, below the 30 s idle time: an idle timer that kept the process alive would fail
  // this. Runs that start a server per open take longer on a loaded machine, and are given more.
  const { stdout } = await execa('node', [script, ...args], { cwd: packageDir, env: { LEASEHOLD_NO_INSTALL: '1', ...env }, timeout });
  // The last line: the SDK may log above it (its debug level under the test runner's environment).
  return (JSON.parse(stdout.trim().split('\n').at(-1)!) as { pids: number[] }).pids;
}

describe.skipIf(installation === undefined)("openMilvus's default pool keeps idle servers warm", () => {
  const freshDir = freshDirs('lh-default-pool-');

  it('30 sequential per-request opens get one server; the script still exits at once, and its server with it', async () => {
    const pids = await perRequest(['sequential', join(freshDir(), 'requests.db')]);
    expect(pids).toHaveLength(30);
    expect(new Set(pids).size).toBe(1);
    // Stopped when the script ran out of work (beforeExit), or with its lock at exit.
    expect(await eventually(() => !isAlive(pids[0]!), 10_000)).toBe(true);
  });

  it('LEASEHOLD_IDLE_TIMEOUT_MS=0 stops the server at each last release, as before', async () => {
    const pids = await perRequest(['sequential', join(freshDir(), 'cold.db'), '4'], { LEASEHOLD_IDLE_TIMEOUT_MS: '0' }, 90_000);
    expect(new Set(pids).size).toBe(4);
  }, 120_000);

  it(`at most ${kMaxIdleServers} servers stay idle: the least recently released stop first`, async () => {
    const dir = freshDir();
    const tenants = Array.from({ length: kMaxIdleServers + 2 }, (_, i) => join(dir, `tenant-${i}.db`));
    // Then each again, most recently released first: the last kMaxIdleServers are warm, the first two were stopped.
    const reversed = tenants.toReversed();
    const pids = await perRequest(['tenants', ...tenants, ...reversed], {}, 90_000);
    const first = new Map(tenants.map((tenant, i) => [tenant, pids[i]]));
    expect(new Set(first.values()).size).toBe(tenants.length);
    const warm = reversed.map((tenant, i) => pids[tenants.length + i] === first.get(tenant));
    expect(warm).toEqual(reversed.map((_, i) => i < kMaxIdleServers));
  }, 120_000);

  it('a pool passed in keeps its own idleTimeoutMs: 0 stops the server before release() resolves', async () => {
    const pool = createMilvusLitePool({ installation: installation!, idleTimeoutMs: 0 });
    try {
      const client = await openMilvus(join(freshDir(), 'own.db'), { pool });
      const pid = client.lease.resource.pid!;
      await client[Symbol.asyncDispose]();
      expect(isAlive(pid)).toBe(false);
      expect(pool.stats()).toMatchObject({ resources: 0, stopped: 1 });
    } finally {
      await pool.close();
    }
  });
});
