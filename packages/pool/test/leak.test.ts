import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/leak.mjs', import.meta.url));

async function runFixture(mode: string): Promise<{
  stats: { leaked: number; leases: number; resources: number };
  warnings: { code: string; message: string }[];
  log: string[];
  keptAlive: boolean;
}> {
  const { stdout } = await execa(process.execPath, ['--expose-gc', fixture, mode]);
  return JSON.parse(stdout);
}

describe('semantic 10: a lease garbage-collected unreleased is reported and counted', () => {
  it('warns with the acquiring stack, counts it, and gives its resource back', async () => {
    const out = await runFixture('stacks');
    expect(out.stats.leaked).toBe(1);
    const leaks = out.warnings.filter((w) => w.code === 'LEASEHOLD_LEASE_LEAKED');
    expect(leaks).toHaveLength(1);
    expect(leaks[0]!.message).toContain('tenant-a');
    expect(leaks[0]!.message).toContain('forgetfulHandler');
    expect(out.log).toEqual(['stop idle']);
    // The lease that is still referenced is not reported.
    expect(out.keptAlive).toBe(true);
    expect(out.stats.leases).toBe(1);
  });

  it('without captureStacks it still warns and says how to get the stack', async () => {
    const out = await runFixture('no-stacks');
    expect(out.stats.leaked).toBe(1);
    const leak = out.warnings.find((w) => w.code === 'LEASEHOLD_LEASE_LEAKED');
    expect(leak?.message).toContain('LEASEHOLD_TRACE_LEASES=1');
    expect(leak?.message).not.toContain('forgetfulHandler');
  });
});
