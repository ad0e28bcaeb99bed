import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeExit, DiskFullError, MilvusCallError, UnsupportedMethodError } from '../errors.js';
import { RequestShapes } from './request-shapes.js';
import { servedAt, type ServedServer } from '../server/served-servers.js';

/**
 * The grpc-js shapes this module touches, typed structurally so it loads without grpc-js (both the
 * SDK 3.x's grpc-js 1.14 and the SDK 2.5's 1.7 have them).
 */
export interface CallProperties {
  argument?: unknown;
  channel: GrpcChannel;
  callback?: (error: Error | null, value?: unknown) => void;
  methodDefinition: { path: string; requestSerialize: (value: unknown) => Buffer; responseDeserialize: (bytes: Buffer) => unknown; [key: string]: unknown };
  [key: string]: unknown;
}
export type CallInvocationTransformer = (properties: CallProperties) => CallProperties;
interface GrpcStatus {
  code: number;
  details: string;
  metadata: unknown;
}
interface Listener {
  onReceiveStatus(status: GrpcStatus): void;
}
interface GrpcCall {
  start(metadata: unknown, listener: Listener): void;
}
interface GrpcChannel {
  createCall(...args: unknown[]): GrpcCall;
}

// grpc status codes (grpc-js `status`).
const kOk = 0;
const kUnknown = 2;
const kInvalidArgument = 3;
const kUnimplemented = 12;
const kUnavailable = 14;
// Codes the SDK's retry interceptor never retries (its isInIgnoreRetryCodes), so they need no hiding.
const kNeverRetried = new Set([0, 3, 4, 6, 7, 8, 12, 16]);

/**
 * Calls that the SDK may still retry on a failure: they read, or doing them twice leaves the same
 * state (load, release, flush, compaction's state). Every other call (insert, upsert, delete, create,
 * drop, alter, rename, import, …) is not retried on any failure: a failed status does not say
 * whether the server applied it, and milvus-lite keeps a failed insert's rows in memory.
 */
const kRetrySafe = /^(?:Describe|Has|Show|Get|List|Select|Check|Query|Search|HybridSearch|Connect|ClientHeartbeat|Load|Release|Flush|RunAnalyzer|Dummy)/;
/** RPCs whose absence the SDK handles itself (Connect: no identifier; the others: a fallback or a backoff). */
const kSdkFallbacks = new Set(['Connect', 'ClientHeartbeat', 'AlterCollectionSchema']);
/** Calls that write rows: a success answer is checked against the server's log. */
const kRowWrites = new Set(['Insert', 'Upsert', 'Delete']);
// A write that failed with at most this much room left (bytes), plus twice its request, was the disk filling.
const kDiskSlack = 4 * 1024 * 1024;
// Failures inside the server (UNKNOWN, INTERNAL, DATA_LOSS): after one, its memory may not match its file.
const kServerFaults = new Set([2, 13, 15]);
// How long a call that lost its connection waits to learn whether the server died of it.
const kExitWaitMs = 1000;

export const methodOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
export const isRetrySafe = (method: string): boolean => kRetrySafe.test(method);

/** Free bytes of the file system that holds `dbPath`, or undefined if it cannot be asked. */
function freeBytes(dbPath: string): number | undefined {
  try {
    const { bavail, bsize } = statfsSync(dirname(dbPath));
    return Number(bavail) * Number(bsize);
  } catch {
    return undefined;
  }
}

function statusOf(value: unknown): { code?: unknown; error_code?: unknown; reason?: unknown } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const status = 'status' in value ? (value as { status?: unknown }).status : value;
  return typeof status === 'object' && status !== null && ('code' in status || 'error_code' in status) ? (status as { code?: unknown }) : undefined;
}
const failed = (status: { code?: unknown; error_code?: unknown }): boolean =>
  (typeof status.code === 'number' && status.code !== 0) || (status.error_code !== undefined && status.error_code !== 'Success' && status.error_code !== 0 && status.error_code !== '');

