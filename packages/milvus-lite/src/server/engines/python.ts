import { readFileSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { execa } from 'execa';
import { loadExeca } from '../../install/load-execa.js';
import { assertPermitted } from '../permission.js';
import { KeyLockedError } from '@leasehold/pool';
import type { ExitInfo } from '../../engine.js';
import type { Engine, EngineProcess, EngineStartOptions } from './contract.js';
import { checkWritableDir } from '../database-path.js';
import { InvalidDatabaseError, ServerStartError } from '../../errors.js';
import { OutputTail } from '../output-tail.js';
import type { ProbeTarget } from '../grpc-probe.js';
import { removeSocketDir } from '../socket-dir.js';
import { kPythonWrapper, kPythonWrapperBootstrap, kPythonWrapperEnv } from './python-wrapper.js';
import { StartDeadline, waitUntilReady } from './ready.js';
import { exitInfoOf, exitWithin, makeServerSocketDir, startFailure, unrefProcess, watchSocket } from './server-process.js';

/** Whether `pid` is stopped (SIGSTOP, a debugger): it cannot act on SIGINT until continued. Linux's /proc only. */
function isStopped(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[Tt]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

async function checkDataDir(dbPath: string): Promise<void> {
  const stats = await lstat(dbPath).catch(() => undefined);
  if (stats !== undefined && !stats.isDirectory()) {
    const what = stats.isFile() ? 'a file' : stats.isSymbolicLink() ? 'a symbolic link to no directory' : 'not a directory (a FIFO, a socket or a device)';
    throw new InvalidDatabaseError(dbPath, `it is ${what}, but milvus-lite 3.x keeps a database in a directory`, 'pass a directory path (it is created if missing), or use the native engine (milvus-lite 2.5) for .db files');
  }
  await checkWritableDir(dbPath, stats === undefined ? dirname(dbPath) : dbPath);
}

/**
 * milvus-lite ≥ 3.0, the pure-Python server, run by leasehold's wrapper (engines/python-wrapper.ts).
 * It serves on `unix:<private 0700 dir>/milvus.sock`, or with `port` on `127.0.0.1:PORT` with
 * SO_REUSEPORT off (a port in use is a ServerStartError). One deadline, `startTimeoutMs`, covers
 * every step of the start; when it passes, the wrapper is stopped (SIGKILLed if it is SIGSTOPped)
 * and its socket directory removed before the start rejects.
 */
export const pythonEngine: Engine = {
  name: 'python',
  async start(options: EngineStartOptions): Promise<EngineProcess> {
    const { dbPath } = options;
    const deadline = new StartDeadline(options);
    let socketDir: string | undefined;
    let exited: Promise<ExitInfo> | undefined;
    let stop: ((reason: 'graceful' | 'failed start') => Promise<ExitInfo>) | undefined;
    try {
      await checkDataDir(dbPath);
      assertPermitted(dbPath, ['child']);
      await deadline.step('socket-dir');
      let target: ProbeTarget;
      let address: string;
      if (options.port === undefined) {
        const made = await makeServerSocketDir(dbPath, 'milvus.sock', deadline);
        socketDir = made.dir;
        target = { socketPath: made.socketPath };
        address = `unix:${made.socketPath}`;
      } else {
        target = { host: '127.0.0.1', port: options.port };
        address = `127.0.0.1:${options.port}`;
      }
      const uri = options.port === undefined ? address : `http://${address}`;
      const run = await loadExeca();
      await deadline.step('spawn', { uri });
      const tail = new OutputTail();
      const spawned = spawnWrapper(run, options, address);
      tail.follow(spawned.stderr);
      const exitInfo = exitInfoOf(spawned, tail);
      exited = exitInfo;
      let stopping: Promise<ExitInfo> | undefined;
      // The socket watch, once the server is up (unix sockets only); a stop ends it first.
      let unwatch = (): void => {};
      stop = (reason) =>
        (stopping ??= (async () => {
          unwatch();
          // A stopped process cannot act on SIGINT: a failed start kills it; a graceful stop continues it.
          if (reason === 'failed start' && isStopped(spawned.pid)) spawned.kill('SIGKILL');
          else {
            spawned.kill('SIGINT');
            spawned.kill('SIGCONT');
          }
          const exit = await exitWithin(spawned, exitInfo, options.stopTimeoutMs);
          if (socketDir !== undefined) await removeSocketDir(socketDir);
          return exit;
        })());
      await deadline.step('first-line', spawned.pid === undefined ? { uri } : { pid: spawned.pid, uri });
      await deadline.race(firstLine(spawned, exitInfo, dbPath, address));
      spawned.stdout.resume();
      await deadline.step('ready', { pid: spawned.pid!, uri });
      await waitUntilReady(target, exitInfo, { signal: deadline.signal, startTimeoutMs: options.startTimeoutMs, startedAt: deadline.at - options.startTimeoutMs });
      // Only once it is up: while starting, nothing else may be keeping Node alive.
      unrefProcess(spawned);
      const graceful = stop;
      if (socketDir !== undefined && 'socketPath' in target) unwatch = watchSocket(socketDir, target.socketPath, exitInfo, tail, () => void graceful('graceful'));
      return {
        uri,
        pid: spawned.pid!,
        exited: exitInfo,
        stop: () => graceful('graceful'),
      };
    } catch (error) {
      if (stop !== undefined) await stop('failed start');
      else if (socketDir !== undefined) await removeSocketDir(socketDir);
      if (exited === undefined) throw deadline.passed(error) ? new ServerStartError(dbPath, (error as Error).message) : error;
      throw await startFailure(error, dbPath, exited);
    } finally {
      deadline.dispose();
    }
  },
};

function spawnWrapper(run: typeof execa, options: EngineStartOptions, address: string) {
  const { python } = options.installation;
  // findMilvusLite always sets it for this engine; a hand-made Installation may not.
  if (python === undefined) throw new TypeError(`the python engine needs installation.python (milvus-lite ${options.installation.version} at ${options.installation.binary})`);
  return run(python, ['-c', kPythonWrapperBootstrap, options.dbPath, address], {
    cwd: dirname(options.dbPath),
    env: { ...options.env, PYTHONUNBUFFERED: '1', [kPythonWrapperEnv]: kPythonWrapper },
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
  });
}

/** Resolves on the wrapper's `{"address": …}` line; rejects with a clear error when it exits first. */
function firstLine(child: ReturnType<typeof spawnWrapper>, exited: Promise<ExitInfo>, dbPath: string, address: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      let reported: unknown;
      try {
        reported = (JSON.parse(line) as { address?: unknown }).address;
      } catch {
        // Reported below.
      }
      if (reported === address) resolve();
      else reject(new ServerStartError(dbPath, `printed an unexpected first line: ${line}`));
    });
    void exited.then((exit) => {
      if (exit.code === 3) reject(new KeyLockedError(dbPath, 'another milvus-lite 3.x server has its data directory open (DataDirLockedError)'));
      else if (exit.code === 4 && address.startsWith('unix:')) {
        reject(new ServerStartError(dbPath, `could not listen on ${address}: its socket directory is gone or cannot be written (a tmp cleaner?); set TMPDIR to a writable directory and start again`, exit));
      } else if (exit.code === 4) {
        reject(new ServerStartError(dbPath, `could not listen on ${address}, which is in use; choose another port, or leave port unset to serve on a private unix socket (a port is never shared: not with any other program, nor with another leasehold server)`, exit));
      } else reject(new ServerStartError(dbPath, 'exited while starting', exit));
    });
  });
}
