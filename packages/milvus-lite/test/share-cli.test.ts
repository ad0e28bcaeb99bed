import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { installationOf } from './support/installations.js';
import { isAlive } from './support/processes.js';
import { eventually, milvusServersOf, shareScratch } from './support/share-processes.js';

const cli = fileURLToPath(new URL('../../../node_modules/.bin/leasehold-milvus', import.meta.url));
const installation = installationOf('native');

describe.skipIf(installation === undefined)('leasehold-milvus status, stop and serve --share (real processes, native 2.5.1)', () => {
  const scratch = shareScratch('lh-share-cli-');
  const inst = installation!;
  const run = (args: string[]) => execa(cli, args, { reject: false, env: { ...scratch.env, MILVUS_LITE_PYTHON: inst.python }, timeout: 120_000 });

  it('status lists the database, supervisor and server pids, attached processes and idle time; stop revokes every lease', async () => {
    const db = scratch.db();
    const a = scratch.client(db, inst, { idleTimeoutMs: 60_000 });
    const b = scratch.client(db, inst);
    const { pid, supervisorPid } = await a.ok('acquire', { name: 'l' });
    await b.ok('acquire', { name: 'l' });
    const listed = await run(['status', '--json']);
    expect(listed.exitCode).toBe(0);
    const [status] = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(status).toMatchObject({ dbPath: db, serverPid: pid, supervisorPid, state: 'ready', idleMs: null, idleTimeoutMs: 60_000 });
    expect(new Set(status!['clients'] as number[])).toEqual(new Set([a.pid, b.pid]));
    const human = await run(['status']);
    expect(human.stdout).toContain(db);
    expect(human.stdout).toContain(`supervisor pid ${String(supervisorPid)}`);
    expect(human.stdout).toContain(`attached: pid`);

    const stopped = await run(['stop', db]);
    expect(stopped.exitCode).toBe(0);
    expect(await eventually(() => [a, b].every((c) => c.events.some((e) => e.event === 'revoked')), 2000)).toBe(true);
    expect(String(a.events.find((e) => e.event === 'revoked')!['message'])).toMatch(/leasehold-milvus stop/);
    // The server is stopped before stop answers; the supervisor exits right after.
    expect(isAlive(pid as number)).toBe(false);
    expect(await eventually(() => !isAlive(supervisorPid as number), 2000)).toBe(true);
    expect((await run(['status', '--json'])).stdout.trim()).toBe('[]');
    expect((await run(['stop', db])).exitCode).toBe(1);
  });

  it('serve --share attaches to the server a share: true process started, and leaves it running for it', async () => {
    const db = scratch.db();
    const a = scratch.client(db, inst);
    const { pid } = await a.ok('acquire', { name: 'l' });
    const serve = execa(cli, ['serve', db, '--share', '--json'], { reject: false, env: { ...scratch.env, MILVUS_LITE_PYTHON: inst.python } });
    const line = await new Promise<string>((resolve) => serve.stdout!.once('data', (chunk: Buffer) => resolve(String(chunk))));
    expect((JSON.parse(line) as { pid: number }).pid).toBe(pid);
    serve.kill('SIGINT');
    expect((await serve).exitCode).toBe(0);
    expect(milvusServersOf(db)).toEqual([pid]);
    await a.ok('release', { name: 'l' });
  });

  it('serve --share stopped by `leasehold-milvus stop` says so and exits 0, as Ctrl-C does; a server that dies under it is exit 1', async () => {
    const db = scratch.db();
    const serve = execa(cli, ['serve', db, '--share', '--json'], { reject: false, env: { ...scratch.env, MILVUS_LITE_PYTHON: inst.python } });
    const line = await new Promise<string>((resolve) => serve.stdout!.once('data', (chunk: Buffer) => resolve(String(chunk))));
    const { pid } = JSON.parse(line) as { pid: number };
    expect((await run(['stop', db])).exitCode).toBe(0);
    const stopped = await serve;
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stderr).toMatch(/^the shared server of .*\.db was stopped by process \d+ \(leasehold-milvus stop\)$/m);
    expect(stopped.stderr).not.toMatch(/leasehold-milvus:|next acquire/);
    expect(isAlive(pid)).toBe(false);

    const again = execa(cli, ['serve', db, '--share', '--json'], { reject: false, env: { ...scratch.env, MILVUS_LITE_PYTHON: inst.python } });
    const second = JSON.parse(await new Promise<string>((resolve) => again.stdout!.once('data', (chunk: Buffer) => resolve(String(chunk))))) as { pid: number };
    process.kill(second.pid, 'SIGKILL');
    expect((await again).exitCode).toBe(1);
  });
});
