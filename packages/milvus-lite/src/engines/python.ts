import { lstat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { KeyLockedError } from '@leasehold/pool';
import type { Engine, EngineProcess, EngineStartOptions, ExitInfo } from '../engine.js';
import { checkWritableDir } from '../database-path.js';
import { InvalidDatabaseError, ServerStartError } from '../errors.js';
import { OutputTail } from '../output-tail.js';
import { waitUntilReady } from './ready.js';
import { exitInfoOf, exitWithin, startFailure, unrefProcess } from './server-process.js';

/**
 * Runs milvus-lite ≥ 3.0's gRPC server in a small wrapper. It binds 127.0.0.1 only, on a port the
 * kernel picks (port 0: the bind itself chooses a free port, so there is no race to retry) or the
 * one asked for, and prints it. It shuts the server down
 * gracefully on SIGINT or when its stdin closes: the owning Node process dying, even by SIGKILL,
 * closes that pipe, so the server never outlives its owner. On Linux it also asks for SIGKILL at
 * parent death. Exit code 3 means the data directory is locked by another process.
 */
const kWrapper = String.raw`
import json, os, signal, sys, threading
try:
    import ctypes
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)
except Exception:
    pass
stop = threading.Event()
def on_signal(*_):
    stop.set()
signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)
def watch_stdin():
    sys.stdin.buffer.read()
    stop.set()
threading.Thread(target=watch_stdin, daemon=True).start()
try:
    from milvus_lite.adapter.grpc.server import start_server_in_thread
    server, db, port = start_server_in_thread(sys.argv[1], host="127.0.0.1", port=int(sys.argv[2]))
except Exception as e:
    sys.stderr.write("%s: %s\n" % (type(e).__name__, e)); sys.stderr.flush()
    busy = "bind" in str(e).lower() or "address already in use" in str(e).lower()
    os._exit(3 if type(e).__name__ == "DataDirLockedError" else 4 if busy else 1)
sys.stdout.write(json.dumps({"port": port}) + "\n"); sys.stdout.flush()
while not stop.wait(3600):
    pass
server.stop(grace=2).wait()
db.close()
`;

async function checkDataDir(dbPath: string): Promise<void> {
  const stats = await lstat(dbPath).catch(() => undefined);
  if (stats !== undefined && !stats.isDirectory()) {
    throw new InvalidDatabaseError(dbPath, 'it is a file, but milvus-lite 3.x keeps a database in a directory', 'pass a directory path (it is created if missing), or use the native engine (milvus-lite 2.5) for .db files');
  }
  await checkWritableDir(dbPath, stats === undefined ? dirname(dbPath) : dbPath);
}

/** milvus-lite ≥ 3.0, the pure-Python server, on 127.0.0.1 and a kernel-chosen port. */
export const pythonEngine: Engine = {
  name: 'python',
  async start(options: EngineStartOptions): Promise<EngineProcess> {
    const { installation, dbPath } = options;
    await checkDataDir(dbPath);
    options.signal?.throwIfAborted();
    const tail = new OutputTail();
    const requestedPort = options.port ?? 0;
    const child = execa(installation.python, ['-c', kWrapper, dbPath, String(requestedPort)], {
      cwd: dirname(dbPath),
      env: { ...options.env, PYTHONUNBUFFERED: '1' },
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
    });
    tail.follow(child.stderr);
    const exited = exitInfoOf(child, tail);
    let stopping: Promise<ExitInfo> | undefined;
    const stop = (timeoutMs: number): Promise<ExitInfo> =>
      (stopping ??= (async () => {
        child.kill('SIGINT');
        return exitWithin(child, exited, timeoutMs);
      })());
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout });
        lines.once('line', (line) => {
          try {
            resolve((JSON.parse(line) as { port: number }).port);
          } catch {
            reject(new ServerStartError(dbPath, `printed an unexpected first line: ${line}`));
          }
        });
        void exited.then(async (exit) => {
          if (exit.code === 3) reject(new KeyLockedError(dbPath, 'another milvus-lite 3.x server has its data directory open (DataDirLockedError)'));
          else if (exit.code === 4) reject(new ServerStartError(dbPath, `could not listen on 127.0.0.1:${requestedPort}, which is in use; choose another port, or leave port unset and a free one is picked`, exit));
          else reject(new ServerStartError(dbPath, 'exited while starting', exit));
        });
        const onAbort = (): void => reject(options.signal!.reason);
        options.signal?.addEventListener('abort', onAbort, { once: true });
      });
      child.stdout.resume();
      await waitUntilReady({ host: '127.0.0.1', port }, exited, options);
      // Only once it is up: while starting, nothing else may be keeping Node alive.
      unrefProcess(child);
      return { uri: `http://127.0.0.1:${port}`, pid: child.pid!, exited, stop: () => stop(options.stopTimeoutMs) };
    } catch (error) {
      await stop(options.stopTimeoutMs);
      throw await startFailure(error, dbPath, exited);
    }
  },
};
