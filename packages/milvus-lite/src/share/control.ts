import { readdir, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { normalizePathKey } from '@leasehold/pool';
import { kProtocolVersion, readMessages, readToken, send, type ClientMessage, type StatusInfo, type SupervisorMessage } from './protocol.js';
import { checkRendezvousDir, keyOfStats, rendezvousDir, rendezvousPaths } from '../server/rendezvous.js';

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

/**
 * Stops the shared server of `dbPath` for everyone (`leasehold-milvus stop <db>`): every attached
 * lease is revoked. Resolves false when nobody serves it. Never creates the database.
 */
export async function stopSharedServer(dbPath: string, dir: string = rendezvousDir()): Promise<boolean> {
  const path = await normalizePathKey(dbPath);
  const stats = await stat(path).catch(() => undefined);
  if (stats === undefined) return false;
  await checkRendezvousDir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  const { socket } = rendezvousPaths(dir, keyOfStats(stats));
  const reply = await request(socket, { op: 'stop', version: kProtocolVersion, pid: process.pid }, 60_000);
  return reply?.op === 'stopped';
}
