import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { normalizePathKey } from '@leasehold/pool';
import { kProtocolVersion, readMessages, readToken, send, type ClientMessage, type StatusInfo, type SupervisorMessage } from './protocol.js';
import { checkRendezvousDir, keyOfStats, rendezvousDir, rendezvousPaths } from '../server/rendezvous.js';
import { LockBusyError, LockFile } from '../server/lock-file.js';
import { MilvusLiteError } from '../errors.js';

/** One request to a supervisor; resolves its first reply, or undefined when nobody answers within `timeoutMs`. */
function request(socketPath: string, message: Omit<ClientMessage, 'token'>, timeoutMs: number): Promise<SupervisorMessage | undefined> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    const done = (reply: SupervisorMessage | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    socket.once('error', () => done(undefined));
    socket.once('close', () => done(undefined));
    // The supervisor's token, beside its socket (see protocol.ts).
    socket.once('connect', () => send(socket, { ...message, token: readToken(socketPath.replace(/\.sock$/, '.token')) ?? '' } as ClientMessage));
    readMessages<SupervisorMessage>(socket, (reply) => done(reply));
  });
}

/**
 * The shared servers of this user (what `leasehold-milvus status` prints): database, supervisor and
 * server pids, attached processes, idle time. A socket nobody answers on is skipped (stale).
 */
export async function listSharedServers(dir: string = rendezvousDir()): Promise<StatusInfo[]> {
  let names: string[];
  try {
    await checkRendezvousDir(dir);
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const replies = await Promise.all(
    names.filter((name) => name.endsWith('.sock')).map((name) => request(join(dir, name), { op: 'status', version: kProtocolVersion, pid: process.pid }, 2000)),
  );
  return replies.flatMap((reply) => (reply?.op === 'status' ? [reply.status] : []));
}


/** Whether a supervisor (starting, serving or stopping) holds the election lock at `lockPath`; who, when it does. */
function electionHolder(lockPath: string): LockBusyError | undefined {
  if (!existsSync(lockPath)) return undefined;
  try {
    LockFile.take(lockPath).release();
    return undefined;
  } catch (error) {
    if (error instanceof LockBusyError) return error;
    throw error;
  }
}

/**
 * Stops the shared server of `dbPath` for everyone (`leasehold-milvus stop <db>`): every attached
 * lease is revoked. Resolves once no supervisor holds the database any more: true when one was
 * stopped or was stopping (its last process had left) and has ended, false when nobody served it.
 * A supervisor still starting is stopped as soon as it answers. Never creates the database.
 * @param dir the rendezvous directory (default `rendezvousDir()`, as LEASEHOLD_SHARE_DIR sets it).
 * @param options.timeoutMs how long to wait for the supervisor to end, in ms (default 60 000).
 * @throws MilvusLiteError when a supervisor still holds the database after `timeoutMs` without
 *   answering (stuck, or stopped by a signal): names its pid, its log and what to do.
 */
export async function stopSharedServer(dbPath: string, dir: string = rendezvousDir(), options: { readonly timeoutMs?: number } = {}): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const path = await normalizePathKey(dbPath);
  const stats = await stat(path).catch(() => undefined);
  if (stats === undefined) return false;
  await checkRendezvousDir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  const { socket, lock, log } = rendezvousPaths(dir, keyOfStats(stats));
  const deadline = Date.now() + timeoutMs;
  let found = false;
  for (;;) {
    const reply = await request(socket, { op: 'stop', version: kProtocolVersion, pid: process.pid }, Math.max(1, deadline - Date.now()));
    if (reply?.op === 'stopped') return true;
    // No answer: nobody serves, or a supervisor holds the election lock while it starts or stops
    // (its socket closed): the database is free only once that one has ended.
    const holder = electionHolder(lock);
    if (holder === undefined) return found;
    found = true;
    if (Date.now() >= deadline) {
      throw new MilvusLiteError(
        `the shared server of ${path} did not stop within ${timeoutMs} ms: ${holder.message}, and its supervisor does not answer on ${socket}. ` +
          `Its log is ${log}; if it is stuck, end it${holder.holderPid === undefined ? '' : ` (kill ${holder.holderPid})`}: its milvus-lite server ends with it.`,
      );
    }
    await sleep(25);
  }
}
