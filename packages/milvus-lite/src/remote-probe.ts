import { setTimeout as sleep } from 'node:timers/promises';
import { RemoteUnreachableError } from './errors.js';
import { grpcAnswers, type ProbeTarget } from './grpc-probe.js';

/** Where a remote URI's gRPC server is, when a plain-text probe can reach it (not https). */
function probeTargetOf(uri: string): ProbeTarget | undefined {
  if (uri.startsWith('unix:')) return { socketPath: uri.slice('unix:'.length) };
  const match = /^(?:(http):\/\/)?([^/:]+|\[[^\]]+\]):(\d{1,5})\/?$/i.exec(uri);
  if (match === null) return undefined;
  return { host: match[2]!.replace(/^\[|\]$/g, ''), port: Number(match[3]) };
}

/**
 * Resolves once the Milvus at `uri` answers a real gRPC call (GetVersion), so that nobody hands the
 * SDK an unreachable address (its constructor connects at once, and a failed connect can become an
 * unhandled rejection). Retries every 250 ms; rejects with `RemoteUnreachableError` after
 * `timeoutMs`, or with `signal.reason` when aborted. URIs it cannot probe in plain text (https, a
 * path) are taken as they are.
 */
export async function awaitRemote(uri: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const target = probeTargetOf(uri);
  if (target === undefined) return;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const left = deadline - performance.now();
    if (left <= 0) throw new RemoteUnreachableError(uri, timeoutMs);
    if (await grpcAnswers(target, Math.min(1000, left))) return;
    signal?.throwIfAborted();
    await sleep(Math.min(250, Math.max(0, deadline - performance.now())), undefined, signal ? { signal } : {});
  }
}
