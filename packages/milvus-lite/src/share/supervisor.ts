import { writeFileSync, existsSync, watch, type FSWatcher } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Installation } from '../engine.js';
import { LockBusyError, LockFile } from '../server/lock-file.js';
import { MilvusLiteServer } from '../target/milvus-lite-server.js';
import { kProtocolVersion, readMessages, send, type ClientMessage, type ServerInfo, type StatusInfo, type WireError } from './protocol.js';
import { rendezvousPaths } from '../server/rendezvous.js';

/** What a client passes to the supervisor it spawns (one JSON argument). */
export interface SupervisorConfig {
  readonly dir: string;
  readonly key: string;
  readonly dbPath: string;
  readonly installation: Installation;
  readonly startTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
  readonly port?: number;
  /** How long an elected supervisor waits for a first client's hello before it leaves, never having started its server (ms; 10 000). */
  readonly firstAttachGraceMs?: number;
}

/** Exit codes of the supervisor process, read by the client that spawned it. */
export const kSupervisorExit = { ok: 0, lostElection: 10, startFailed: 11, crashed: 12 } as const;

/** The line a failed start leaves in the log, for a spawner that was not connected yet. */
export const kStartFailedMarker = 'LEASEHOLD_START_FAILED ';

/**
 * Named steps of the supervisor's start and stop. With `LEASEHOLD_TEST_PAUSE_AT=<step>` it stops
 * at that step (once per database: a marker file remembers it), logs `LEASEHOLD_TEST_PAUSED <step>
 * <pid>` and waits to be killed: the failure-matrix tests SIGKILL it there.
 */
export type SupervisorStep = 'spawned' | 'elected' | 'listening' | 'server-started' | 'stopping' | 'server-stopped';

function accepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A line in the log (stderr, the log file); a write that fails (a full disk) is an 'error' event, ignored in runSupervisor. */
function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} [${process.pid}] ${line}\n`);
}

async function pauseAt(step: SupervisorStep, dir: string, key: string): Promise<void> {
  if (process.env['LEASEHOLD_TEST_PAUSE_AT'] !== step) return;
  try {
    writeFileSync(`${dir}/${key}.paused-${step}`, String(process.pid), { flag: 'wx' });
  } catch {
    return; // Already paused here once.
  }
  process.stderr.write(`LEASEHOLD_TEST_PAUSED ${step} ${process.pid}\n`);
  await new Promise(() => setInterval(() => {}, 1 << 30));
}

function wireError(error: unknown): WireError {
  const e = error instanceof Error ? error : new Error(String(error));
  // The pool wraps start failures in a StartError; the client wants the cause's kind.
  const inner = e.name === 'StartError' && e.cause instanceof Error ? e.cause : e;
  const exit = (inner as { exit?: WireError['exit'] }).exit;
  return { name: inner.name, message: inner.message, ...(exit ? { exit } : {}) };
}

/**
 * The supervisor of one shared database: wins the election (an OFD lock on `<key>.lock`), serves the
 * rendezvous socket, runs the milvus-lite server (which takes milvus-lite's own lock) from the first
 * client's hello on (none within `firstAttachGraceMs`: it leaves, the database untouched), counts client connections, and stops everything once no connection is
 * left and the longest idle timeout asked for has passed. It ends its own process.
 */
export async function runSupervisor(config: SupervisorConfig): Promise<never> {
  const { dir, key, dbPath, installation } = config;
  const paths = rendezvousPaths(dir, key);
  // Sockets and files made here are 0600 from the start, never chmod-ed after.
  process.umask(0o077);
  // A failed write to the log (a full disk; a pipe whose reader is gone, should stderr be one) is
  // an 'error' event, not a throw: unhandled, it would end the supervisor before it stops its server.
  process.stderr.on('error', () => {});
  await pauseAt('spawned', dir, key);
  // The election. A holder that serves means this candidate is not needed; a holder that is still
  // starting or stopping (no socket that accepts) is waited for, so spawners need not respawn.
  const electionEnds = Date.now() + (config.startTimeoutMs ?? 60_000) + (config.stopTimeoutMs ?? 10_000);
  let election: LockFile;
  for (;;) {
    try {
      election = LockFile.take(paths.lock);
      break;
    } catch (error) {
      if (!(error instanceof LockBusyError)) {
        log(`cannot take ${paths.lock}: ${(error as Error).message}`);
        process.exit(kSupervisorExit.crashed);
      }
    }
    if (Date.now() > electionEnds || (await accepts(paths.socket))) process.exit(kSupervisorExit.lostElection);
    await sleep(25);
  }
  await pauseAt('elected', dir, key);
  // Holding the election lock proves nobody serves: a socket left here is stale.
  await rm(paths.socket, { force: true });
  // The proof a client is this user's: only this user can read the token file in the 0700 directory.
  const secret = randomBytes(24);
  await writeFile(paths.token, secret.toString('base64url'), { mode: 0o600 });
  const presents = (token: string | undefined): boolean => {
    const given = Buffer.from(token ?? '', 'base64url');
    return given.length === secret.length && timingSafeEqual(given, secret);
  };

  type State = 'starting' | 'ready' | 'stopping';
  let state: State = 'starting';
  const clients = new Map<Socket, number>();
  // Sockets waiting for the server.
  const waiting = new Set<Socket>();
  let idleTimeoutMs: number | null = 0;
  // Until a first client has attached, the spawner (perhaps slow on a loaded machine) gets this long.
  let attachedOnce = false;
  const kFirstAttachGraceMs = config.firstAttachGraceMs ?? 10_000;
  let idleSince: number | null = Date.now();
  // The server starts on the first hello, never before: a candidate elected after everyone it was
  // spawned for has been served and left (or after a stop) never touches the database. (Started
  // at once, such a candidate served a stopped database again for 10 s, under a test's directory
  // being removed.)
  let firstHello!: () => void;
  const helloed = new Promise<void>((resolve) => (firstHello = resolve));
  let idleTimer: NodeJS.Timeout | undefined;
  // Set once the server answers (an object, so the closures above see it).
  const served: { info?: ServerInfo } = {};
  let listener: Server | undefined;
  let watcher: FSWatcher | undefined;

  const want = (ms: number | null): void => {
    if (idleTimeoutMs !== null && (ms === null || ms > idleTimeoutMs)) idleTimeoutMs = ms;
  };
  const armIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = undefined;
    if (state !== 'ready' || clients.size > 0 || idleTimeoutMs === null) return;
    idleTimer = setTimeout(() => void shutdown('idle'), attachedOnce ? idleTimeoutMs : Math.max(idleTimeoutMs, kFirstAttachGraceMs));
  };

  const onConnection = (socket: Socket): void => {
    socket.on('error', () => {});
    socket.on('close', () => {
      waiting.delete(socket);
      if (clients.delete(socket) && clients.size === 0) {
        idleSince = Date.now();
        armIdle();
      }
    });
    const refuse = (message: string): void => {
      send(socket, { op: 'error', version: kProtocolVersion, code: 'refused', error: { name: 'MilvusLiteError', message } });
      socket.end();
    };
    const onMessage = async (message: ClientMessage): Promise<void> => {
      if (message.version !== kProtocolVersion) {
        send(socket, { op: 'error', version: kProtocolVersion, code: 'version', error: { name: 'MilvusLiteError', message: `this shared server speaks protocol ${kProtocolVersion}, the client ${String(message.version)}` } });
        socket.end();
        return;
      }
      if (!presents(message.token)) return refuse(`the connection did not present the token of ${paths.token}, which only the user this server serves can read`);
      if (socket.destroyed) return;
      if (message.op === 'status') {
        send(socket, { op: 'status', version: kProtocolVersion, status: status() });
        socket.end();
      } else if (message.op === 'stop') {
        void shutdown(`stopped by process ${message.pid} (leasehold-milvus stop)`, socket);
      } else if (message.op === 'hello') {
        if (state === 'stopping') {
          send(socket, { op: 'error', version: kProtocolVersion, code: 'stopping', error: { name: 'MilvusLiteError', message: 'the shared server is stopping' } });
          socket.end();
          return;
        }
        want(message.idleTimeoutMs);
        clients.set(socket, message.pid);
        attachedOnce = true;
        firstHello();
        idleSince = null;
        clearTimeout(idleTimer);
        if (state === 'ready') send(socket, { op: 'ready', version: kProtocolVersion, ...served.info! });
        else waiting.add(socket);
      }
    };
    readMessages<ClientMessage>(socket, (message) => void onMessage(message));
  };

  const status = (): StatusInfo => ({
    ...(served.info ?? { dbPath, uri: '', engine: installation.engine, serverPid: 0, supervisorPid: process.pid }),
    state,
    clients: [...clients.values()],
    idleMs: idleSince === null ? null : Date.now() - idleSince,
    idleTimeoutMs,
  });

  const listen = async (): Promise<void> => {
    const server = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(paths.socket, () => resolve());
    });
    server.on('error', (error) => log(`listener: ${error.message}`));
    listener = server;
  };
  // A socket file deleted under a live supervisor (a tmp cleaner, a user) is made again: attached
  // clients keep their connections, new ones find the server again. Safe: the election lock is ours.
  const watchSocket = (): void => {
    const check = (): void => {
      if (state === 'stopping' || existsSync(paths.socket)) return;
      log(`the socket ${paths.socket} was deleted; listening again`);
      listener?.close();
      // Once: a socket that cannot be made again leaves no way in, so the supervisor stops.
      void listen().catch((error: Error) => void shutdown(`cannot listen again on ${paths.socket}: ${error.message}`));
    };
    try {
      // Only the socket's own events: the log, written into the same directory, would wake it on each line.
      watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || name === basename(paths.socket)) check();
      });
      watcher.on('error', () => watcher?.close());
    } catch {
      // No inotify: the periodic check below still repairs it.
    }
    setInterval(check, 1000).unref();
  };

  let server: MilvusLiteServer | undefined;
  let stopped: Promise<never> | undefined;
  const shutdown = (reason: string, requester?: Socket): Promise<never> =>
    (stopped ??= (async () => {
      state = 'stopping';
      clearTimeout(idleTimer);
      log(`stopping: ${reason}`);
      await pauseAt('stopping', dir, key);
      watcher?.close();
      listener?.close();
      for (const socket of [...clients.keys(), ...waiting]) {
        if (socket === requester) continue;
        send(socket, { op: 'bye', version: kProtocolVersion, reason, ...(requester === undefined ? {} : { requested: true }) });
        socket.end();
      }
      const exit = await server?.stop().catch((error: Error) => log(`stopping the server failed: ${error.message}`));
      log(`stopped${exit ? ` (the server ended with ${exit.signal ?? `exit code ${String(exit.code)}`})` : ''}`);
      await pauseAt('server-stopped', dir, key);
      await rm(paths.info, { force: true });
      await rm(paths.token, { force: true });
      if (requester) {
        send(requester, { op: 'stopped', version: kProtocolVersion });
        await new Promise<void>((resolve) => requester.end(resolve));
      }
      process.exit(kSupervisorExit.ok);
    })());

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));

  // The election lock file deleted (a tmp cleaner): made again at once; another supervisor that got
  // in meanwhile serves the database now, so this one stops rather than run a second server.
  election.guard((error) => void shutdown(`another supervisor holds the election lock now: ${error.message}`));
  await listen();
  watchSocket();
  await pauseAt('listening', dir, key);
  let graceTimer: NodeJS.Timeout | undefined;
  const attached = await Promise.race([helloed.then(() => true), new Promise<false>((resolve) => (graceTimer = setTimeout(() => resolve(false), kFirstAttachGraceMs)))]);
  clearTimeout(graceTimer);
  if (!attached) await shutdown(`no process attached within ${kFirstAttachGraceMs} ms (a candidate no longer needed); the server was never started`);
  try {
    server = new MilvusLiteServer(dbPath, {
      installation,
      ...(config.startTimeoutMs === undefined ? {} : { startTimeoutMs: config.startTimeoutMs }),
      ...(config.stopTimeoutMs === undefined ? {} : { stopTimeoutMs: config.stopTimeoutMs }),
      ...(config.port === undefined ? {} : { port: config.port }),
    });
    await server.start();
  } catch (error) {
    const wire = wireError(error);
    log(`${kStartFailedMarker}${JSON.stringify(wire)}`);
    state = 'stopping';
    listener?.close();
    for (const socket of waiting) {
      send(socket, { op: 'error', version: kProtocolVersion, code: 'start-failed', error: wire });
      socket.end();
    }
    await server?.stop().catch(() => {});
    process.exit(kSupervisorExit.startFailed);
  }
  await pauseAt('server-started', dir, key);
  const info: ServerInfo = { dbPath, uri: server.uri, engine: String(server.engine), serverPid: server.pid ?? 0, supervisorPid: process.pid };
  served.info = info;
  // For people (and `leasehold-milvus status`), never for liveness: that is the socket's job.
  await writeFile(paths.info, JSON.stringify({ ...info, startedAt: new Date().toISOString() }));
  void server.exited.then((exit) => {
    if (state !== 'stopping') void shutdown(`the server exited unexpectedly (${exit.signal ?? `exit code ${String(exit.code)}`}): ${exit.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
  });
  state = 'ready';
  log(`serving ${dbPath} at ${info.uri} (server pid ${info.serverPid})`);
  for (const socket of waiting) send(socket, { op: 'ready', version: kProtocolVersion, ...info });
  waiting.clear();
  if (clients.size === 0) idleSince = Date.now();
  armIdle();
  return new Promise<never>(() => setInterval(() => {}, 1 << 30));
}
