// Semantic 10 in-process, against the source (leak.test.ts runs the built package in a child).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { LeasePool } from '../src/index.js';

// The worker was not started with --expose-gc (Stryker's runner picks its own); turn it on here.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;
const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function collectUntil(condition: () => boolean): Promise<void> {
  for (let round = 0; round < 50 && !condition(); round++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function captureWarnings(): { warnings: Array<{ code: string | undefined; message: string }>; stop: () => void } {
  const warnings: Array<{ code: string | undefined; message: string }> = [];
  const onWarning = (warning: Error & { code?: string }): void => void warnings.push({ code: warning.code, message: warning.message });
  process.on('warning', onWarning);
  return { warnings, stop: () => process.off('warning', onWarning) };
}

describe('semantic 10 in-process: a lease garbage-collected unreleased', () => {
  it('can collect garbage on demand', () => {
    expect(typeof gc).toBe('function');
  });

  it('is counted, warned about with its key and acquiring stack, and its resource is released', async () => {
    const stops: string[] = [];
    const pool = new LeasePool({ start: (key) => ({ key }), stop: (_r, { reason }) => void stops.push(reason), normalizeKey: String, captureStacks: true });
    const capture = captureWarnings();
    try {
      await (async function forgetfulCaller() {
        await pool.acquire('tenant-x');
      })();
      const kept = await pool.acquire('tenant-y');
      await macrotask(); // leases are registered one macrotask after they are taken
      await collectUntil(() => pool.stats().leaked > 0 && capture.warnings.length > 0);
      await macrotask();
      expect(pool.stats()).toMatchObject({ leaked: 1, leases: 1 });
      expect(stops).toEqual(['idle']);
      const leaks = capture.warnings.filter((w) => w.code === 'LEASEHOLD_LEASE_LEAKED');
      expect(leaks).toHaveLength(1);
      expect(leaks[0]!.message).toContain('a lease on tenant-x was garbage-collected without release()');
      expect(leaks[0]!.message).toContain('Acquired at:');
      expect(leaks[0]!.message).toContain('forgetfulCaller');
      expect(kept.released).toBe(false);
      await kept.release();
      expect(kept.released).toBe(true);
    } finally {
      capture.stop();
      await pool.close();
    }
  });

  it('a released lease, or one whose resource is already gone, is not reported', async () => {
    const pool = new LeasePool({ start: (key) => ({ key }), normalizeKey: String, idleTimeoutMs: Infinity });
    const capture = captureWarnings();
    try {
      await (async () => {
        const lease = await pool.acquire('released');
        await macrotask();
        await lease.release();
        await pool.acquire('evicted');
        await macrotask();
        await pool.evict('evicted');
      })();
      // More than the batch size at once, so some are registered before the macrotask.
      const many = await Promise.all(Array.from({ length: 1100 }, () => pool.acquire('released')));
      await Promise.all(many.map((lease) => lease.release()));
      for (let round = 0; round < 10; round++) {
        gc!();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(pool.stats()).toMatchObject({ leaked: 0, leases: 0 });
      expect(capture.warnings.filter((w) => w.code === 'LEASEHOLD_LEASE_LEAKED')).toEqual([]);
    } finally {
      capture.stop();
      await pool.close();
    }
  });

  it('a lease released before it was registered is never reported, while another lease keeps its resource up', async () => {
    const pool = new LeasePool({ start: (key) => ({ key }), normalizeKey: String, idleTimeoutMs: Infinity });
    const capture = captureWarnings();
    try {
      const kept = await pool.acquire('shared');
      await (async () => {
        const early = await pool.acquire('shared');
        await early.release(); // in the same macrotask: before the batch is registered
      })();
      await macrotask();
      for (let round = 0; round < 10; round++) {
        gc!();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(pool.stats()).toMatchObject({ leaked: 0, leases: 1, resources: 1 });
      expect(capture.warnings.filter((w) => w.code === 'LEASEHOLD_LEASE_LEAKED')).toEqual([]);
      await kept.release();
    } finally {
      capture.stop();
      await pool.close();
    }
  });

  it('a lease collected while its resource is stopping no longer counts as held', async () => {
    let finish!: () => void;
    const pool = new LeasePool({ start: (key) => ({ key }), stop: () => new Promise<void>((r) => (finish = r)), normalizeKey: String, stopTimeoutMs: Infinity });
    const capture = captureWarnings();
    try {
      await (async () => {
        await pool.acquire('stopping');
      })();
      await macrotask();
      const evicting = pool.evict('stopping');
      await macrotask();
      expect(pool.stats()).toMatchObject({ resources: 1, leases: 1 });
      await collectUntil(() => pool.stats().leases === 0);
      expect(pool.stats()).toMatchObject({ resources: 1, leases: 0, leaked: 0 });
      expect(capture.warnings.filter((w) => w.code === 'LEASEHOLD_LEASE_LEAKED')).toEqual([]);
      finish();
      await evicting;
    } finally {
      capture.stop();
      await pool.close();
    }
  });

  // A lease released while it is still the newest one waiting to be registered leaves that list at
  // once (the hot loop's garbage then dies young). These two check that the shortcut never drops
  // another lease from leak detection.
  it('a lease released out of order leaves the newer ones tracked: the one dropped later is reported', async () => {
    const pool = new LeasePool({ start: (key) => ({ key }), normalizeKey: String, idleTimeoutMs: Infinity });
    const capture = captureWarnings();
    try {
      await (async () => {
        const older = await pool.acquire('out-of-order');
        await pool.acquire('out-of-order'); // the newer one, never released
        await older.release(); // not the newest waiting: it must not take the newer one's place
      })();
      await macrotask();
      await collectUntil(() => pool.stats().leaked > 0);
      expect(pool.stats()).toMatchObject({ leaked: 1, leases: 0 });
      expect(capture.warnings.filter((w) => w.code === 'LEASEHOLD_LEASE_LEAKED')).toHaveLength(1);
    } finally {
      capture.stop();
      await pool.close();
    }
  });

  it('leases taken in later macrotasks are registered too, after the first batch went', async () => {
    const pool = new LeasePool({ start: (key) => ({ key }), normalizeKey: String, idleTimeoutMs: Infinity });
    const capture = captureWarnings();
    try {
      for (let turn = 0; turn < 3; turn++) {
        await (async () => {
          await pool.acquire(`turn-${turn}`); // never released
        })();
        await macrotask(); // its batch is registered here
      }
      await collectUntil(() => pool.stats().leaked === 3);
      expect(pool.stats()).toMatchObject({ leaked: 3, leases: 0 });
      expect(capture.warnings.filter((w) => w.code === 'LEASEHOLD_LEASE_LEAKED').map((w) => /turn-\d/.exec(w.message)?.[0]).sort()).toEqual(['turn-0', 'turn-1', 'turn-2']);
    } finally {
      capture.stop();
      await pool.close();
    }
  });

  it('LEASEHOLD_TRACE_LEASES=1 turns on captureStacks', async () => {
    const saved = process.env['LEASEHOLD_TRACE_LEASES'];
    process.env['LEASEHOLD_TRACE_LEASES'] = '1';
    const pool = new LeasePool({ start: (key) => ({ key }), normalizeKey: String });
    if (saved === undefined) delete process.env['LEASEHOLD_TRACE_LEASES'];
    else process.env['LEASEHOLD_TRACE_LEASES'] = saved;
    const capture = captureWarnings();
    try {
      await (async function tracedCaller() {
        await pool.acquire('traced');
      })();
      await macrotask();
      await collectUntil(() => capture.warnings.length > 0);
      expect(capture.warnings.map((w) => w.message)).toEqual([expect.stringContaining('Acquired at:')]);
      expect(capture.warnings[0]!.message).toContain('tracedCaller');
    } finally {
      capture.stop();
      await pool.close();
    }
  });

  it('without captureStacks the warning says how to get the stack', async () => {
    const pool = new LeasePool({ start: (key) => ({ key }), normalizeKey: String });
    const capture = captureWarnings();
    try {
      await (async () => {
        await pool.acquire('no-stack');
      })();
      await macrotask();
      await collectUntil(() => capture.warnings.length > 0);
      expect(capture.warnings.map((w) => w.message)).toEqual([expect.stringContaining('Set captureStacks: true (or LEASEHOLD_TRACE_LEASES=1)')]);
    } finally {
      capture.stop();
      await pool.close();
    }
  });
});
