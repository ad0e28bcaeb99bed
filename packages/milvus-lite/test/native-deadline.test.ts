// The native engine (milvus-lite 2.5) under one deadline for the whole start (issue 14): a stall at
// any named step, the lock helper's included, ends at startTimeoutMs, and leaves nothing behind.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MilvusLiteServer, ServerStartError, type Installation, type StartStep } from '../src/index.js';
import { LockBroker } from '../src/lock-broker.js';
import { installationOf } from './support/installations.js';
import { isAlive, processesMentioning } from './support/processes.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

const installation: Installation | undefined = installationOf('native');
const freshDir = freshDirs('lh-native-deadline-');

describe.skipIf(installation === undefined)('native engine: one deadline for the whole start', () => {
  const newPool = poolsClosedAfterEach(installation);

  /** Nothing of the start is left: no process, no lock file, and the database opens again at once. */
  async function expectNothingLeft(dir: string, dbPath: string): Promise<void> {
    expect(processesMentioning(dir)).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.lock'))).toEqual([]);
    await using lease = await newPool().acquire(dbPath);
    expect(isAlive(lease.resource.pid!)).toBe(true);
  }

  const kStalls: readonly { step: StartStep; stalled: RegExp }[] = [
    { step: 'lock', stalled: /while taking its lock/ },
    { step: 'socket-dir', stalled: /before its socket directory was made/ },
    { step: 'spawn', stalled: /before its process was spawned/ },
  ];
  for (const { step, stalled } of kStalls) {
    it(`a hook that never returns at '${step}' fails at the deadline with a ServerStartError naming the step`, async () => {
      const dir = freshDir();
      const dbPath = join(dir, `${step}.db`);
      const server = new MilvusLiteServer(dbPath, {
        installation: installation!,
        startTimeoutMs: 400,
        onStartStep: (at) => (at === step ? new Promise<void>(() => {}) : undefined),
      });
      const started = performance.now();
      const error = await server.start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServerStartError);
      expect((error as Error).message).toContain('did not start within 400 ms: it stalled');
      expect((error as Error).message).toMatch(stalled);
      expect((error as Error).message).toContain(dbPath);
      expect(performance.now() - started).toBeLessThan(5000);
      await expectNothingLeft(dir, dbPath);
    });
  }

  // Given up while the broker works on the lock: by the deadline, or by the caller's signal (the reason itself is the rejection).
  for (const by of ['deadline', 'signal'] as const) {
    it(`the lock helper stopped (SIGSTOP) while the start waits for its lock: the start is given up by the ${by}, and the lock it takes later is let go`, async () => {
      const dir = freshDir();
      // Start the broker of this interpreter first, so there is a pid to stop.
      await using warm = await newPool().acquire(join(dir, 'warm.db'));
      const broker = LockBroker.for(installation!.python ?? 'python3') // TODO(lock branch);
      const brokerPid = broker.pid!;
      expect(brokerPid).toBeGreaterThan(0);
      expect(isAlive(warm.resource.pid!)).toBe(true);
      const dbPath = join(dir, 'stalled.db');
      const controller = new AbortController();
      const reason = new Error('the caller gave up');
      const server = new MilvusLiteServer(dbPath, {
        installation: installation!,
        startTimeoutMs: by === 'deadline' ? 500 : 30_000,
        onStartStep: (at) => {
          if (at !== 'lock') return;
          process.kill(brokerPid, 'SIGSTOP');
          if (by === 'signal') setTimeout(() => controller.abort(reason), 300);
        },
      });
      let error: unknown;
      try {
        error = await server.start({ signal: controller.signal }).catch((e: unknown) => e);
      } finally {
        process.kill(brokerPid, 'SIGCONT');
      }
      if (by === 'signal') expect(error).toBe(reason);
      else {
        expect(error).toBeInstanceOf(ServerStartError);
        // The deadline's own message, not wrapped as a failure of the lock.
        expect((error as Error).message.startsWith(`milvus-lite for ${dbPath} did not start within 500 ms: it stalled while taking its lock`), (error as Error).message).toBe(true);
      }
      // The broker answers the late lock once it runs again; that lock is released and its file removed.
      await expect.poll(() => existsSync(join(dir, '.stalled.db.lock')), { timeout: 5000, interval: 20 }).toBe(false);
      await using lease = await newPool().acquire(dbPath);
      expect(isAlive(lease.resource.pid!)).toBe(true);
    });
  }
});
