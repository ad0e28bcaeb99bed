import { setTimeout as sleep } from 'node:timers/promises';
import type { ExitInfo } from '../engine.js';
import { grpcAnswers, type ProbeTarget } from '../grpc-probe.js';

/** Why a server never became ready; the engine turns it into a ServerStartError with the exit info. */
class ReadyError extends Error {
  override readonly name = 'ReadyError';
}

/**
 * Resolves once a real gRPC call to `target` answers. Rejects with a ReadyError when the process
 * exits first or `startTimeoutMs` passes, and with the signal's reason when it aborts. Polls from
 * 1 ms up to 25 ms: a native server is usually ready in tens of milliseconds.
 */
export async function waitUntilReady(
  target: ProbeTarget,
  exited: Promise<ExitInfo>,
  options: { readonly signal?: AbortSignal; readonly startTimeoutMs: number },
): Promise<void> {
  let exit: ExitInfo | undefined;
  void exited.then((info) => (exit = info));
  const deadline = performance.now() + options.startTimeoutMs;
  let delay = 1;
  for (;;) {
    options.signal?.throwIfAborted();
    if (exit !== undefined) throw new ReadyError('exited while starting');
    if (await grpcAnswers(target, 2000)) return;
    if (exit !== undefined) throw new ReadyError('exited while starting');
    if (performance.now() > deadline) throw new ReadyError(`did not answer a gRPC call within ${options.startTimeoutMs} ms`);
    await Promise.race([sleep(delay, undefined, options.signal ? { signal: options.signal } : {}), exited]);
    delay = Math.min(delay * 2, 25);
  }
}
