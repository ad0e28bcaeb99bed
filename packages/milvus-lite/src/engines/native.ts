import { basename, dirname, join } from 'node:path';
import { KeyLockedError } from '@leasehold/pool';
import type { Engine, EngineProcess, EngineStartOptions, ExitInfo, StartStep } from '../engine.js';
import { checkNativeDatabase } from '../database-path.js';
import { ServerStartError } from '../errors.js';
import { loadExeca } from '../load-execa.js';
import { OutputTail } from '../output-tail.js';
import { removeSocketDir } from '../socket-dir.js';
import { StartDeadline, waitUntilReady } from './ready.js';
import { exitInfoOf, exitWithin, makeServerSocketDir, startFailure, unrefProcess, watchSocket } from './server-process.js';

/**
 * What a start has taken so far, undone in reverse order when a later step fails (or is aborted):
 * the process (stopped gracefully, SIGKILLed after the stop timeout), the socket directory, the lock.
 */
class Rollback {
  readonly #undo: Array<() => Promise<unknown>> = [];
  push(undo: () => Promise<unknown>): void {
    this.#undo.push(undo);
  }
  async run(): Promise<void> {
    for (const undo of this.#undo.splice(0).reverse()) await undo().catch(() => {});
  }
}

/** The milvus-lite 2.4/2.5 native binary: `milvus <db> unix:<socket> ERROR <lock>`, kept alive by a held fcntl lock. */
export const nativeEngine: Engine = {
  name: 'native',
  async start(options: EngineStartOptions): Promise<EngineProcess> {
    const { installation, dbPath } = options;
    // One deadline, startTimeoutMs, for the whole start: a stall at any step ends on time.
    const deadline = new StartDeadline(options);
    const name = basename(dbPath);
    const lockPath = join(dirname(dbPath), `.${name}.lock`);
    // The lock broker and execa load with the first start, not with the package, beside the database check.
    const loading = Promise.all([import('../lock-broker.js'), loadExeca()]);
    loading.catch(() => {});
    const rollback = new Rollback();
    // The abort and the deadline are checked before and after each step's hook, so a step never starts once the start was given up.
    let uri: string | undefined;
    const step = (step: StartStep, pid?: number): Promise<void> => deadline.step(step, { ...(pid === undefined ? {} : { pid }), ...(uri === undefined ? {} : { uri }) });
    try {
      // Inside the try: a refused database disposes of the deadline too (its timer would keep Node alive until startTimeoutMs).
      await checkNativeDatabase(dbPath);
      const [{ LockBroker, LockBusyError }, execa] = await loading;
      const broker = LockBroker.for(installation.python);
      await step('lock');
      let lockRef: number;
      const locking = broker.lock(lockPath);
      try {
        lockRef = await deadline.race(locking);
      } catch (error) {
        // Given up while the broker still works on it (stalled): a lock it takes later is let go at once.
        if (!(error instanceof LockBusyError)) void locking.then(async (ref) => {
          await broker.unlock(ref);
          await broker.clean(lockPath);
        }, () => {});
        if (deadline.signal.aborted) throw error;
        if (error instanceof LockBusyError) {
          const holder = error.holderPid === undefined ? '' : ` (pid ${error.holderPid} holds it)`;
          throw new KeyLockedError(dbPath, `another program (another milvus-lite server, or Python's ServerManager) has it open; its lock is ${lockPath}${holder}`, { cause: error });
        }
        throw new ServerStartError(dbPath, `was not started: ${(error as Error).message}`, undefined, { cause: error });
      }
      // Unlocking a lock already released by the process's stop is a no-op; cleaning removes the file.
      rollback.push(async () => {
        await broker.unlock(lockRef);
        await broker.clean(lockPath);
      });

      await step('socket-dir');
      const { dir: socketDir, socketPath } = await makeServerSocketDir(dbPath, `${name}.sock`, deadline);
      rollback.push(() => removeSocketDir(socketDir));

      uri = `unix:${socketPath}`;
      await step('spawn');
      const libDir = installation.libDir ?? dirname(installation.binary);
      const env = { ...process.env, ...options.env };
      const tail = new OutputTail();
      // No shell; the database is passed as an absolute path, so a leading '-' cannot read as a flag.
      const child = execa(installation.binary, [dbPath, `unix:${socketPath}`, 'ERROR', lockPath], {
        cwd: dirname(dbPath),
        env: {
          ...env,
          // glog writes milvus.INFO etc. into $TMPDIR; the private socket dir goes with the server.
          TMPDIR: socketDir,
          GLOG_log_dir: socketDir,
          LD_LIBRARY_PATH: [libDir, env['LD_LIBRARY_PATH']].filter(Boolean).join(':'),
          DYLD_LIBRARY_PATH: [libDir, env['DYLD_LIBRARY_PATH']].filter(Boolean).join(':'),
        },
        extendEnv: false,
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
        buffer: false,
        reject: false,
        // Not SIGTERM at exit (the binary dies on it without shutting down): the lock is its stop.
        cleanup: false,
      });
      tail.follow(child.stdout);
      tail.follow(child.stderr);
      const exited = exitInfoOf(child, tail);

      let stopping: Promise<ExitInfo> | undefined;
      // The socket watch, once the server is up. A stop closes it first: the server removes its
      // socket as it shuts down, which is not a deletion to report.
      let unwatch = (): void => {};
      const stop = (timeoutMs: number): Promise<ExitInfo> =>
        (stopping ??= (async () => {
          unwatch();
          // Releasing the lock is the graceful stop: the server takes it and exits.
          await broker.unlock(lockRef);
          const exit = await exitWithin(child, exited, timeoutMs);
          await rollback.run(); // the socket directory, then the lock file
          return exit;
        })());

      try {
        await step('ready', child.pid);
        await waitUntilReady({ socketPath }, exited, { signal: deadline.signal, startTimeoutMs: options.startTimeoutMs, startedAt: deadline.at - options.startTimeoutMs });
      } catch (error) {
        // The stop undoes the rest (socket directory, lock file) once the process is gone.
        await stop(options.stopTimeoutMs);
        throw await startFailure(error, dbPath, exited);
      }
      // Only once it is up: while starting, nothing else may be keeping Node alive.
      unrefProcess(child);
      unwatch = watchSocket(socketDir, socketPath, exited, tail, () => void stop(options.stopTimeoutMs));
      return {
        uri: `unix:${socketPath}`,
        pid: child.pid!,
        exited,
        stop: () => stop(options.stopTimeoutMs),
      };
    } catch (error) {
      await rollback.run();
      throw deadline.passed(error) && !(error instanceof ServerStartError) ? new ServerStartError(dbPath, (error as Error).message) : error;
    } finally {
      deadline.dispose();
    }
  },
};
