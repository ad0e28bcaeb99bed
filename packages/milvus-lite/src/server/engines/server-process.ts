import { existsSync, watch, type FSWatcher } from 'node:fs';
import type { ExitInfo } from '../../engine.js';
import { ServerStartError } from '../../errors.js';
import type { OutputTail } from '../output-tail.js';
import { makeSocketDir, removeSocketDir } from '../socket-dir.js';
import type { StartDeadline } from './ready.js';

/** What both engines need of an execa child: its result, a way to kill it, and handles to unref. */
interface ServerChild extends PromiseLike<{ exitCode?: number | undefined; signal?: string | undefined; failed: boolean; shortMessage?: string | undefined; output?: string }> {
  kill(signal: 'SIGKILL'): unknown;
  ref(): void;
  unref(): void;
  readonly stdin?: unknown;
  readonly stdout?: unknown;
  readonly stderr?: unknown;
}

/**
 * Settles once with how the server ended: exit code, signal, and the tail of its output (kept by
 * the spawner thread, `result.output`, or followed here in `tail`), then any notes of ours in `tail`.
 */
export function exitInfoOf(child: ServerChild, tail: OutputTail): Promise<ExitInfo> {
  return Promise.resolve(child).then((result) => ({
    code: result.exitCode ?? null,
    signal: result.signal ?? null,
    // With no output at all (e.g. the binary could not be spawned), execa's own message says why.
    stderrTail: `${result.output ?? ''}${tail.toString()}` || (result.failed && result.exitCode === undefined ? (result.shortMessage ?? '') : ''),
  }));
}

/**
 * After a graceful stop was asked for: waits for the exit, SIGKILLing the server after `timeoutMs`.
 * The process is ref'd again meanwhile, so an awaited stop keeps Node alive until the exit arrives:
 * otherwise, once the SIGKILL timer has fired, nothing would, and a script awaiting `stop()` would
 * end there, the rest of it never run.
 */
export async function exitWithin(child: ServerChild, exited: Promise<ExitInfo>, timeoutMs: number): Promise<ExitInfo> {
  child.ref();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = await exited;
  clearTimeout(timer);
  return exit;
}

/** A start that failed readiness becomes a ServerStartError with the exit info; others pass as they are. */
export async function startFailure(error: unknown, dbPath: string, exited: Promise<ExitInfo>): Promise<unknown> {
  return error instanceof Error && error.name === 'ReadyError' ? new ServerStartError(dbPath, error.message, await exited) : error;
}

/**
 * A running server does not keep Node alive by itself, as with Python's ServerManager: a script
 * that is done exits, and its servers stop gracefully on their own (their lock or stdin goes).
 */
export function unrefProcess(child: ServerChild): void {
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as { unref?: () => void } | null | undefined)?.unref?.();
}

/**
 * The start's private socket directory (socket-dir.ts), within the deadline. A directory that
 * cannot be made is a ServerStartError naming the file system's error (its `cause`) and what to
 * do; a start given up meanwhile rejects with its own reason, and the directory, once made, is removed.
 * `sweep: false`: the caller sweeps the temp dir of dead owners' directories (see `makeSocketDir`).
 */
export async function makeServerSocketDir(dbPath: string, socketName: string, deadline: StartDeadline, options: { readonly sweep?: boolean } = {}): Promise<{ dir: string; socketPath: string }> {
  const making = makeSocketDir(socketName, options);
  try {
    return await deadline.race(making);
  } catch (error) {
    // Given up while it was being made: the directory made later is removed at once.
    void making.then((made) => removeSocketDir(made.dir), () => {});
    if (deadline.signal.aborted) throw error;
    throw new ServerStartError(dbPath, `was not started: no socket directory could be made (${(error as Error).message}); set TMPDIR to a writable directory`, undefined, { cause: error });
  }
}

/**
 * A server whose socket was deleted can no longer be reached; it is stopped, so its leases learn it
 * is lost (through `exited`) and the next acquire starts a reachable one. Returns the function that
 * ends the watch, which a stop calls first (a server removes its own socket as it shuts down).
 */
export function watchSocket(socketDir: string, socketPath: string, exited: Promise<ExitInfo>, tail: OutputTail, stop: () => void): () => void {
  let watcher: FSWatcher;
  try {
    watcher = watch(socketDir, { persistent: false }, () => {
      if (existsSync(socketPath)) return;
      watcher.close();
      tail.push(`leasehold: the socket ${socketPath} was deleted; the server was stopped\n`);
      stop();
    });
  } catch {
    return () => {}; // No inotify watches left: the server still works, only this safeguard is off.
  }
  watcher.on('error', () => watcher.close());
  void exited.then(() => watcher.close());
  return () => watcher.close();
}
