// Survivors of the pool's mutation run (pnpm mutate) listed as open in stryker-equivalent.md that a
// behavioural test can tell apart: each test here kills the mutant named above it.
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LeasePool, type StartContext } from '../src/index.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'leasehold-survivors-')));

describe('a start that failed', () => {
  // #onLost: `if (entry.doom === undefined)` -> true (a lost() after the failed start, while its lock
  // is let go, revoked the dead start's signal: the failure's doom is set without a revocation)
  it('does not abort its signal when lost() is called while its lock is let go', async () => {
    const key = join(dir, 'failed-then-lost.db');
    let context: StartContext | undefined;
    let signal: AbortSignal | undefined;
    const pool = new LeasePool<string>({
      start: async (_key, ctx) => {
        context = ctx;
        signal = ctx.signal;
        throw new Error('start fails');
      },
      lock: true,
      normalizeKey: String,
    });
    const aborted: boolean[] = [];
    await expect(
      pool.acquire(key).catch((error: unknown) => {
        // The rejection comes before the unlock: the entry is still 'starting', doomed 'abandoned'.
        context!.lost(new Error('late lost'));
        aborted.push(signal!.aborted);
        throw error;
      }),
    ).rejects.toThrow(/start fails/);
    expect(aborted).toEqual([false]);
    expect(signal!.aborted).toBe(false);
    await pool.close();
  });
});
