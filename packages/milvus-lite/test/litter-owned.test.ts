// Issue 23, litter after a kill: scratch and shared temporary databases carry their owner's
// identity, go when their owner exits however it ends, and those of a dead owner (SIGKILL,
// process.reallyExit) are swept by the next run, as socket directories are.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { installationOf } from './support/installations.js';
import { freshDirs } from './support/scratch-dirs.js';

const installation = installationOf('native');
const fixtures = fileURLToPath(new URL('fixtures/', import.meta.url));
const neverStops = join(fixtures, 'never-stops.mjs');
const testingModule = fileURLToPath(new URL('../dist/testing/index.js', import.meta.url));
const vitestBin = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const freshDir = freshDirs('lh-litter-owned-');

/** What leasehold made in `tmp` (a child vitest makes directories of its own there too). */
const leaseholdEntries = (tmp: string): string[] => readdirSync(tmp).filter((name) => /^(leasehold-|lh-)/.test(name)).sort();

/** Runs never-stops.mjs with TMPDIR=`tmp`; it must end by itself. */
async function neverStopping(tmp: string, data: string, mode: 'end' | 'exit' | 'reallyExit'): Promise<{ scratch: string; shared: string }> {
  const result = await execa(process.execPath, [neverStops, data, mode], { env: { TMPDIR: tmp, MILVUS_LITE_PYTHON: installation!.python }, reject: false, timeout: 60_000 });
  expect(result.timedOut, `${mode}: did not end by itself\n${result.stderr}`).toBe(false);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { scratch: string; shared: string };
}

describe.skipIf(installation === undefined)("nothing of a dead owner left in the user's tmp", () => {
  it('a vitest worker SIGKILLed while holding a scratch database: its scratch and socket directories are swept by the next run', async () => {
    const tmp = freshDir();
    const data = freshDir();
    const aside = freshDir();
    const config = join(aside, 'vitest.config.mjs');
    const report = join(aside, 'report.json');
    writeFileSync(config, "export default { test: { include: ['killed-worker.test.mjs'], pool: 'forks' } };\n");
    // Unmarked and unnamed, even old and empty: not known to be ours, never touched (test runs name their own dirs lh-…).
    for (const name of ['leasehold-scratch-unmarked', 'lh-someones-test-dir']) {
      mkdirSync(join(tmp, name));
      const anHourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(join(tmp, name), anHourAgo, anHourAgo);
    }
    // Unmarked but named by its owner's pid: a dead owner's goes at once, with what it holds; a live one's stays.
    const dead = spawnSync('true').pid;
    mkdirSync(join(tmp, `leasehold-shared-${dead}-unmarked`));
    writeFileSync(join(tmp, `leasehold-shared-${dead}-unmarked`, 'shared.db'), '');
    mkdirSync(join(tmp, `leasehold-shared-${process.pid}-live`));
    const killed = await execa(process.execPath, [vitestBin, 'run', '--root', fixtures, '--config', config], {
      cwd: fixtures,
      env: { TMPDIR: tmp, MILVUS_LITE_PYTHON: installation!.python, LEASEHOLD_TESTING_MODULE: testingModule, LEASEHOLD_REPORT: report, CI: '' },
      reject: false,
      timeout: 120_000,
    });
    expect(killed.timedOut).toBe(false);
    const { scratch } = JSON.parse(readFileSync(report, 'utf8')) as { scratch: string };
    const scratchDir = dirname(scratch);
    // The kill left its scratch directory (database, lock, owner file) and its server's socket directory.
    expect(readdirSync(scratchDir).sort()).toEqual(['.scratch.db.lock', 'leasehold.pid', 'scratch.db']);
    expect(leaseholdEntries(tmp).filter((name) => name.startsWith('lh-')).length).toBeGreaterThan(0);
    await neverStopping(tmp, data, 'end');
    expect(leaseholdEntries(tmp)).toEqual(['leasehold-scratch-unmarked', `leasehold-shared-${process.pid}-live`, 'lh-someones-test-dir']);
  }, 240_000);

  it('a script that never stops its scratch pool, shared database, pool or ServerManager leaves nothing, however it ends; a hard exit leaves what the next run sweeps; the databases it opened stay', async () => {
    const tmp = freshDir();
    const data = freshDir();
    for (const mode of ['end', 'exit'] as const) {
      await neverStopping(tmp, data, mode);
      expect(leaseholdEntries(tmp), mode).toEqual([]);
    }
    const left = await neverStopping(tmp, data, 'reallyExit');
    // No exit hook ran: its directories are there, each marked with its owner.
    for (const dir of [dirname(left.scratch), dirname(left.shared)]) expect(readdirSync(dir)).toContain('leasehold.pid');
    expect(leaseholdEntries(tmp).length).toBeGreaterThan(2);
    await neverStopping(tmp, data, 'end');
    expect(leaseholdEntries(tmp)).toEqual([]);
    expect(readdirSync(data).filter((name) => name.endsWith('.db')).sort()).toEqual(['manager.db', 'pool.db']);
  }, 240_000);
});
