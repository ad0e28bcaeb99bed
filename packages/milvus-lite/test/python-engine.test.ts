// The python engine (milvus-lite 3.x) against the real server: its private socket, opt-in TCP with
// SO_REUSEPORT off, and one deadline for the whole start, with a stall injected at each named step.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyLockedError, MilvusLiteServer, ServerStartError, StartError, type Installation, type StartStep } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { connect } from './support/milvus-data.js';
import { isAlive, processesMentioning } from './support/processes.js';
import { freePort } from './support/ports.js';
import { freshDirs, poolsClosedAfterEach, withEnv } from './support/scratch-dirs.js';

const installation: Installation | undefined = installationOf('python');
const freshDir = freshDirs('lh-pyengine-');
const cli = fileURLToPath(new URL('../../../node_modules/.bin/leasehold-milvus', import.meta.url));


/** Runs `body` with socket directories made under a scratch TMPDIR of its own, and returns that directory's leftovers. */
async function withOwnTmpdir(body: () => Promise<void>): Promise<string[]> {
  const scratch = mkdtempSync(join('/tmp', 'lh-pt-'));
  try {
    return await withEnv('TMPDIR', scratch, async () => {
      expect(tmpdir()).toBe(scratch);
      await body();
      return readdirSync(scratch);
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

describe.skipIf(installation === undefined)('python engine, real milvus-lite 3.x', () => {
  const newPool = poolsClosedAfterEach(installation);
  const servers: MilvusLiteServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  const newServer = (dbPath: string, options: ConstructorParameters<typeof MilvusLiteServer>[1] = {}): MilvusLiteServer => {
    const server = new MilvusLiteServer(dbPath, { installation: installation!, ...options });
    servers.push(server);
    return server;
  };

  it('serves on unix:<private 0700 dir>/milvus.sock, and a stop removes that directory', async () => {
    const server = await newServer(join(freshDir(), 'private')).start();
    expect(server.uri).toMatch(/^unix:\/.+\/milvus\.sock$/);
    const socketPath = server.uri.slice('unix:'.length);
    const dir = statSync(dirname(socketPath));
    expect(dir.mode & 0o777).toBe(0o700);
    expect(dir.uid).toBe(process.getuid!());
    expect(statSync(socketPath).isSocket()).toBe(true);
    // The socket, and the owner's pid file by which a later start sweeps the directory if we die.
    expect(readdirSync(dirname(socketPath)).sort()).toEqual(['leasehold.pid', 'milvus.sock']);
    const exit = await server.stop();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(() => statSync(dirname(socketPath))).toThrow(/ENOENT/);
  });

  it('a CreateIndex without index_type gets AUTOINDEX on the server side (plain SDK, no compatibility layer)', async () => {
    const server = await newServer(join(freshDir(), 'autoindex')).start();
    const client = await connect(server.uri);
    const fields = [
      { name: 'id', data_type: 5, is_primary_key: true, autoID: false },
      { name: 'vector', data_type: 101, dim: 4 },
    ];
    for (const [name, indexType] of [['implicit', undefined], ['explicit', 'FLAT']] as const) {
      expect((await client.createCollection({ collection_name: name, fields })).error_code).toBe('Success');
      const indexed = await client.createIndex({ collection_name: name, field_name: 'vector', metric_type: 'L2', ...(indexType ? { index_type: indexType } : {}) });
      expect(indexed.error_code, name).toBe('Success');
      const described = await client.describeIndex({ collection_name: name, field_name: 'vector' });
      // Without one, AUTOINDEX; an explicit index_type is kept as it is.
      expect(described.index_descriptions[0]?.params, name).toContainEqual({ key: 'index_type', value: indexType ?? 'AUTOINDEX' });
    }
    await client.closeConnection();
  });

  it('two servers asked for one port: one serves, the other is refused with what to do and leaves nothing behind', async () => {
    const port = await freePort();
    const dir = freshDir();
    const pool = newPool({ port });
    const outcomes = await Promise.allSettled(['a', 'b'].map((name) => pool.acquire(join(dir, name))));
    const served = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(served).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const error = refused[0]!.reason as StartError;
    expect(error).toBeInstanceOf(StartError);
    expect(error.cause).toBeInstanceOf(ServerStartError);
    expect(error.message).toContain(`could not listen on 127.0.0.1:${port}, which is in use`);
    expect(error.message).toMatch(/choose another port, or leave port unset/);
    expect((error.cause as ServerStartError).exit?.code).toBe(4);
    const lease = served[0]!.value;
    expect(lease.resource.uri).toBe(`http://127.0.0.1:${port}`);
    // The refused database has no process left; the served one still answers.
    const refusedPath = join(dir, lease.key.endsWith('/a') ? 'b' : 'a');
    expect(processesMentioning(refusedPath)).toEqual([]);
    const client = await connect(lease.resource.uri);
    expect((await client.listCollections()).status.error_code).toBe('Success');
    await client.closeConnection();
  });

  it('a port held by any other program is refused the same way', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      const dbPath = join(freshDir(), 'taken');
      const error = await newServer(dbPath, { port }).start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServerStartError);
      expect((error as Error).message).toContain(`could not listen on 127.0.0.1:${port}, which is in use`);
      expect(processesMentioning(dbPath)).toEqual([]);
    } finally {
      holder.close();
    }
  });

  it('leasehold-milvus serve x --port P, then serve y --port P: the second exits 1 and says the port is in use', async () => {
    const port = await freePort();
    const dir = freshDir();
    const first = execa(cli, ['serve', join(dir, 'x'), '--engine', 'python', '--port', String(port), '--json'], { reject: false });
    try {
      const line = await new Promise<string>((resolve) => first.stdout!.once('data', (chunk: Buffer) => resolve(String(chunk))));
      expect((JSON.parse(line) as { uri: string }).uri).toBe(`http://127.0.0.1:${port}`);
      const second = await execa(cli, ['serve', join(dir, 'y'), '--engine', 'python', '--port', String(port)], { reject: false, timeout: 120_000 });
      expect(second.exitCode).toBe(1);
      expect(second.stdout).toBe('');
      expect(second.stderr).toContain(`could not listen on 127.0.0.1:${port}, which is in use`);
      expect(processesMentioning(join(dir, 'y'))).toEqual([]);
    } finally {
      first.kill('SIGTERM');
      expect((await first).exitCode).toBe(0);
    }
  });

  it('each start step is told what exists by then: the uri from spawn on, the pid from first-line on', async () => {
    const seen: [StartStep, { pid?: number; uri?: string }][] = [];
    const server = await newServer(join(freshDir(), 'steps'), { onStartStep: (step, info) => void seen.push([step, { ...info }]) }).start();
    expect(seen).toEqual([
      ['socket-dir', {}],
      ['spawn', { uri: server.uri }],
      ['first-line', { pid: server.pid, uri: server.uri }],
      ['ready', { pid: server.pid, uri: server.uri }],
    ]);
  });

  it('an interpreter that cannot be run: first-line is told no pid, the start is a ServerStartError naming it, and nothing is left', async () => {
    const dbPath = join(freshDir(), 'no-python');
    const seen: [StartStep, { pid?: number; uri?: string }][] = [];
    let error: unknown;
    const leftovers = await withOwnTmpdir(async () => {
      const server = new MilvusLiteServer(dbPath, { installation: { ...installation!, python: '/nonexistent/python3' }, onStartStep: (step, info) => void seen.push([step, { ...info }]) });
      error = await server.start().catch((e: unknown) => e);
    });
    expect(seen.map(([step]) => step)).toEqual(['socket-dir', 'spawn', 'first-line']);
    expect(seen[2]![1]).toStrictEqual({ uri: seen[1]![1].uri });
    expect(seen[2]![1].uri).toMatch(/^unix:\/.+\/milvus\.sock$/);
    expect(error).toBeInstanceOf(ServerStartError);
    expect((error as Error).message).toContain(dbPath);
    expect((error as Error).message).toMatch(/ENOENT|\/nonexistent\/python3/);
    expect(leftovers).toEqual([]);
  });

  it('an interpreter without milvus-lite (a bare venv): ServerStartError "exited while starting", exit code 1, the ModuleNotFoundError in its tail; nothing left', async () => {
    const venv = join(freshDir(), 'bare-venv');
    await execa('python3', ['-m', 'venv', '--without-pip', venv]);
    const dbPath = join(freshDir(), 'bare');
    let error: unknown;
    const leftovers = await withOwnTmpdir(async () => {
      error = await new MilvusLiteServer(dbPath, { installation: { ...installation!, python: join(venv, 'bin', 'python') } }).start().catch((e: unknown) => e);
    });
    expect(error).toBeInstanceOf(ServerStartError);
    expect((error as Error).message).toContain(`${dbPath}`);
    expect((error as Error).message).toContain('exited while starting');
    expect((error as ServerStartError).exit).toMatchObject({ code: 1, signal: null });
    expect((error as ServerStartError).exit?.stderrTail).toMatch(/ModuleNotFoundError: No module named '(grpc|pymilvus|milvus_lite)'/);
    expect(processesMentioning(dbPath)).toEqual([]);
    expect(leftovers).toEqual([]);
  });

  it('a first line that is not the wrapper\'s (a sitecustomize printing to stdout): ServerStartError quoting it; the wrapper stopped, nothing left', async () => {
    const site = freshDir();
    writeFileSync(join(site, 'sitecustomize.py'), 'print("hello from sitecustomize")\n');
    const dbPath = join(freshDir(), 'chatty');
    let error: unknown;
    const leftovers = await withEnv('PYTHONPATH', site, () =>
      withOwnTmpdir(async () => {
        error = await new MilvusLiteServer(dbPath, { installation: installation! }).start().catch((e: unknown) => e);
      }),
    );
    expect(leftovers).toEqual([]);
    expect(error).toBeInstanceOf(ServerStartError);
    expect((error as Error).message).toContain('printed an unexpected first line: hello from sitecustomize');
    await expect.poll(() => processesMentioning(dbPath), { timeout: 10_000 }).toEqual([]);
  });

  it('a unix socket that cannot be bound (its directory removed before the spawn): ServerStartError saying so, not "in use; choose another port"', async () => {
    const dbPath = join(freshDir(), 'unbound');
    let socketDir = '';
    const error = await newServer(dbPath, {
      onStartStep: (step, info) => {
        if (step !== 'spawn') return;
        socketDir = dirname(info.uri!.slice('unix:'.length));
        rmSync(socketDir, { recursive: true });
      },
    })
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerStartError);
    expect((error as Error).message).toContain(`could not listen on unix:${socketDir}/milvus.sock: its socket directory is gone or cannot be written (a tmp cleaner?); set TMPDIR to a writable directory and start again`);
    expect((error as ServerStartError).exit).toMatchObject({ code: 4 });
    expect(processesMentioning(dbPath)).toEqual([]);
  });

  it('a data directory another milvus-lite 3.x server has open: KeyLockedError saying so (the wrapper\'s exit code 3)', async () => {
    const dbPath = join(freshDir(), 'twice');
    const first = await newServer(dbPath).start();
    const error = await newServer(dbPath).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyLockedError);
    expect((error as Error).message).toContain(dbPath);
    expect((error as Error).message).toContain('another milvus-lite 3.x server has its data directory open (DataDirLockedError)');
    expect(processesMentioning(dbPath)).toEqual([first.pid]);
  });

  it('a graceful stop of a server stopped by SIGSTOP continues it: it exits 0, not SIGKILLed', async () => {
    const server = await newServer(join(freshDir(), 'sigstopped'), { stopTimeoutMs: 30_000 }).start();
    const pid = server.pid!;
    process.kill(pid, 'SIGSTOP');
    expect(await server.stop()).toMatchObject({ code: 0, signal: null });
    expect(isAlive(pid)).toBe(false);
  });

  describe('one deadline for the whole start', () => {
    const kSteps: readonly { step: StartStep; timeoutMs: number; stalled: RegExp }[] = [
      { step: 'socket-dir', timeoutMs: 3000, stalled: /before its socket directory was made/ },
      { step: 'spawn', timeoutMs: 3000, stalled: /before its process was spawned/ },
      { step: 'first-line', timeoutMs: 3000, stalled: /waiting for the server to report that it listens/ },
      // Long enough for the wrapper to print its first line under load; it is stopped after that.
      { step: 'ready', timeoutMs: 40_000, stalled: /waiting for a gRPC call to answer/ },
    ];

    it('the wrapper stalled (SIGSTOP, or a hook that never returns) at each step fails at the deadline, SIGKILLed, leaving no process and no socket directory', async () => {
      const dir = freshDir();
      const leftovers = await withOwnTmpdir(async () => {
        const results = await Promise.all(
          kSteps.map(async ({ step, timeoutMs }) => {
            const dbPath = join(dir, step);
            const steps: string[] = [];
            let stoppedPid: number | undefined;
            const server = newServer(dbPath, {
              startTimeoutMs: timeoutMs,
              stopTimeoutMs: 60_000,
              onStartStep: async (at, info) => {
                steps.push(at);
                if (at !== step) return;
                if (info.pid === undefined) return new Promise<void>(() => {});
                stoppedPid = info.pid;
                process.kill(info.pid, 'SIGSTOP');
              },
            });
            const startedAt = performance.now();
            const error = await server.start().catch((e: unknown) => e);
            return { step, timeoutMs, dbPath, steps, stoppedPid, error, elapsed: performance.now() - startedAt };
          }),
        );
        for (const { step, timeoutMs, dbPath, steps, stoppedPid, error, elapsed } of results) {
          const expected = kSteps.find((s) => s.step === step)!;
          expect(steps, step).toEqual(['socket-dir', 'spawn', 'first-line', 'ready'].slice(0, steps.length));
          expect(steps.at(-1), step).toBe(step);
          expect(error, step).toBeInstanceOf(ServerStartError);
          expect((error as Error).message, step).toContain(`did not start within ${timeoutMs} ms: it stalled`);
          expect((error as Error).message, step).toMatch(expected.stalled);
          // At the deadline, not after a graceful stop of 60 s that a stopped process could never finish.
          expect(elapsed, step).toBeGreaterThanOrEqual(timeoutMs - 5);
          expect(elapsed, step).toBeLessThan(timeoutMs + 15_000);
          if (step === 'first-line' || step === 'ready') {
            expect(stoppedPid, step).toBeGreaterThan(0);
            expect((error as ServerStartError).exit?.signal, step).toBe('SIGKILL');
            expect(isAlive(stoppedPid!), step).toBe(false);
          }
          expect(processesMentioning(dbPath), step).toEqual([]);
        }
      });
      expect(leftovers).toEqual([]);
    }, 120_000);

    it('startTimeoutMs 1 rejects with ServerStartError, leaving no process and no socket directory', async () => {
      const dbPath = join(freshDir(), 'one-ms');
      let error: unknown;
      const leftovers = await withOwnTmpdir(async () => {
        error = await newServer(dbPath, { startTimeoutMs: 1 }).start().catch((e: unknown) => e);
        // A socket directory still being made when the deadline passed is removed once it is made.
        await expect.poll(() => readdirSync(tmpdir()), { timeout: 2000, interval: 10 }).toEqual([]);
      });
      expect(error).toBeInstanceOf(ServerStartError);
      expect((error as Error).message).toContain('did not start within 1 ms');
      expect(processesMentioning(dbPath)).toEqual([]);
      expect(leftovers).toEqual([]);
    });

    it('a caller abort during a stalled step ends the start at once, with the caller\'s reason', async () => {
      const dbPath = join(freshDir(), 'aborted');
      mkdirSync(dbPath);
      const controller = new AbortController();
      const server = newServer(dbPath, {
        onStartStep: (step, info) => {
          if (step === 'first-line') {
            process.kill(info.pid!, 'SIGSTOP');
            controller.abort(new Error('gave up'));
          }
        },
      });
      await expect(server.start({ signal: controller.signal })).rejects.toThrow('gave up');
      await expect.poll(() => processesMentioning(dbPath), { timeout: 10_000 }).toEqual([]);
    });
  });
});
