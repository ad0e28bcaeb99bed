import { Worker } from 'node:worker_threads';
import { builtFile } from '../package-root.js';

/**
 * The native engine's spawner: one worker thread per process that imports execa and spawns the
 * servers (spawn-worker.ts). The first start creates it at its spawn step (~3 ms of this thread's
 * time), after its lock and socket directory, and this thread goes on to load the SDK: the thread
 * boots and loads execa (bundled into its entry: ~20 ms) on another core meanwhile, so neither
 * waits for the other (issue 24: execa's import was most of leasehold's own time on a cold open). Not sooner:
 * while a thread boots, this thread's file-system calls (the steps before the spawn) slow down
 * several-fold. execa stays the spawner; only the thread it runs on changed.
 *
 * A server's lifetime does not depend on the thread: it is tied to this process by its lock (an
 * OFD lock of this process, see lock-file.ts), which goes with the process, however it ends. The
 * thread is ref'd only while a child is (a start, an awaited stop), as a child process would be.
 */

/** What the main thread asks of the spawner thread. */
export type SpawnerRequest =
  | {
      readonly op: 'spawn';
      readonly id: number;
      readonly file: string;
      readonly args: readonly string[];
      readonly cwd: string;
      readonly env: Readonly<Record<string, string | undefined>>;
      /** Probe this unix socket until a gRPC call answers (within `timeoutMs`), then reply `ready`. */
      readonly probe?: { readonly socketPath: string; readonly timeoutMs: number };
    }
  | { readonly op: 'kill'; readonly id: number; readonly signal: NodeJS.Signals }
  /** Sweep `base` of dead owners' socket directories (`sweepSocketDirs`), in the background. */
  | { readonly op: 'sweep'; readonly base: string };

/** What the spawner thread answers: the pid once spawned (undefined when the spawn failed), `ready` once its probe was answered, then the exit; `swept` once a sweep is done. */
export type SpawnerReply =
  | { readonly op: 'swept' }
  | { readonly op: 'spawned'; readonly id: number; readonly pid: number | undefined }
  | { readonly op: 'ready'; readonly id: number }
  | ({ readonly op: 'exit'; readonly id: number } & ThreadResult);

/** How a child of the spawner thread ended, as execa reports it (`output`: the tail of its stdout and stderr). */
export interface ThreadResult {
  readonly exitCode?: number | undefined;
  readonly signal?: string | undefined;
  readonly failed: boolean;
  readonly shortMessage?: string | undefined;
  readonly output: string;
}

/**
 * The worker's entry: spawn-worker.ts as scripts/bundle.mjs bundles it, execa inside (one module
 * instead of execa's ~180, whose loading cost ~150 ms of CPU beside the SDK's load); from the
 * build, in the tests too.
 */
function workerScript(): string {
  return builtFile('bundle/spawner/spawn-worker.js');
}

/** A server process run by the spawner thread: awaitable for its result, killable, ref-able like an execa child. */
export class ThreadChild implements PromiseLike<ThreadResult> {
  /** The pid, once `spawned` has resolved (undefined when the spawn failed). */
  pid: number | undefined;
  /** Resolves the pid once the process is spawned; undefined when the spawn failed. */
  readonly spawned: Promise<number | undefined>;
  /**
   * Resolves once the spawner thread's probe saw a gRPC call answer (a spawn with `probe`). It
   * probes while this thread is busy (loading the SDK), so the answer waits here when this thread
   * is free, instead of a probe starting only then. Never settles otherwise: race it with the exit.
   */
  readonly ready: Promise<void>;
  readonly #thread: SpawnerThread;
  readonly #id: number;
  readonly #result: Promise<ThreadResult>;
  #onSpawned!: (pid: number | undefined) => void;
  #onReady!: () => void;
  #onExit!: (result: ThreadResult) => void;
  #exited = false;
  #ref = false;

