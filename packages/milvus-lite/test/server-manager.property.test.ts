// ServerManager under random interleavings of startAndGetUri, releaseServer and releaseAll over three
// paths, with a fake engine whose every start and stop is a task of fast-check's scheduler (so each
// takes a random time relative to the others). The real server is tested in api.test.ts.
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ExitInfo, Installation } from '../src/engine.js';
import type { Engine, EngineStartOptions } from '../src/server/engines/contract.js';

// Each run has its own scheduler, servers and paths, found from the installation the manager passes
// to the engine: a run that failed (while shrinking) leaves tasks behind that must not leak into the next.
interface Run {
  scheduler: { schedule: <T>(task: Promise<T>, label?: string) => Promise<T> };
  running: Map<string, string>;
  violations: string[];
}
const fake = vi.hoisted(() => ({ runs: new Map<string, Run>(), next: 0 }));

vi.mock('../src/server/engines/native.js', () => {
  const engine: Engine = {
    name: 'native',
    async start(options: EngineStartOptions) {
      const { dbPath } = options;
      const run = fake.runs.get(options.installation.python ?? '')!;
      await run.scheduler.schedule(Promise.resolve(), `start ${dbPath}`);
      options.signal?.throwIfAborted();
      if (run.running.has(dbPath)) run.violations.push(`two servers for ${dbPath}`);
      const uri = `unix:/fake/${++fake.next}.sock`;
      run.running.set(dbPath, uri);
      let exit!: (info: ExitInfo) => void;
      const exited = new Promise<ExitInfo>((resolve) => (exit = resolve));
      let stopping: Promise<ExitInfo> | undefined;
      return {
        uri,
        pid: fake.next,
        exited,
        stop: () =>
          (stopping ??= run.scheduler.schedule(Promise.resolve(), `stop ${dbPath}`).then(() => {
            run.running.delete(dbPath);
            const info = { code: 0, signal: null, stderrTail: '' };
            exit(info);
            return info;
          })),
      };
    },
  };
  return { nativeEngine: engine };
});

const { ServerManager } = await import('../src/pool/server-manager.js');

const root = realpathSync(mkdtempSync(join(tmpdir(), 'lh-manager-model-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Command = { op: 'start'; path: number } | { op: 'release'; path: number } | { op: 'releaseAll' };
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('start' as const), path: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), path: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'releaseAll' as const }) },
);

describe('ServerManager model', () => {
  it('a release wins over a pending start; once settled, a path runs iff its last call was a start that resolved a URI', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(command, { minLength: 1, maxLength: 12 }), async (s, commands) => {
        const id = `/fake/run-${fake.runs.size + 1}`;
        const run: Run = { scheduler: s, running: new Map(), violations: [] };
        fake.runs.set(id, run);
        const installation: Installation = { engine: 'native', version: '2.5.1', python: id, binary: '/fake/milvus', source: 'option' };
        const dir = join(root, `run-${fake.runs.size}`);
        mkdirSync(dir);
        const paths = ['a.db', 'b.db', 'c.db'].map((name) => join(dir, name));
        const manager = new ServerManager({ installation, log: () => {} });
        // Per path: the outcome of the last call issued on it ('start' with its URI or null, or 'release').
        const last = new Map<string, { op: 'start'; uri?: string | null } | { op: 'release' }>();
        const calls: Promise<unknown>[] = [];
        // Starts not settled yet, per path: a release issued now must win over them (they resolve null).
        const pending = new Map<string, Set<{ overtaken: boolean }>>(paths.map((p) => [p, new Set()]));
        const overtake = (path: string): void => {
          for (const start of pending.get(path)!) start.overtaken = true;
        };
        let issued = 0;
        // Starts issued per path: a release must leave its path stopped, unless a start came after it.
        const starts = new Map(paths.map((p) => [p, 0]));
        const stoppedBy = (releasedPaths: string[]): (() => void) => {
          const before = releasedPaths.map((path) => [path, starts.get(path)] as const);
          return () => {
            for (const [path, count] of before) {
              if (starts.get(path) === count && run.running.has(path)) run.violations.push(`${path}: a release resolved while its server still ran`);
            }
          };
        };
        for (const cmd of commands) {
          // Issued on a macrotask of its own: a start that already returned has delivered its result by then.
          void s
            .schedule(Promise.resolve(), `call ${JSON.stringify(cmd)}`)
            .then(() => new Promise((resolve) => setImmediate(resolve)))
            .then(() => {
            issued++;
            if (cmd.op === 'start') {
              const path = paths[cmd.path]!;
              const entry: { op: 'start'; uri?: string | null } = { op: 'start' };
              last.set(path, entry);
              const start = { overtaken: false };
              starts.set(path, starts.get(path)! + 1);
              pending.get(path)!.add(start);
              calls.push(
                manager.startAndGetUri(path).then((uri) => {
                  entry.uri = uri;
                  if (uri !== null && typeof uri !== 'string') run.violations.push(`${path}: resolved ${String(uri)}, neither a URI nor null`);
                  pending.get(path)!.delete(start);
                  if (start.overtaken && uri !== null) run.violations.push(`${path}: a start overtaken by a release resolved ${uri}`);
                  if (uri !== null && run.running.get(path) !== uri) run.violations.push(`${path}: resolved ${uri}, which was not running`);
                  // The fake engine never fails: only a release issued while it was pending makes a start resolve null.
                  if (!start.overtaken && uri === null) run.violations.push(`${path}: a start no release overtook resolved null`);
                }, (error: unknown) => run.violations.push(`${path}: startAndGetUri rejected (${String(error)}); it resolves null on failure`)),
              );
            } else if (cmd.op === 'release') {
              last.set(paths[cmd.path]!, { op: 'release' });
              overtake(paths[cmd.path]!);
              const path = paths[cmd.path]!;
              calls.push(manager.releaseServer(path).then(stoppedBy([path]), (error: unknown) => run.violations.push(`releaseServer rejected (${String(error)})`)));
            } else {
              for (const path of paths) {
                last.set(path, { op: 'release' });
                overtake(path);
              }
              calls.push(manager.releaseAll().then(stoppedBy(paths), (error: unknown) => run.violations.push(`releaseAll rejected (${String(error)})`)));
            }
          });
        }
        // Scheduled tasks interleave with the real (unscheduled) path normalization: run both until all settle.
        let settled = 0;
        const watch = (): void => void Promise.allSettled(calls).then((r) => (settled = r.length));
        for (let i = 0; i < 100_000; i++) {
          watch();
          if (issued === commands.length && settled === calls.length && s.count() === 0) break;
          if (s.count() > 0) await s.waitNext(1);
          else await new Promise((resolve) => setImmediate(resolve));
        }
        expect(issued).toBe(commands.length);
        expect(settled).toBe(calls.length);
        expect(run.violations.join('; ')).toBe('');
        for (const path of paths) {
          const outcome = last.get(path);
          const shouldRun = outcome?.op === 'start' && typeof outcome.uri === 'string';
          expect({ path, running: run.running.has(path) }).toEqual({ path, running: shouldRun });
          if (shouldRun) expect(run.running.get(path)).toBe((outcome as { uri: string }).uri);
        }
        const cleanup = manager[Symbol.asyncDispose]();
        while (s.count() > 0 || run.running.size > 0) {
          if (s.count() > 0) await s.waitNext(1);
          else await new Promise((resolve) => setImmediate(resolve));
        }
        await cleanup;
      }),
      { numRuns: 300 },
    );
  });
});
