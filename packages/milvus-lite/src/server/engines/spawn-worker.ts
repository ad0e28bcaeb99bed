// The spawner thread's entry (see spawn-thread.ts): it imports execa and runs the native servers'
// processes, so that execa's loading runs beside the main thread's own work (the SDK's import)
// instead of before the spawn, and probes each server until it answers. The thread runs this
// module as scripts/bundle.mjs bundles it, with execa inside (dist/bundle/spawner/).
// Messages: see SpawnerRequest / SpawnerReply.
import { parentPort } from 'node:worker_threads';
import { execa } from 'execa';
import { OutputTail } from '../output-tail.js';
import { sweepSocketDirs } from '../socket-dir.js';
import { waitUntilReady } from './ready.js';
import type { SpawnerReply, SpawnerRequest } from './spawn-thread.js';

const port = parentPort!;
const children = new Map<number, { kill: (signal: NodeJS.Signals) => boolean }>();
const reply = (message: SpawnerReply): void => port.postMessage(message);

port.on('message', (request: SpawnerRequest) => {
  if (request.op === 'kill') {
    children.get(request.id)?.kill(request.signal);
    return;
  }
  if (request.op === 'sweep') {
    // sweepSocketDirs never throws.
    void sweepSocketDirs(request.base).then(() => reply({ op: 'swept' }));
    return;
  }
  const tail = new OutputTail();
  // No shell; stdin closed; stdout and stderr drained here, only their tail kept (for the exit).
  const child = execa(request.file, request.args, {
    cwd: request.cwd,
    env: request.env,
    extendEnv: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    // The server's own stop is the owner's business (its lock): nothing is signalled at exit.
    cleanup: false,
  });
  children.set(request.id, child);
  tail.follow(child.stdout);
  tail.follow(child.stderr);
  reply({ op: 'spawned', id: request.id, pid: child.pid });
  // The readiness probe runs here, where nothing blocks it: the main thread is loading the SDK.
  // A probe that fails (the exit, the time up) says nothing: the main thread sees the exit, and
  // its own deadline.
  if (request.probe !== undefined) {
    void waitUntilReady({ socketPath: request.probe.socketPath }, child, { startTimeoutMs: request.probe.timeoutMs }).then(
      () => reply({ op: 'ready', id: request.id }),
      () => {},
    );
  }
  void child.then((result) => {
    children.delete(request.id);
    reply({
      op: 'exit',
      id: request.id,
      exitCode: result.exitCode,
      signal: result.signal,
      failed: result.failed,
      shortMessage: result.shortMessage,
      output: tail.toString(),
    });
  });
});