  constructor(thread: SpawnerThread, id: number) {
    this.#thread = thread;
    this.#id = id;
    this.spawned = new Promise((resolve) => (this.#onSpawned = resolve));
    this.ready = new Promise((resolve) => (this.#onReady = resolve));
    this.#result = new Promise((resolve) => (this.#onExit = resolve));
    this.ref();
  }

  then<A = ThreadResult, B = never>(onFulfilled?: ((value: ThreadResult) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B> {
    return this.#result.then(onFulfilled, onRejected);
  }

  /** Sends `signal` to the process, unless it has exited (execa's own check, in the thread). */
  kill(signal: NodeJS.Signals): boolean {
    if (this.#exited) return false;
    this.#thread.post({ op: 'kill', id: this.#id, signal });
    return true;
  }

  /** Keeps Node alive until the process exits (the default, as for a child process). */
  ref(): void {
    if (this.#ref || this.#exited) return;
    this.#ref = true;
    this.#thread.ref();
  }

  /** Lets Node exit while the process runs. */
  unref(): void {
    if (!this.#ref) return;
    this.#ref = false;
    this.#thread.unref();
  }

  /** @internal */
  settleSpawned(pid: number | undefined): void {
    this.pid = pid;
    this.#onSpawned(pid);
  }

  /** @internal */
  settleReady(): void {
    this.#onReady();
  }

  /** @internal */
  settleExit(result: ThreadResult): void {
    if (this.#exited) return;
    this.settleSpawned(this.pid);
    this.unref();
    this.#exited = true;
    this.#onExit(result);
  }
}

class SpawnerThread {
  readonly #worker: Worker;
  readonly #children = new Map<number, ThreadChild>();
  #next = 1;
  #refs = 0;
  #ended = false;

  constructor(onEnd: () => void) {
    // None of this process's Node options: the entry is plain built JavaScript, and options such
    // as --input-type (`node --input-type=module -e …`) or a loader's --import would end the thread.
    this.#worker = new Worker(workerScript(), { execArgv: [] });
    this.#worker.on('message', (reply: SpawnerReply) => {
      if (reply.op === 'swept') {
        this.unref();
        return;
      }
      const child = this.#children.get(reply.id);
      if (child === undefined) return;
      if (reply.op === 'spawned') child.settleSpawned(reply.pid);
      else if (reply.op === 'ready') child.settleReady();
      else {
        this.#children.delete(reply.id);
        child.settleExit(reply);
      }
    });
    const end = (why: string): void => {
      if (this.#ended) return;
      this.#ended = true;
      onEnd();
      // Its children cannot be watched any more: each is killed (they would also end once this
      // process lets go of their locks) and reported as failed, with why.
      for (const child of this.#children.values()) {
        if (child.pid !== undefined) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
        child.settleExit({ failed: true, shortMessage: `leasehold's spawner thread ended (${why}); the server was killed`, output: '' });
      }
      this.#children.clear();
    };
    this.#worker.on('error', (error) => end(error.message));
    this.#worker.on('exit', (code) => end(`exit code ${code}`));
    // After the listeners: adding a 'message' listener refs the thread again.
    this.#worker.unref();
  }

  /**
   * Spawns `file` with `args` (no shell) in `cwd` with exactly `env`; stdin closed, output drained.
   * With `probe`, the thread then probes the server's socket; the child's `ready` resolves on an answer.
   */
  spawn(
    file: string,
    args: readonly string[],
    options: { readonly cwd: string; readonly env: Readonly<Record<string, string | undefined>>; readonly probe?: { readonly socketPath: string; readonly timeoutMs: number } },
  ): ThreadChild {
    const id = this.#next++;
    const child = new ThreadChild(this, id);
    if (this.#ended) {
      child.settleExit({ failed: true, shortMessage: "leasehold's spawner thread has ended", output: '' });
      return child;
    }
    this.#children.set(id, child);
    this.post({ op: 'spawn', id, file, args, cwd: options.cwd, env: options.env, ...(options.probe === undefined ? {} : { probe: options.probe }) });
    return child;
  }

  /**
   * Sweeps `base` of the socket directories dead owners left (`sweepSocketDirs`) in this thread: a
   * crowded temp dir's hundreds of file-system calls then take none of the main thread's time.
   */
  sweep(base: string): void {
    if (this.#ended) return;
    // Ref'd until it is done, as the same sweep's file-system calls would keep Node alive: a
    // directory half removed at exit would lose its owner file, and with it the next sweep's proof.
    this.ref();
    this.post({ op: 'sweep', base });
  }

  post(request: SpawnerRequest): void {
    if (!this.#ended) this.#worker.postMessage(request);
  }

  ref(): void {
    if (this.#refs++ === 0) this.#worker.ref();
  }

  /** Ends the thread (its children are killed and reported, as for a crash of it): for tests. */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }

  unref(): void {
    if (--this.#refs === 0) this.#worker.unref();
  }
}

let thread: SpawnerThread | undefined;

/**
 * This process's spawner thread, created on first use (a later use after it ended creates another).
 * @throws whatever `new Worker` throws (the worker entry missing from the package, say).
 */
export function spawnerThread(): SpawnerThread {
  if (thread === undefined) {
    const made: SpawnerThread = new SpawnerThread(() => {
      if (thread === made) thread = undefined;
    });
    thread = made;
  }
  return thread;
}
