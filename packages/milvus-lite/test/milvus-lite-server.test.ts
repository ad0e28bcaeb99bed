import { rmSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatabaseReplacedError, MilvusLiteError, MilvusLiteServer, ServerExitedError, type StartStep } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { isAlive } from './support/processes.js';
import { freshDirs } from './support/scratch-dirs.js';
import { eventually } from './support/share-processes.js';

// MilvusLiteServer on its own (no pool), against the real native server: what api.test.ts does not
// cover of its contract: the argument checks, a remote target, the lost event, the identity check,
// the steps a start announces, and a stop's answers.
describe('MilvusLiteServer: argument checks, before anything starts', () => {
  it('pathOrUri must be a non-empty string: a TypeError that shows what was given', () => {
    expect(() => new MilvusLiteServer('')).toThrow(new TypeError('pathOrUri must be a non-empty string, got ""'));
    expect(() => new MilvusLiteServer(7 as unknown as string)).toThrow(new TypeError('pathOrUri must be a non-empty string, got 7'));
  });

  it('startTimeoutMs and stopTimeoutMs must be numbers ≥ 0; 0 is allowed', () => {
    for (const name of ['startTimeoutMs', 'stopTimeoutMs'] as const) {
      expect(() => new MilvusLiteServer('x.db', { [name]: -1 })).toThrow(new RangeError(`${name} must be a number ≥ 0, got -1`));
      expect(() => new MilvusLiteServer('x.db', { [name]: Number.NaN })).toThrow(new RangeError(`${name} must be a number ≥ 0, got NaN`));
      expect(() => new MilvusLiteServer('x.db', { [name]: '5' as unknown as number })).toThrow(RangeError);
      expect(() => new MilvusLiteServer('x.db', { [name]: 0 })).not.toThrow();
    }
  });

  it('port must be an integer from 1 to 65535: both ends are allowed', () => {
    for (const port of [0, 65536, 1.5, -3]) expect(() => new MilvusLiteServer('x', { port })).toThrow(new RangeError(`port must be an integer from 1 to 65535, got ${port}`));
    for (const port of [1, 65535]) expect(() => new MilvusLiteServer('x', { port })).not.toThrow();
  });

  it('a local path before start: no engine, dbPath or pid yet; uri and exited refuse, naming the target', () => {
    const server = new MilvusLiteServer('./later.db');
    expect([server.target, server.engine, server.dbPath, server.pid]).toEqual(['./later.db', undefined, null, null]);
    expect(() => server.uri).toThrow(new MilvusLiteError('the server of ./later.db is not running; await start() first'));
    expect(() => server.exited).toThrow(new MilvusLiteError('the server of ./later.db has not started'));
    expect(server.verifyDatabase()).toBe(true);
  });

  it('a remote URI is known as remote at once, its uri is the URI itself, and it has no pid or path', async () => {
    const server = new MilvusLiteServer('http://127.0.0.1:1');
    expect([server.engine, server.uri, server.pid, server.dbPath]).toEqual(['remote', 'http://127.0.0.1:1', null, null]);
    // Nothing listens on port 1: the start is a RemoteUnreachableError within startTimeoutMs.
    const started = Date.now();
    await expect(new MilvusLiteServer('http://127.0.0.1:1', { startTimeoutMs: 300 }).start()).rejects.toMatchObject({ name: 'RemoteUnreachableError' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await server.stop()).toBeUndefined();
  });

  it('a stop before any start resolves undefined, and a start after it is refused', async () => {
    const server = new MilvusLiteServer('never.db');
    expect(await server.stop()).toBeUndefined();
    await expect(server.start()).rejects.toThrow(new MilvusLiteError('the server of never.db was stopped; create a new MilvusLiteServer'));
  });
});

const installation = installationOf('native');

describe.skipIf(installation === undefined)('MilvusLiteServer with the real native server', () => {
  const freshDir = freshDirs('lh-mls-');

  it('a relative path through a symbolic link: dbPath is the real absolute path; start() twice is one start; the steps are announced in order, with the pid and uri', async () => {
    const dir = freshDir();
    symlinkSync(dir, join(dir, 'link'));
    const steps: { step: StartStep; pid?: number | undefined; uri?: string | undefined }[] = [];
    const server = new MilvusLiteServer(relative(process.cwd(), join(dir, 'link', 'a.db')), {
      installation: installation!,
      onStartStep: (step, info) => void steps.push({ step, ...info }),
    });
    const first = server.start();
    expect(server.start()).toBe(first);
    await first;
    expect(server.dbPath).toBe(join(dir, 'a.db'));
    expect(server.engine).toBe('native');
    // Exactly what is known at each step: no pid before the process, no uri before its socket directory (no key set to undefined either).
    expect(steps).toStrictEqual([{ step: 'lock' }, { step: 'socket-dir' }, { step: 'spawn', uri: server.uri }, { step: 'ready', pid: server.pid, uri: server.uri }]);
    await server.stop();
  });

  it('a server that dies is lost once, with a ServerExitedError; a listener added later hears it at once; a removed one never does', async () => {
    await using server = await new MilvusLiteServer(join(freshDir(), 'dies.db'), { installation: installation! }).start();
    const heard: MilvusLiteError[] = [];
    const removedHeard: MilvusLiteError[] = [];
    server.onLost((reason) => heard.push(reason));
    const off = server.onLost((reason) => removedHeard.push(reason));
    expect(off()).toBe(true);
    process.kill(server.pid!, 'SIGKILL');
    const exit = await server.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(heard).toHaveLength(1);
    expect(heard[0]).toBeInstanceOf(ServerExitedError);
    expect(heard[0]!.message).toContain(server.dbPath!);
    expect(removedHeard).toEqual([]);
    const late: MilvusLiteError[] = [];
    server.onLost((reason) => late.push(reason));
    expect(late).toEqual([heard[0]]);
    // An exit does not stop it by itself (its owner, the pool, does): the start is still the one that was made.
    await expect(server.start()).resolves.toBe(server);
  });

  it('a stopped server is never lost: stop() resolves a graceful exit (code 0), the same on a second call, and no listener hears it', async () => {
    const server = await new MilvusLiteServer(join(freshDir(), 'stops.db'), { installation: installation! }).start();
    const heard: unknown[] = [];
    server.onLost((reason) => heard.push(reason));
    const exit = await server.stop();
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(await server.stop()).toEqual(exit);
    expect(await server.exited).toEqual(exit);
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toEqual([]);
    expect(isAlive(server.pid!)).toBe(false);
  });

  it('verifyDatabase: true while the file is there; once it is deleted, false, lost with a DatabaseReplacedError, and the server stopped', async () => {
    const dbPath = join(freshDir(), 'verify.db');
    const server = await new MilvusLiteServer(dbPath, { installation: installation! }).start();
    expect(server.verifyDatabase()).toBe(true);
    const heard: MilvusLiteError[] = [];
    server.onLost((reason) => heard.push(reason));
    rmSync(dbPath);
    expect(server.verifyDatabase()).toBe(false);
    expect(heard).toHaveLength(1);
    expect(heard[0]).toBeInstanceOf(DatabaseReplacedError);
    expect(heard[0]!.message).toContain(dbPath);
    expect(await eventually(() => !isAlive(server.pid!), 10_000)).toBe(true);
    // Lost once only, however it is noticed again, and the stop's exit is not a second loss: a
    // listener added now hears the deletion, not the exit that followed it.
    server.verifyDatabase();
    expect(heard).toHaveLength(1);
    const late: MilvusLiteError[] = [];
    server.onLost((reason) => late.push(reason));
    expect(late).toEqual([heard[0]]);
    await server.stop();
  });

  it('await using stops it', async () => {
    let pid = 0;
    {
      await using server = await new MilvusLiteServer(join(freshDir(), 'using.db'), { installation: installation! }).start();
      pid = server.pid!;
      expect(isAlive(pid)).toBe(true);
    }
    expect(isAlive(pid)).toBe(false);
  });
});
