import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { KeyLockedError } from '@leasehold/pool';
import type { Installation } from '../engine.js';
import { checkNativeDatabase } from '../server/database-path.js';
import { builtFile } from '../server/package-root.js';
import { assertPermitted } from '../server/permission.js';
import { InvalidDatabaseError, MilvusLiteError, ServerStartError } from '../errors.js';
import { findMilvusLite } from '../install/find-milvus-lite.js';
import type { MilvusLiteServerOptions } from '../target/milvus-lite-server.js';
import { kProtocolVersion, readMessages, readToken, send, type ClientMessage, type SupervisorMessage, type WireError } from './protocol.js';
import { databaseKey, ensureRendezvousDir, rendezvousDir, rendezvousPaths } from '../server/rendezvous.js';
import { SharedServer } from './shared-server.js';
import { kStartFailedMarker, kSupervisorExit, type SupervisorConfig } from './supervisor.js';

export interface AttachOptions extends MilvusLiteServerOptions {
  /** How long the shared server should outlive this process's last lease (the supervisor takes the longest asked). */
  readonly idleTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The supervisor's entry: tsc's build of supervisor-main.ts (not bundled; from the sources, in the tests, too). */
function supervisorScript(): string {
  return builtFile('share/supervisor-main.js');
}

/** A supervisor's wire error as the typed error a caller of a local start would get. */
export function errorFromWire(dbPath: string, wire: WireError): Error {
  let error: Error;
  if (wire.name === 'KeyLockedError') error = new KeyLockedError(dbPath);
  else if (wire.name === 'ServerStartError') error = new ServerStartError(dbPath, '', wire.exit);
  else if (wire.name === 'InvalidDatabaseError') error = new InvalidDatabaseError(dbPath, '', '');
  else error = new MilvusLiteError('');
  error.message = wire.message;
  return error;
}

type Outcome = { readonly kind: 'ready'; readonly server: SharedServer } | { readonly kind: 'absent' } | { readonly kind: 'retry' };

/** One attempt: connect to the socket, say hello, wait for `ready`. */
function tryAttach(socketPath: string, tokenPath: string, dbPath: string, hello: Omit<ClientMessage & { op: 'hello' }, 'token'>, signal: AbortSignal | undefined): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    const socket: Socket = connect(socketPath);
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => settle(() => {
      socket.destroy();
      reject(signal!.reason);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      settle(() => {
        if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve({ kind: 'absent' });
        else if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve({ kind: 'retry' });
        else reject(new MilvusLiteError(`cannot reach the shared server of ${dbPath} at ${socketPath}: ${error.message}`, { cause: error }));
      });
    });
    socket.once('close', () => settle(() => resolve({ kind: 'retry' })));
    // Read once connected: a supervisor writes its token before it listens.
    socket.once('connect', () => send(socket, { ...hello, token: readToken(tokenPath) ?? '' }));
    readMessages<SupervisorMessage>(socket, (message) => {
      if (settled) {
        if (message.op === 'bye') server?.setReason(message.reason, message.requested === true);
        return;
      }
      // Stopped on purpose while this process waited for it: that stop is the answer, not a cue to
      // start another server (any other bye before ready, a crash say, is retried).
      if (message.op === 'bye' && message.requested === true) {
        socket.destroy();
        settle(() => reject(new MilvusLiteError(`the shared server of ${dbPath} was stopped while this process waited for it (${message.reason}); open it again to start a new one`)));
        return;
      }
      if (message.op === 'ready') {
        server = new SharedServer(socket, message);
        socket.unref();
        settle(() => resolve({ kind: 'ready', server: server! }));
      } else if (message.op === 'error') {
        socket.destroy();
        settle(() => {
          if (message.code === 'stopping') resolve({ kind: 'retry' });
          else if (message.code === 'start-failed') reject(errorFromWire(dbPath, message.error));
          else reject(new MilvusLiteError(`the shared server of ${dbPath} refused this process: ${message.error.message}; stop it with \`leasehold-milvus stop ${dbPath}\``));
        });
      }
    });
    let server: SharedServer | undefined;
  });
}

/** The last start failure a supervisor logged, for a spawner that was not connected when it failed. */
function loggedStartFailure(logPath: string, dbPath: string): Error | undefined {
  try {
    const lines = readFileSync(logPath, 'utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const at = lines[i]!.indexOf(kStartFailedMarker);
      if (at >= 0) return errorFromWire(dbPath, JSON.parse(lines[i]!.slice(at + kStartFailedMarker.length)) as WireError);
    }
  } catch {
    // No log: the generic error below.
  }
  return undefined;
}

