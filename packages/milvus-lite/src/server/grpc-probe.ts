import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

const requireBuiltin = createRequire(import.meta.url);
let builtins: { readonly http2: typeof import('node:http2'); readonly net: typeof import('node:net'); readonly tls: typeof import('node:tls') } | undefined;

/**
 * node:http2, node:net and node:tls, loaded by the first probe, not at import: imported at the
 * package's import, through the ES module loader, they cost a cold open ~11 ms before its spawn
 * (measured; the SDK's grpc-js, a CommonJS module, saves ~2 ms of it by finding them loaded).
 */
export function probeBuiltins(): NonNullable<typeof builtins> {
  return (builtins ??= {
    http2: requireBuiltin('node:http2') as typeof import('node:http2'),
    net: requireBuiltin('node:net') as typeof import('node:net'),
    tls: requireBuiltin('node:tls') as typeof import('node:tls'),
  });
}

/**
 * Where a gRPC server listens: a unix socket path, or a TCP host and port; `tls` for a server that
 * speaks TLS (an `https://` URI), with `servername` for SNI and the host check.
 */
export type ProbeTarget = { readonly socketPath: string } | { readonly host: string; readonly port: number; readonly tls?: ProbeTls };

/** A TLS probe's SNI name and the trust it checks the certificate against (default: Node's CAs). */
export interface ProbeTls {
  readonly servername?: string;
  readonly ca?: Buffer;
  readonly key?: Buffer;
  readonly cert?: Buffer;
  /** Any certificate is trusted (the SDK's `tls.skipCertCheck`). */
  readonly trustAny?: boolean;
}

/**
 * What one probe saw. `answered`: a gRPC status came back. Otherwise `problem` says where it stopped
 * in words a user can act on ("connection refused", "the TLS handshake never completed", …).
 * `untrusted`: the TLS certificate fails the probe's trust (`ProbeTls`; the reason as OpenSSL names
 * it); the probe goes on regardless: whether something answers is its question.
 */
export interface ProbeOutcome {
  readonly answered: boolean;
  readonly problem?: string;
  /** How far it got: 0 no connection, 1 TCP connected (TLS handshake under way), 2 ready for the call. */
  readonly reached?: 0 | 1 | 2;
  readonly untrusted?: string;
  /** Its time ran out (or it was aborted) before an answer or an error: what it says is what it had seen by then. */
  readonly cutShort?: true;
}

const kMethod = '/milvus.proto.milvus.MilvusService/GetVersion';
// A gRPC message frame: not compressed, length 0 (an empty GetVersionRequest).
const kEmptyMessage = Buffer.alloc(5);

/** A socket error in words: what the connection met. */
function describeError(thrown: NodeJS.ErrnoException, stage: 'connecting' | 'tcp' | 'h2'): string {
  // A call cancelled because its connection failed carries the connection's error as its cause.
  const error = thrown.code === 'ERR_HTTP2_STREAM_CANCEL' && thrown.cause instanceof Error ? (thrown.cause as NodeJS.ErrnoException) : thrown;
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens there)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ENOENT':
      return 'no such socket';
    case 'ECONNRESET':
    case 'EPIPE':
      return stage === 'tcp' ? 'the connection was reset during the TLS handshake' : 'the connection was reset';
    default:
      if (stage === 'tcp') return `the TLS handshake failed (${error.code ?? error.message}: ${error.message}); is it an https server?`;
      return `${error.code ?? 'error'}: ${error.message}`;
  }
}

/**
 * Makes one real gRPC call (MilvusService/GetVersion) within `timeoutMs`, and says how far it got.
 * Never rejects; an abort of `signal` ends it as a timeout would. Over TLS it goes on whatever the
 * certificate (it asks whether something answers) and reports one that `tls`'s trust (default:
 * Node's CAs) does not verify in `untrusted`. `onProgress` hears what a timeout would say at each
 * step reached. Destroys its connection before resolving, so nothing keeps Node alive.
 */
