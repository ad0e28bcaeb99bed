import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { ExitInfo } from '../engine.js';

/**
 * The wire protocol between a client process and a database's supervisor: one JSON object per
 * line over a unix socket. A client sends `hello` first; the supervisor answers `ready` (or
 * `error`) once its server answers. After that the open connection *is* the client process's
 * lease: nothing more is sent until one side closes it, and the supervisor counts the client out
 * when the kernel closes the connection, SIGKILL included. `bye` tells a client why its lease ends.
 * `status` and `stop` are one-shot requests (the CLI's), answered, then the connection is closed.
 * Every message carries `token`, the content of the supervisor's `<key>.token` file: the rendezvous
 * directory is 0700, and the token (0600) proves the client is this user's.
 */
export const kProtocolVersion = 2;

export type ClientMessage =
  | {
      readonly op: 'hello';
      readonly version: number;
      readonly pid: number;
      /** null: never (Infinity, which JSON cannot carry). */
      readonly idleTimeoutMs: number | null;
      readonly token: string;
    }
  | { readonly op: 'status'; readonly version: number; readonly pid: number; readonly token: string }
  | { readonly op: 'stop'; readonly version: number; readonly pid: number; readonly token: string };

export interface ServerInfo {
  readonly dbPath: string;
  readonly uri: string;
  readonly engine: string;
  readonly serverPid: number;
  readonly supervisorPid: number;
}

export interface StatusInfo extends ServerInfo {
  readonly state: string;
  /** Pids of the attached client processes, as they announced themselves. */
  readonly clients: readonly number[];
  /** Milliseconds since the last client left, or null while one is attached. */
  readonly idleMs: number | null;
  /** The idle timeout in force: the longest any attached process asked for (null: never). */
  readonly idleTimeoutMs: number | null;
}

export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly exit?: ExitInfo;
}

export type SupervisorMessage =
  | ({ readonly op: 'ready'; readonly version: number } & ServerInfo)
  | { readonly op: 'error'; readonly version: number; readonly code: 'start-failed' | 'stopping' | 'version' | 'refused'; readonly error: WireError }
  | { readonly op: 'status'; readonly version: number; readonly status: StatusInfo }
  | { readonly op: 'stopped'; readonly version: number }
  /** `requested`: stopped by a `stop` request (`leasehold-milvus stop`, `stopSharedServer`), not by a failure. */
  | { readonly op: 'bye'; readonly version: number; readonly reason: string; readonly requested?: boolean };

/** Calls `onMessage` for each line that arrives on `socket`. Malformed lines end the connection. */
export function readMessages<T>(socket: Socket, onMessage: (message: T) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      let message: T;
      try {
        message = JSON.parse(line) as T;
      } catch {
        socket.destroy();
        return;
      }
      onMessage(message);
    }
    if (buffered.length > 1 << 20) socket.destroy();
  });
}

export function send(socket: Socket, message: ClientMessage | SupervisorMessage): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
}

/** The token a client presents to the supervisor of `tokenPath` (see `ClientMessage`); undefined when there is none yet. */
export function readToken(tokenPath: string): string | undefined {
  try {
    return readFileSync(tokenPath, 'utf8');
  } catch {
    return undefined;
  }
}