/**
 * Attaches this process to the shared server of `dbPath` (absolute, normalized), spawning its
 * supervisor when nobody serves it. Concurrent first opens spawn several candidates; one wins the
 * election lock, the others leave. Resolves once the server answers; rejects with the start's own
 * error (KeyLockedError, ServerStartError with exit code and stderr tail, …) when it failed.
 */
export async function attachShared(dbPath: string, options: AttachOptions = {}): Promise<SharedServer> {
  const installation: Installation = options.installation ?? (await findMilvusLite(options));
  if (installation.engine === 'native') await checkNativeDatabase(dbPath);
  // The supervisor is a child process: refused by Node's permission model, it would be respawned until the deadline.
  assertPermitted(dbPath, ['child']);
  const dir = await ensureRendezvousDir(rendezvousDir());
  const key = await databaseKey(dbPath, installation.engine === 'native' ? 'file' : 'directory');
  const paths = rendezvousPaths(dir, key);
  const idle = options.idleTimeoutMs ?? 0;
  const hello = { op: 'hello' as const, version: kProtocolVersion, pid: process.pid, idleTimeoutMs: Number.isFinite(idle) ? idle : null };
  const waitMs = (options.startTimeoutMs ?? 60_000) + (options.stopTimeoutMs ?? 10_000) + 10_000;
  const deadline = performance.now() + waitMs;
  let spawned: SupervisorState | undefined;
  let delay = 2;
  for (;;) {
    options.signal?.throwIfAborted();
    const outcome = await tryAttach(paths.socket, paths.token, dbPath, hello, options.signal);
    if (outcome.kind === 'ready') return outcome.server;
    // A supervisor that could not even be spawned (execa's error, no exit code) will not be by trying again.
    if (spawned?.done && spawned.spawnError !== undefined) throw new ServerStartError(dbPath, `had no shared server: its supervisor could not be started (${spawned.spawnError})`);
    if (spawned?.done && spawned.exitCode === kSupervisorExit.startFailed) {
      throw loggedStartFailure(paths.log, dbPath) ?? new ServerStartError(dbPath, `did not start; see ${paths.log}`);
    }
    if (outcome.kind === 'absent' && (spawned === undefined || spawned.done)) spawned = spawnSupervisor({ dir, key, dbPath, installation, ...pick(options) }, paths.log);
    if (performance.now() > deadline) throw new ServerStartError(dbPath, `had no shared server after ${waitMs} ms; the supervisor's log is ${paths.log}`);
    await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
    delay = Math.min(delay * 2, 50);
  }
}

function pick(options: AttachOptions): Partial<SupervisorConfig> {
  return {
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    ...(options.stopTimeoutMs === undefined ? {} : { stopTimeoutMs: options.stopTimeoutMs }),
    ...(options.port === undefined ? {} : { port: options.port }),
  };
}

// Detached, in its own session: it must outlive the process that happened to start it. Its
// stdout and stderr are the log file itself, opened here and handed over as a descriptor, as in
// Node's own example of a long-running detached child (child_process, options.detached). Not
// execa's `{ file }`: that pipes the output through this process and writes the file from here,
// so once this process is gone the supervisor's next log line meets a dead socket and kills it
// before it stops its server.
interface SupervisorState {
  exitCode: number | undefined;
  /** Set when it could not be spawned at all (execa's short message). */
  spawnError: string | undefined;
  done: boolean;
}

function spawnSupervisor(config: SupervisorConfig, logPath: string): SupervisorState {
  const state: SupervisorState = { exitCode: undefined, spawnError: undefined, done: false };
  // execa passes a descriptor number (not in an array) to spawn as it is (its "file descriptor"
  // stdio value); its types name only 1 and 2 for stdout and stderr.
  const log = openSync(logPath, 'a', 0o600) as 1;
  const spawn = () =>
    execa(process.execPath, [supervisorScript(), JSON.stringify(config)], {
      cwd: config.dir,
      detached: true,
      cleanup: false,
      stdin: 'ignore',
      stdout: log,
      stderr: log,
      reject: false,
      buffer: false,
    });
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn();
  } finally {
    // The child holds its own copy of the descriptor once spawned (execa spawns synchronously).
    closeSync(log);
  }
  child.unref();
  void child.then((result) => {
    state.exitCode = result.exitCode;
    if (result.failed && result.exitCode === undefined && result.signal === undefined) state.spawnError = result.shortMessage;
    state.done = true;
  });
  return state;
}