export function grpcProbe(target: ProbeTarget, timeoutMs = 1000, signal?: AbortSignal, onProgress?: (soFar: ProbeOutcome) => void): Promise<ProbeOutcome> {
  return new Promise<ProbeOutcome>((resolve) => {
    if (signal?.aborted) {
      resolve({ answered: false, problem: 'aborted' });
      return;
    }
    let stage: 'connecting' | 'tcp' | 'h2' = 'connecting';
    let untrusted: string | undefined;
    const tls = 'socketPath' in target ? undefined : target.tls;
    // What a timeout now would say, told as each step is reached: a caller that gives up first can say it too.
    const reached = (next: typeof stage): void => {
      stage = next;
      onProgress?.({ answered: false, problem: stalledProblem(), reached: stage === 'tcp' ? 1 : 2, cutShort: true, ...(untrusted === undefined ? {} : { untrusted }) });
    };
    const stalledProblem = (): string =>
      stage === 'connecting'
        ? 'no connection was made'
        : stage === 'tcp'
          ? 'the TCP connection was accepted, but the TLS handshake never completed'
          : `connected${tls ? ' over TLS' : ''}, but no gRPC reply came`;
    const { http2, net, tls: tlsModule } = probeBuiltins();
    const createConnection = (): Socket => {
      if ('socketPath' in target) return net.connect(target.socketPath).once('connect', () => reached('h2'));
      if (tls === undefined) return net.connect(target.port, target.host).once('connect', () => reached('h2'));
      const socket: TLSSocket = tlsModule.connect({
        host: target.host,
        port: target.port,
        ...(tls.servername === undefined ? {} : { servername: tls.servername }),
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls.key === undefined ? {} : { key: tls.key }),
        ...(tls.cert === undefined ? {} : { cert: tls.cert }),
        ALPNProtocols: ['h2'],
        rejectUnauthorized: false,
      });
      socket.once('connect', () => reached('tcp'));
      socket.once('secureConnect', () => {
        if (!socket.authorized && tls.trustAny !== true) untrusted = String(socket.authorizationError);
        reached('h2');
      });
      return socket;
    };
    const authority = 'socketPath' in target ? 'http://localhost' : `${tls ? 'https' : 'http'}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    const session = http2.connect(authority, { createConnection });
    let settled = false;
    const done = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      session.destroy();
      const reachedNow = stage === 'connecting' ? 0 : stage === 'tcp' ? 1 : 2;
      resolve({ ...outcome, reached: reachedNow, ...(untrusted === undefined ? {} : { untrusted }) });
    };
    const stalled = (): void => done({ answered: false, problem: stalledProblem(), cutShort: true });
    const onAbort = (): void => stalled();
    const timer = setTimeout(stalled, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    session.on('error', (error: NodeJS.ErrnoException) => done({ answered: false, problem: describeError(error, stage) }));
    const request = session.request({
      [http2.constants.HTTP2_HEADER_METHOD]: 'POST',
      [http2.constants.HTTP2_HEADER_PATH]: kMethod,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status: string | undefined;
    request.on('response', (headers) => (status ??= headers['grpc-status'] as string | undefined));
    request.on('trailers', (trailers) => (status ??= trailers['grpc-status'] as string | undefined));
    request.on('error', (error: NodeJS.ErrnoException) => done({ answered: false, problem: describeError(error, stage) }));
    request.on('data', () => {});
    request.on('close', () => done(status !== undefined ? { answered: true } : { answered: false, problem: 'it closed the call without a gRPC status (not a gRPC server?)' }));
    request.end(kEmptyMessage);
  });
}

/**
 * Makes one real gRPC call (MilvusService/GetVersion) and resolves whether the server answered it
 * with a gRPC status. Never rejects: a refused connection, a reset, a timeout (`timeoutMs`) or an
 * abort of `signal` is `false`.
 */
export async function grpcAnswers(target: ProbeTarget, timeoutMs = 1000, signal?: AbortSignal): Promise<boolean> {
  return (await grpcProbe(target, timeoutMs, signal)).answered;
}