/** A channel whose calls pass each final status through `hook` before any interceptor sees it. */
function hookedChannel(channel: GrpcChannel, hook: (status: GrpcStatus) => GrpcStatus): GrpcChannel {
  return new Proxy(channel, {
    get(target, property) {
      if (property === 'createCall') {
        return (...args: unknown[]) => {
          const call = target.createCall(...args);
          return new Proxy(call, {
            get(inner, name) {
              if (name === 'start') {
                return (metadata: unknown, listener: Listener) =>
                  inner.start(metadata, new Proxy(listener, {
                    get(l, key) {
                      if (key === 'onReceiveStatus') return (status: GrpcStatus) => l.onReceiveStatus(hook(status));
                      const value: unknown = Reflect.get(l, key, l);
                      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(l) : value;
                    },
                  }));
              }
              const value: unknown = Reflect.get(inner, name, inner);
              return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(inner) : value;
            },
          });
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A channel whose one call is never sent: it ends at once with `details` (a status the SDK does not retry). */
function refusedChannel(channel: GrpcChannel, details: string): GrpcChannel {
  return new Proxy(channel, {
    get(target, property) {
      if (property === 'createCall') {
        return (): GrpcCall & Record<string, unknown> => ({
          start: (metadata, listener) => setImmediate(() => listener.onReceiveStatus({ code: kInvalidArgument, details, metadata })),
          sendMessageWithContext: (context: { callback?: () => void }) => context.callback?.(),
          startRead: () => {},
          halfClose: () => {},
          cancelWithStatus: () => {},
          getPeer: () => 'leasehold (not sent)',
          getCallNumber: () => 0,
          setCredentials: () => {},
          getAuthContext: () => null,
        });
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * The call policy of every client leasehold configures, as a grpc-js `callInvocationTransformer`:
 * it wraps the channel (below the SDK's retry interceptor, which turns UNIMPLEMENTED into `{}` and
 * retries UNKNOWN) and the callback (above it), so it sees both the server's real status and what
 * the caller gets.
 * - Every server: a call that is not retry-safe is never retried, whatever its failure; it fails
 *   with a `MilvusCallError` carrying the server's status.
 * - milvus-lite (`lite(uri)` true): an unimplemented RPC fails with an `UnsupportedMethodError`; a
 *   request shape that crashes the server is refused (`RefusedRequestError`, not sent); and for a
 *   server this process runs, a failed status's `reason` gets the server's own ERROR lines, an
 *   insert, upsert or delete that the server answered with success but logged as failed (a file it
 *   cannot write) fails, a failed write on a nearly full disk is a `DiskFullError` naming the
 *   database, and a call during which the server died says so. After a failed write the server
 *   is stopped and its leases revoked with that error: its memory may hold rows its file does not,
 *   so the next open serves what the file holds.
 */
export function callGuard(uri: string, lite: () => boolean): CallInvocationTransformer {
  const shapes = new RequestShapes();
  return (properties) => {
    const { path } = properties.methodDefinition;
    const method = methodOf(path);
    const isLite = lite();
    const served = isLite ? servedAt(uri) : undefined;
    let refusal: Error | undefined;
    if (isLite && served?.engine !== 'python') {
      try {
        shapes.check(method, properties.argument);
      } catch (error) {
        refusal = error as Error;
      }
    }
    const retrySafe = isRetrySafe(method);
    let held: GrpcStatus | undefined;
    const hook = (status: GrpcStatus): GrpcStatus => {
      if (status.code === kOk) return status;
      if ((isLite && status.code === kUnimplemented && !kSdkFallbacks.has(method)) || (!retrySafe && !kNeverRetried.has(status.code))) {
        held = { ...status };
        return { ...status, code: kInvalidArgument };
      }
      return status;
    };
    const mark = served?.errorLog?.mark() ?? 0;
    let requestBytes = 0;
    let sent: unknown = properties.argument;
    const definition = properties.methodDefinition;
    const serialize = definition.requestSerialize;
    const next: CallProperties = {
      ...properties,
      channel: refusal === undefined ? hookedChannel(properties.channel, hook) : refusedChannel(properties.channel, refusal.message),
      methodDefinition: {
        ...definition,
        requestSerialize: (value: unknown) => {
          sent = value;
          const bytes = serialize(value);
          requestBytes = bytes.length;
          return bytes;
        },
      },
    };
    const callback = properties.callback;
    if (callback !== undefined) {
      next.callback = (error, value) => {
        if (refusal !== undefined) return callback(refusal);
        if (held !== undefined) {
          const heldFailure = heldError(method, held, served, mark, requestBytes);
          if (served !== undefined && held.code === kUnavailable) return void diedDuring(method, heldFailure, served, sent).then(callback, callback);
          return callback(heldFailure);
        }
        if (error !== null) {
          if (served !== undefined && (error as { code?: unknown }).code === kUnavailable) return void diedDuring(method, error, served, sent).then(callback, callback);
          return callback(error);
        }
        if (served !== undefined) {
          const lines = served.errorLog?.since(mark, method) ?? [];
          const status = statusOf(value);
          if (lines.length > 0 && status !== undefined) {
            if (failed(status)) status.reason = `${String(status.reason ?? '')}${status.reason ? ' ' : ''}(server log: ${lines.join('; ')})`;
            else if (kRowWrites.has(method) && lines.some((line) => / failed/i.test(line))) {
              const lost = new MilvusCallError(method, `milvus-lite answered success, but its log says the write failed, so it was not kept; the server was restarted so that no reader sees rows its file does not hold`, { code: kUnknown, dbPath: served.dbPath, serverLog: lines });
              served.lose(lost);
              return callback(lost);
            }
          }
        }
        if (isLite && method === 'DescribeCollection') shapes.remember(properties.argument, value);
        return callback(null, value);
      };
    }
    return next;
  };
}

const kCodeNames: Readonly<Record<number, string>> = { 1: 'CANCELLED', 2: 'UNKNOWN', 4: 'DEADLINE_EXCEEDED', 5: 'NOT_FOUND', 9: 'FAILED_PRECONDITION', 10: 'ABORTED', 11: 'OUT_OF_RANGE', 13: 'INTERNAL', 14: 'UNAVAILABLE', 15: 'DATA_LOSS' };

/** The error of a call whose failed status was kept from the SDK's retries (or its `{}`). */
function heldError(method: string, status: GrpcStatus, served: ServedServer | undefined, mark: number, requestBytes: number): Error {
  const facts = { code: status.code, details: status.details, dbPath: served?.dbPath, serverLog: served?.errorLog?.since(mark, method) ?? [] };
  if (status.code === kUnimplemented) {
    return new UnsupportedMethodError(method, `milvus-lite does not implement ${method}, so the call did nothing (the SDK alone would answer {} as if it had worked); use a Milvus server for it, or do without`, facts);
  }
  const what = `${kCodeNames[status.code] ?? `code ${status.code}`}: ${status.details}`;
  if (served === undefined || !kServerFaults.has(status.code)) return new MilvusCallError(method, `failed (${what}); not retried: ${method} is not idempotent, and the server may have applied it`, facts);
  const free = freeBytes(served.dbPath);
  const error =
    free !== undefined && free < kDiskSlack + 2 * requestBytes
      ? new DiskFullError(method, `the disk is full: the file system of ${served.dbPath} has ${free} bytes free, and milvus-lite failed this write (${what}). Free some space, or move the database to a disk with room; the server was restarted, so what it holds is what its file holds`, facts)
      : new MilvusCallError(method, `failed inside milvus-lite (${what}); not retried (a retry would write again). The server was restarted, so what it holds is what its file holds`, facts);
  served.lose(error);
  return error;
}

/** A call that lost its connection: if the server died meanwhile, the error says so, with the request. */
async function diedDuring(method: string, error: Error, served: ServedServer, argument: unknown): Promise<Error> {
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([served.exited, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), kExitWaitMs)))]);
  clearTimeout(timer);
  if (exit === undefined) return error;
  const collection = (argument as { collection_name?: unknown } | null)?.collection_name;
  return new MilvusCallError(
    method,
    `milvus-lite died (${describeExit(exit)}) while handling this ${method}${collection === undefined ? '' : ` on collection ${String(collection)}`}; the request was ${describeRequest(argument)}. Its leases were revoked; the next open starts it again${exit.stderrTail.trim() ? `\n--- server output (tail) ---\n${exit.stderrTail.trim()}` : ''}`,
    { code: kUnavailable, details: (error as { details?: string }).details ?? error.message, dbPath: served.dbPath },
    { cause: error },
  );
}

/** A short account of a request: its fields and, for a write, each column's type, count and validity. */
function describeRequest(argument: unknown): string {
  const text = JSON.stringify(argument, (key, value: unknown) => {
    if (key === 'vectors' || key === 'json_data' || key === 'placeholder_group') return '…';
    if (Array.isArray(value) && value.length > 8) return [...value.slice(0, 8), `…${value.length - 8} more`];
    return value;
  });
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}
