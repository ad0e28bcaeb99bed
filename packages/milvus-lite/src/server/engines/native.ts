import { basename, dirname, join } from 'node:path';
import { KeyLockedError } from '@leasehold/pool';
import type { ExitInfo, StartStep } from '../../engine.js';
import type { Engine, EngineProcess, EngineStartOptions } from './contract.js';
import { checkNativeDatabase } from '../database-path.js';
import { LockLostError, MilvusLiteError, ServerStartError } from '../../errors.js';
import { takeInodeLock } from '../inode-lock.js';
import { LockBusyError, LockFile } from '../lock-file.js';
import { busyDetail, busyFix } from '../lock-message.js';
import { assertPermitted } from '../permission.js';
import { noteLock } from '../registry.js';
import { OutputTail } from '../output-tail.js';
import { ServerErrorLog } from '../server-error-log.js';
import { removeSocketDir, sweepOnce } from '../socket-dir.js';
import { readyOrExited, StartDeadline } from './ready.js';
import { spawnerThread } from './spawn-thread.js';
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

// Not the database's name: a socket path holds 107 bytes, a file name up to 249 (see database-path.ts).
const kSocketName = 'milvus.sock';

/** The milvus-lite 2.4/2.5 native binary: `milvus <db> unix:<socket> ERROR <lock>`, kept alive by a held fcntl lock. */
export const nativeEngine: Engine = {
  name: 'native',
  async start(options: EngineStartOptions): Promise<EngineProcess> {
    const { installation, dbPath } = options;
    // One deadline, startTimeoutMs, for the whole start: a stall at any step ends on time.
    const deadline = new StartDeadline(options);
    const name = basename(dbPath);
    const lockPath = join(dirname(dbPath), `.${name}.lock`);
    const rollback = new Rollback();
    // The abort and the deadline are checked before and after each step's hook, so a step never starts once the start was given up.
    let uri: string | undefined;
    const step = (step: StartStep, pid?: number): Promise<void> => deadline.step(step, { ...(pid === undefined ? {} : { pid }), ...(uri === undefined ? {} : { uri }) });
    try {
      // Inside the try: a refused database disposes of the deadline too (its timer would keep Node alive until startTimeoutMs).
      await checkNativeDatabase(dbPath);
      assertPermitted(dbPath, ['worker', 'child', 'addon']);
      await step('lock');
      let lock: LockFile;
      try {
        lock = LockFile.take(lockPath);
      } catch (error) {
        if (error instanceof LockBusyError) throw new KeyLockedError(dbPath, busyDetail(error, lockPath), { cause: error, fix: busyFix(error) });
        throw new ServerStartError(dbPath, `was not started: ${(error as Error).message}`, undefined, { cause: error });
      }
      // The file is left in place: no unlink is safe against an opener between its open and its lock.
      rollback.push(async () => lock.release());
      const forgetLock = noteLock(lockPath, dbPath);
      rollback.push(async () => forgetLock());
      // The name lock excludes Python; this one, by device and inode, excludes another hard link's
      // server (another name, so another name lock): see inode-lock.ts.
      let inode: Awaited<ReturnType<typeof takeInodeLock>>;
      try {
        inode = await takeInodeLock(dbPath);
      } catch (error) {
        if (error instanceof KeyLockedError) throw error;
        throw new ServerStartError(dbPath, `was not started: ${(error as Error).message}`, undefined, { cause: error });
      }
      rollback.push(async () => inode.lock.release());
      const forgetInode = noteLock(inode.path, dbPath);
      rollback.push(async () => forgetInode());
      // Someone else holds the file now at a lock path (it was deleted or replaced, and they got in
      // before the guard re-made it): this server stops rather than run beside theirs.
      let foreign: LockLostError | undefined;
      let stopNow = (): void => {};
      for (const [held, path] of [[lock, lockPath], [inode.lock, inode.path]] as const) {
        held.guard((error) => {
          if (foreign !== undefined) return;
          foreign = new LockLostError(dbPath, path, error);
          options.onLost?.(foreign);
          stopNow();
        });
      }

      await step('socket-dir');
      // The sweep of dead owners' socket directories runs in the spawner thread (below), not here:
      // on a cold open this thread's time is the SDK's load (issue 24).
      const { dir: socketDir, socketPath } = await makeServerSocketDir(dbPath, kSocketName, deadline, { sweep: false });
      rollback.push(() => removeSocketDir(socketDir));

      uri = `unix:${socketPath}`;
      await step('spawn');
      // The spawner thread only now, at the spawn: its boot (execa's import) runs beside the SDK's
      // load, and the steps above run undisturbed (while a thread boots, each file-system call of
      // this one took up to 4 ms instead of 0.3, measured).
      let spawner: ReturnType<typeof spawnerThread>;
      try {
        spawner = spawnerThread();
      } catch (error) {
        // A MilvusLiteError (package-root.ts: the entry missing, or the package bundled into an application) says its own fix.
        const fix = (error as NodeJS.ErrnoException).code === 'ERR_ACCESS_DENIED' ? "; Node's permission model forbids worker threads: run with --allow-worker" : error instanceof MilvusLiteError ? '' : '; reinstall @leasehold/milvus-lite';
        throw new ServerStartError(dbPath, `was not started: leasehold's spawner thread could not be created (${(error as Error).message})${fix}`, undefined, { cause: error });
      }
      sweepOnce(dirname(socketDir), (base) => spawner.sweep(base));
      const libDir = installation.libDir ?? dirname(installation.binary);
      const env = { ...process.env, ...options.env };
      const tail = new OutputTail();
      // No shell; the database is passed as an absolute path, so a leading '-' cannot read as a flag.
      const child = spawner.spawn(installation.binary, [dbPath, `unix:${socketPath}`, 'ERROR', lock.pathForServer], {
        cwd: dirname(dbPath),
        probe: { socketPath, timeoutMs: Math.max(0, deadline.at - performance.now()) },
        env: {
          ...env,
          // glog writes milvus.INFO etc. into $TMPDIR; the private socket dir goes with the server.
          TMPDIR: socketDir,
          GLOG_log_dir: socketDir,
          // milvus-lite 2.5.1 maps under $HOME/.cache/milvus, which each server removes and re-creates
          // as it inits (and removes at exit): servers sharing one HOME race there, and the loser
          // answers every call with "Mmap manager has not been init" (pymilvus#2981). A private HOME
          // per server (its socket dir, removed with it) leaves nothing to share.
          HOME: socketDir,
          LD_LIBRARY_PATH: [libDir, env['LD_LIBRARY_PATH']].filter(Boolean).join(':'),
          DYLD_LIBRARY_PATH: [libDir, env['DYLD_LIBRARY_PATH']].filter(Boolean).join(':'),
        },
      });
      const exited = exitInfoOf(child, tail);
      // The server gone, its lock (and the guard's watch) goes too: nothing is left to exclude others from.
      void exited.then(() => {
        lock.release();
        inode.lock.release();
      });

      let stopping: Promise<ExitInfo> | undefined;
      // The socket watch, once the server is up. A stop closes it first: the server removes its
      // socket as it shuts down, which is not a deletion to report.
      let unwatch = (): void => {};
      const stop = (timeoutMs: number): Promise<ExitInfo> =>
        (stopping ??= (async () => {
          unwatch();
          // Releasing the lock is the graceful stop: the server takes it and exits.
          lock.release();
          // The inode lock only once the server is gone (exited, or the rollback below).
          const exit = await exitWithin(child, exited, timeoutMs);
          await rollback.run(); // the socket directory, the inode lock
          return exit;
        })());

      stopNow = () => void stop(options.stopTimeoutMs);
      try {
        // The pid, once the spawner thread has spawned (meanwhile this thread loads the SDK).
        const pid = await deadline.race(child.spawned);
        await step('ready', pid);
        // The spawner thread probes (this thread is busy loading the SDK); the deadline bounds it.
        await deadline.race(readyOrExited(child.ready, exited));
      } catch (error) {
        // The stop undoes the rest (socket directory, lock file) once the process is gone.
        await stop(options.stopTimeoutMs);
        throw foreign ?? (await startFailure(error, dbPath, exited));
      }
      // Only once it is up: while starting, nothing else may be keeping Node alive.
      unrefProcess(child);
      unwatch = watchSocket(socketDir, socketPath, exited, tail, () => void stop(options.stopTimeoutMs));
      return {
        uri: `unix:${socketPath}`,
        pid: child.pid!,
        exited,
        stop: () => stop(options.stopTimeoutMs),
        errorLog: new ServerErrorLog(socketDir),
      };
    } catch (error) {
      await rollback.run();
      throw deadline.passed(error) && !(error instanceof ServerStartError) ? new ServerStartError(dbPath, (error as Error).message) : error;
    } finally {
      deadline.dispose();
    }
  },
};
