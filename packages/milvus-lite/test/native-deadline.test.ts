// The native engine (milvus-lite 2.5) under one deadline for the whole start (issue 14): a stall at
// any named step ends at startTimeoutMs, and leaves nothing behind. (The lock is a system call now,
// which never stalls: no lock helper to stop.)
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MilvusLiteServer, ServerStartError, type Installation, type StartStep } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { isAlive, processesMentioning } from './support/processes.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

const installation: Installation | undefined = installationOf('native');
const freshDir = freshDirs('lh-native-deadline-');

describe.skipIf(installation === undefined)('native engine: one deadline for the whole start', () => {
  const newPool = poolsClosedAfterEach(installation);

  /** Nothing of the start is left: no process, no lock held, and the database opens again at once. */
  async function expectNothingLeft(dir: string, dbPath: string): Promise<void> {
    expect(processesMentioning(dir)).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.lock') && f !== `.${basename(dbPath)}.lock`)).toEqual([]);
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
});
