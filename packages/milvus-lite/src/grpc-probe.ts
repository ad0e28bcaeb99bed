import { connect, constants } from 'node:http2';
import { connect as netConnect } from 'node:net';

/** Where a gRPC server listens: a unix socket path, or a TCP host and port. */
export type ProbeTarget = { readonly socketPath: string } | { readonly host: string; readonly port: number };

const kMethod = '/milvus.proto.milvus.MilvusService/GetVersion';
// A gRPC message frame: not compressed, length 0 (an empty GetVersionRequest).
const kEmptyMessage = Buffer.alloc(5);

/**
 * Makes one real gRPC call (MilvusService/GetVersion) and resolves whether the server answered it
 * with a gRPC status. Never rejects: a refused connection, a reset, a timeout (`timeoutMs`) or an
 * abort of `signal` is `false`.
 */
export function grpcAnswers(target: ProbeTarget, timeoutMs = 1000, signal?: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (signal?.aborted) {
      resolve(false);
      return;
    }
    const authority = 'socketPath' in target ? 'http://localhost' : `http://${target.host}:${target.port}`;
    const session = connect(authority, 'socketPath' in target ? { createConnection: () => netConnect(target.socketPath) } : {});
    const onAbort = (): void => done(false);
    const done = (answered: boolean): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      session.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    session.on('error', () => done(false));
    const request = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: kMethod,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status: string | undefined;
    request.on('response', (headers) => (status ??= headers['grpc-status'] as string | undefined));
    request.on('trailers', (trailers) => (status ??= trailers['grpc-status'] as string | undefined));
    request.on('error', () => done(false));
    request.on('data', () => {});
    request.on('close', () => done(status !== undefined));
    request.end(kEmptyMessage);
  });
}
