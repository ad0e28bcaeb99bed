// The python engine's wrapper program on its own (engines/python-wrapper.ts), run as the engine
// runs it, with this test as its live parent: the parent-death signal never fires here, so what
// stops the wrapper is what the test does to it.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { Installation } from '../src/index.js';
import { kPythonWrapper, kPythonWrapperBootstrap, kPythonWrapperEnv } from '../src/server/engines/python-wrapper.js';
import { grpcAnswers } from '../src/server/grpc-probe.js';
import { makeSocketDir, removeSocketDir } from '../src/server/socket-dir.js';
import { installationOf } from './support/installations.js';
import { freshDirs } from './support/scratch-dirs.js';

const installation: Installation | undefined = installationOf('python');
const freshDir = freshDirs('lh-wrapper-');

/** Starts the wrapper on a fresh database and socket; resolves once it printed its first line. */
async function startWrapper() {
  const dbPath = join(freshDir(), 'db');
  const { dir, socketPath } = await makeSocketDir('milvus.sock');
  const child = execa(installation!.python!, ['-c', kPythonWrapperBootstrap, dbPath, `unix:${socketPath}`], {
    env: { [kPythonWrapperEnv]: kPythonWrapper },
    stdin: 'pipe',
    reject: false,
    timeout: 120_000,
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void child.then((r) => reject(new Error(`the wrapper exited before its first line: ${String(r.stderr)}`)));
  });
  return { child, line, dbPath, dir, socketPath };
}

/** The wrapper exits within `withinMs` with code 0 (a graceful stop), and its socket is gone. */
async function expectGracefulExit(child: Awaited<ReturnType<typeof startWrapper>>['child'], socketPath: string, withinMs: number, stillRunning: string): Promise<void> {
  const result = await Promise.race([child, sleep(withinMs).then(() => undefined)]);
  expect(result, stillRunning).toBeDefined();
  expect({ code: result!.exitCode, signal: result!.signal }).toEqual({ code: 0, signal: undefined });
  expect(existsSync(socketPath)).toBe(false);
}

/** SIGINT to argv[1], back to back, for 0.5 s or until it is gone. */
const kSignalFlood = String.raw`
import os, signal, sys, time
pid, end = int(sys.argv[1]), time.monotonic() + 0.5
while time.monotonic() < end:
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        break
`;

describe.skipIf(installation === undefined)('the python wrapper, with its parent alive', () => {
  it('stdin EOF alone stops it gracefully: exit 0, its socket gone', async () => {
    const { child, line, dir, socketPath } = await startWrapper();
    try {
      expect(JSON.parse(line)).toEqual({ address: `unix:${socketPath}` });
      expect(await grpcAnswers({ socketPath }, 5000)).toBe(true);
      child.stdin.end();
      await expectGracefulExit(child, socketPath, 30_000, 'still running 30 s after its stdin closed');
    } finally {
      child.kill('SIGKILL');
      await removeSocketDir(dir);
    }
  }, 130_000);

  // The owner's death brings stdin's EOF and the parent-death SIGINT at the same instant. A handler
  // that took a lock (threading.Event.set) deadlocked when its signal landed while the main thread,
  // just woken, still held that very lock inside Event.wait: the wrapper then ran forever, an orphan
  // (seen in CI; about 1 owner SIGKILL in 25 here). The window lasts microseconds, so a second
  // process sends SIGINT back to back for half a second, then stdin closes: the old handler
  // wedged in most rounds.
  it('a flood of SIGINTs, then stdin EOF, never wedges it: 3 rounds, each exits 0 within 10 s', async () => {
    for (let round = 0; round < 3; round++) {
      const { child, dir, socketPath } = await startWrapper();
      try {
        await execa(installation!.python!, ['-c', kSignalFlood, String(child.pid)]);
        child.stdin.end();
        await expectGracefulExit(child, socketPath, 10_000, `round ${round}: still running 10 s after its stop requests (wedged)`);
      } finally {
        child.kill('SIGKILL');
        await removeSocketDir(dir);
      }
    }
  }, 240_000);

  it('SIGINT stops it gracefully too, and a second wrapper on the same data directory exits 3 (locked)', async () => {
    const { child, dbPath, dir } = await startWrapper();
    const other = await makeSocketDir('milvus.sock');
    try {
      mkdirSync(dbPath, { recursive: true });
      const second = await execa(installation!.python!, ['-c', kPythonWrapperBootstrap, dbPath, `unix:${other.socketPath}`], {
        env: { [kPythonWrapperEnv]: kPythonWrapper },
        reject: false,
        timeout: 120_000,
      });
      expect(second.exitCode).toBe(3);
      expect(second.stderr).toMatch(/DataDirLockedError/);
      child.kill('SIGINT');
      expect((await child).exitCode).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await Promise.all([removeSocketDir(dir), removeSocketDir(other.dir)]);
    }
  }, 130_000);
});
