import { rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyLockedError, LeasePool, LeaseRevokedError } from '../src/index.js';
import { scratchDir } from './support/scratch-dir.js';

const holderScript = fileURLToPath(new URL('./fixtures/lock-holder.mjs', import.meta.url));
const dir = scratchDir('leasehold-lock-');
const spawnHolder = (key: string) => execa(process.execPath, [holderScript, key], { stdin: 'pipe', reject: false });
const children: ReturnType<typeof spawnHolder>[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

// Wrapped in an object: an execa child is a thenable, and returning it from an async function
// would wait for the child to exit.
async function startHolder(key: string): Promise<{ holder: ReturnType<typeof spawnHolder> }> {
  const child = spawnHolder(key);
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('held') && resolve());
    void child.then((r) => reject(new Error(`holder exited: ${r.stderr}`)));
  });
  return { holder: child };
}

describe('lock: cross-process exclusivity per key', () => {
  it('a second process gets KeyLockedError naming the path, and the holder is undisturbed', async () => {
    const key = join(dir, 'busy.db');
    const { holder } = await startHolder(key);
    const starts: string[] = [];
    const pool = new LeasePool({ start: async (k) => void starts.push(k), lock: true });
    const error = await pool.acquire(key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyLockedError);
    expect((error as KeyLockedError).key).toBe(key);
    expect((error as Error).message).toContain(key);
    expect(starts).toEqual([]);
    expect(holder.exitCode).toBeNull();
    holder.stdin!.end();
    expect((await holder).exitCode).toBe(0);
    // Once the holder has let go, the key is free.
    await (await pool.acquire(key)).release();
    expect(starts).toEqual([key]);
  });

  it('a lock left by a SIGKILLed process is recovered once stale', async () => {
    const key = join(dir, 'stale.db');
    const { holder } = await startHolder(key);
    holder.kill('SIGKILL');
    await holder;
    const pool = new LeasePool({ start: async () => 'r', lock: true });
    await expect(pool.acquire(key)).rejects.toBeInstanceOf(KeyLockedError);
    // Age the abandoned lock past staleMs (10 s) instead of sleeping through it.
    const past = new Date(Date.now() - 60_000);
    utimesSync(`${key}.lock`, past, past);
    const lease = await pool.acquire(key);
    expect(lease.resource).toBe('r');
    await lease.release();
    expect(() => statSync(`${key}.lock`)).toThrow(/ENOENT/);
  });

  it('a compromised lock marks the resource lost instead of crashing the process', async () => {
    const key = join(dir, 'compromised.db');
    const stops: string[] = [];
    const errors: unknown[] = [];
    // updateMs 1000 with the default staleMs (10 s): the lock is refreshed, and its loss seen, within about a second.
    const pool = new LeasePool({
      start: async () => 'r',
      stop: async (_r, { reason }) => void stops.push(reason),
      lock: { updateMs: 1000 },
      onError: (error) => void errors.push(error),
    });
    const lease = await pool.acquire(key);
    rmSync(`${key}.lock`, { recursive: true });
    await new Promise<void>((resolve) => lease.signal.addEventListener('abort', () => resolve(), { once: true }));
    expect(lease.signal.reason).toBeInstanceOf(LeaseRevokedError);
    expect(lease.signal.reason).toMatchObject({ reason: 'lost' });
    await expect.poll(() => stops).toEqual(['lost']);
    expect(pool.stats().lost).toBe(1);
    await lease.release();
    await expect.poll(() => pool.stats().resources).toBe(0);
    // Releasing a compromised lock fails by design (ERELEASED); that is not reported.
    expect(errors).toEqual([]);
  });

  it('a lock that cannot be removed at release is reported to onError with the key and reason', async () => {
    const key = join(dir, 'unremovable.db');
    const errors: Array<{ error: unknown; context: unknown }> = [];
    const pool = new LeasePool({ start: async () => 'r', lock: true, onError: (error, context) => void errors.push({ error, context }) });
    const lease = await pool.acquire(key);
    writeFileSync(join(`${key}.lock`, 'intruder'), '');
    await lease.release();
    expect(errors).toHaveLength(1);
    expect((errors[0]!.error as NodeJS.ErrnoException).code).toBe('ENOTEMPTY');
    expect(errors[0]!.context).toEqual({ key, reason: 'idle' });
    rmSync(`${key}.lock`, { recursive: true });
    await pool.close();
  });
});
