// The literal forms of DESIGN §1. On Node 20, which cannot parse `await using`, this file only runs
// because the syntax is compiled down; on Node 24 the same file runs natively (see .ci/run).
import { describe, expect, it } from 'vitest';
import { LeasePool } from '../src/index.js';

function recordingPool(log: string[]): LeasePool<{ key: string }> {
  return new LeasePool({
    start: async (key) => {
      log.push(`start ${key}`);
      return { key };
    },
    stop: async (r) => void log.push(`stop ${r.key}`),
    normalizeKey: String,
  });
}

describe('await using', () => {
  it('`await using lease = pool.acquire(path)` with no inner await releases once acquired', async () => {
    const log: string[] = [];
    const pool = recordingPool(log);
    {
      await using lease = pool.acquire('tenant-a');
      const { resource } = await lease;
      log.push(`use ${resource.key}`);
    }
    expect(log).toEqual(['start tenant-a', 'use tenant-a', 'stop tenant-a']);
  });

  it('`await using lease = await pool.acquire(path)` releases at the end of the block', async () => {
    const log: string[] = [];
    const pool = recordingPool(log);
    {
      await using lease = await pool.acquire('tenant-b');
      log.push(`use ${lease.resource.key}`);
    }
    expect(log).toEqual(['start tenant-b', 'use tenant-b', 'stop tenant-b']);
  });

  it('a failed acquisition disposes quietly after the caller saw the error', async () => {
    const pool = new LeasePool({ start: async () => Promise.reject(new Error('no')), normalizeKey: String });
    let seen: unknown;
    {
      await using lease = pool.acquire('k');
      seen = await lease.catch((e: unknown) => e);
    }
    expect(seen).toMatchObject({ name: 'StartError' });
  });

  it('`await using pool` closes the pool', async () => {
    const log: string[] = [];
    let leased: { released: boolean; signal: AbortSignal } | undefined;
    {
      await using pool = recordingPool(log);
      leased = await pool.acquire('k');
    }
    expect(leased.signal.aborted).toBe(true);
    expect(log).toEqual(['start k', 'stop k']);
  });
});
