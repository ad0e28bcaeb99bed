import type { StartStep } from '../../engine.js';
import { grpcAnswers, type ProbeTarget } from '../grpc-probe.js';

/** Why a server never became ready; the engine turns it into a ServerStartError with the exit info. */
class ReadyError extends Error {
  override readonly name = 'ReadyError';
}

const kWaiting: Record<StartStep, string> = {
  lock: 'while taking its lock',
  'socket-dir': 'before its socket directory was made',
  spawn: 'before its process was spawned',
  'first-line': 'waiting for the server to report that it listens',
  ready: 'waiting for a gRPC call to answer',
};

/**
 * One deadline for a whole start, `startTimeoutMs` after it is made: `signal` aborts when it passes
 * (with a ReadyError naming the step it stalled at) or when the caller's signal aborts (with its
 * reason). `step()` runs the `onStep` hook raced against it, so a stall at any step ends on time.
 * `dispose()` clears the timer once the start is over.
 */
export class StartDeadline {
  readonly at: number;
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #options: StartDeadlineOptions;
  readonly #onCallerAbort: () => void;
  #step: StartStep | undefined;

  constructor(options: StartDeadlineOptions) {
    this.#options = options;
    this.at = performance.now() + options.startTimeoutMs;
    this.signal = this.#controller.signal;
    this.#timer = setTimeout(() => this.#controller.abort(new ReadyError(this.#message())), options.startTimeoutMs);
    this.#onCallerAbort = () => this.#controller.abort(options.signal!.reason);
    if (options.signal?.aborted) this.#onCallerAbort();
    else options.signal?.addEventListener('abort', this.#onCallerAbort, { once: true });
  }

  #message(): string {
    return `did not start within ${this.#options.startTimeoutMs} ms: it stalled ${this.#step === undefined ? 'before its first step' : kWaiting[this.#step]}`;
  }

  /** Enters `step`: awaits the hook (until the deadline at most), then throws if the start is over. */
  async step(step: StartStep, info: { readonly pid?: number; readonly uri?: string } = {}): Promise<void> {
    this.#step = step;
    this.signal.throwIfAborted();
    if (this.#options.onStep !== undefined) await this.race(Promise.resolve(this.#options.onStep(step, info)));
    this.signal.throwIfAborted();
  }

  /** `promise`, or the deadline's (or caller's) reason if that comes first. */
  race<T>(promise: Promise<T>): Promise<T> {
    const { signal } = this;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Whether `error` is this deadline passing (not the caller's abort). */
  passed(error: unknown): boolean {
    return error instanceof ReadyError;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#options.signal?.removeEventListener('abort', this.#onCallerAbort);
  }
}

export interface StartDeadlineOptions {
  readonly startTimeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly onStep?: ((step: StartStep, info: { readonly pid?: number; readonly uri?: string }) => void | Promise<void>) | undefined;
}

/** How long past its own deadline `waitUntilReady` waits for the caller's signal to abort. */
const kSameDeadlineSlackMs = 1000;

/** Resolves after `ms`, or sooner when `signal` aborts or `exited` settles (never rejects). */
function pause(ms: number, signal: AbortSignal | undefined, exited?: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
    void exited?.then(done);
  });
}

/**
 * Resolves once a real gRPC call to `target` answers. Rejects with a ReadyError when the process
 * exits first or the deadline passes (`startedAt + startTimeoutMs`, `startedAt` in
 * `performance.now()` ms, default now), and with the signal's reason when it aborts. Polls from
 * 1 ms up to 25 ms: a native server is usually ready in tens of milliseconds.
 */
export async function waitUntilReady(
  target: ProbeTarget,
  exited: Promise<unknown>,
  options: { readonly signal?: AbortSignal; readonly startTimeoutMs: number; readonly startedAt?: number },
): Promise<void> {
  let exit = false;
  void exited.then(() => (exit = true));
  const deadline = (options.startedAt ?? performance.now()) + options.startTimeoutMs;
  const { signal } = options;
  let delay = 1;
  for (;;) {
    signal?.throwIfAborted();
    if (exit) throw new ReadyError('exited while starting');
    // A stopped or wedged server accepts the connection and never answers: the probe ends at the deadline.
    const probeMs = Math.min(2000, Math.max(50, deadline - performance.now()));
    if (await grpcAnswers(target, probeMs, signal)) return;
    signal?.throwIfAborted();
    if (exit) throw new ReadyError('exited while starting');
    if (performance.now() > deadline) {
      // A caller's signal on the same deadline (a StartDeadline's) is the one that says why: its
      // timer fires within a tick of this probe's end, and whichever came first must not decide
      // which message the start fails with.
      if (signal !== undefined && !signal.aborted) await pause(kSameDeadlineSlackMs, signal);
      signal?.throwIfAborted();
      throw new ReadyError(`did not answer a gRPC call within ${options.startTimeoutMs} ms`);
    }
    await pause(delay, signal, exited);
    delay = Math.min(delay * 2, 25);
  }
}

/**
 * Resolves when `ready` does (another thread saw a gRPC call answer: the spawner thread's probe,
 * see spawn-worker.ts); rejects with a ReadyError when the process exits first (`exited` settles).
 */
export function readyOrExited(ready: Promise<void>, exited: Promise<unknown>): Promise<void> {
  return Promise.race([ready, exited.then(() => Promise.reject(new ReadyError('exited while starting')))]);
}
