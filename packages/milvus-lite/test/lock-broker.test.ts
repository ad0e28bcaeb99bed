// LockBroker on its own, against the real interpreter of the native engine (its Python, its fcntl
// locks): what each reply becomes, and that the broker keeps Node alive only while a reply is awaited.
// The engines' use of it is tested with real servers in faults.test.ts and the e2e suites.
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockBroker, LockBusyError } from '../src/lock-broker.js';
import { installationOf, interopPython } from './support/installations.js';
import { holdElsewhere } from './support/processes.js';
import { freshDirs } from './support/scratch-dirs.js';

const installation = installationOf('native');
const freshDir = freshDirs('lh-broker-');

/** Live child processes and pipes that keep Node's event loop alive. */
const keptAlive = (): number => process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap' || r === 'PipeWrap').length;

describe.skipIf(installation === undefined)('LockBroker, real interpreter', () => {
  // TODO(lock branch): this file goes with the Python lock broker.
  const brokerPython = installation?.python ?? interopPython()!;
  const broker = (): LockBroker => LockBroker.for(brokerPython);

  it('is one broker per interpreter, and one process for every lock', async () => {
    expect(LockBroker.for(brokerPython)).toBe(LockBroker.for(brokerPython));
    const dir = freshDir();
    const first = await broker().lock(join(dir, 'a.lock'));
    const pid = broker().pid;
    const second = await broker().lock(join(dir, 'b.lock'));
    expect(pid).toBeGreaterThan(0);
    expect(broker().pid).toBe(pid);
    expect(second).not.toBe(first);
    await broker().unlock(first);
    await broker().unlock(second);
  });

  it('has no pid before its first call: the process starts on first use', () => {
    expect(LockBroker.for(join(freshDir(), 'never-used-python')).pid).toBeUndefined();
  });

  it('calls in flight at once each get their own reply: refs are distinct and every lock is held', async () => {
    const dir = freshDir();
    const [a, , , b] = await Promise.all([
      broker().lock(join(dir, 'a.lock')),
      broker().unlock(-1),
      broker().clean(join(dir, 'c.lock')),
      broker().lock(join(dir, 'b.lock')),
    ]);
    expect(a).not.toBe(b);
    for (const name of ['a.lock', 'b.lock']) await expect(broker().lock(join(dir, name))).rejects.toBeInstanceOf(LockBusyError);
    await broker().unlock(a);
    await broker().unlock(b);
  });

  it('an interpreter that cannot run the helper: the call rejects with its exit code and what it printed', async () => {
    // sh refuses python's options (-I or -S): it prints why on stderr and exits 2.
    const error = await LockBroker.for('/bin/sh').lock(join(freshDir(), 'a.lock')).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^the lock helper \(\/bin\/sh\) exited: code 2: \S[^]*option/i);
    expect((error as Error).message).not.toMatch(/\s$/);
  });

  it('a lock held by another process: LockBusyError naming the path and the holder pid; free again once it lets go', async () => {
    const path = join(freshDir(), '.app.db.lock');
    const holder = await holdElsewhere(brokerPython, path);
    const error = await broker().lock(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockBusyError);
    expect((error as LockBusyError).holderPid).toBe(holder.pid);
    expect((error as Error).name).toBe('LockBusyError');
    expect((error as Error).message).toBe(`${path} is locked by another process (pid ${holder.pid})`);
    await holder.release();
    const ref = await broker().lock(path);
    await broker().unlock(ref);
  });

  it('a lock this broker holds already: LockBusyError with no holder pid, and the held lock is kept', async () => {
    const path = join(freshDir(), '.app.db.lock');
    const ref = await broker().lock(path);
    const error = await broker().lock(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockBusyError);
    expect((error as LockBusyError).holderPid).toBeUndefined();
    expect((error as Error).message).toBe(`${path} is locked by another process`);
    // Still held: another process cannot take it (a second open and close would have dropped it).
    const other = await execa(brokerPython, ['-I', '-S', '-c', 'import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_WRONLY)\ntry:\n  fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n  print("taken")\nexcept OSError:\n  print("busy")\n', path]);
    expect(other.stdout).toBe('busy');
    await broker().unlock(ref);
    const again = await broker().lock(path);
    await broker().unlock(again);
  });

  it('unlock lets go: another process can take the lock at once', async () => {
    const path = join(freshDir(), '.app.db.lock');
    const ref = await broker().lock(path);
    await broker().unlock(ref);
    const holder = await holdElsewhere(brokerPython, path);
    await holder.release();
  });

  it('a symbolic link is refused and never followed, with a message naming the path', async () => {
    const dir = freshDir();
    const target = join(dir, 'target');
    const path = join(dir, '.app.db.lock');
    symlinkSync(target, path);
    const error = await broker().lock(path).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(LockBusyError);
    expect((error as Error).message).toBe(`cannot lock ${path}: it is a symbolic link, which is never followed (remove it if you did not put it there)`);
    expect((error as { code?: string }).code).toBe('ELOOP');
    expect(existsSync(target)).toBe(false);
  });

  it('a FIFO is refused at once, with or without a reader, and the broker goes on answering (its open would have blocked every later request)', async () => {
    const dir = freshDir();
    const path = join(dir, '.app.db.lock');
    expect(spawnSync('mkfifo', [path]).status).toBe(0);
    const expected = `cannot lock ${path}: it is not a regular file (a FIFO, a socket or a device), which is never locked (remove it if you did not put it there)`;
    const alone = await broker().lock(path).catch((e: unknown) => e);
    expect(alone).not.toBeInstanceOf(LockBusyError);
    expect((alone as Error).message).toBe(expected);
    expect((alone as { code?: string }).code).toBe('EINVAL');
    // With a reader, the open succeeds, and the file's type refuses it.
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const read = await broker().lock(path).catch((e: unknown) => e);
      expect((read as Error).message).toBe(expected);
    } finally {
      closeSync(reader);
    }
    expect(lstatSync(path).isFIFO()).toBe(true);
    const ref = await broker().lock(join(dir, '.other.db.lock'));
    await broker().unlock(ref);
  });

  it('a lock file this user cannot write is a permission error saying so, not "in use" (fcntl\'s EACCES is busy; open\'s is not)', async () => {
    const dir = freshDir();
    const path = join(dir, '.app.db.lock');
    writeFileSync(path, '');
    let lockBroker = broker();
    if (process.getuid?.() === 0) {
      // root writes anything: the broker runs as nobody instead, through an interpreter that drops to it first (exec, no shell).
      // The system's python3, which nobody can run (the cache venv lives under root's 0700 home).
      chmodSync(dirname(dir), 0o755);
      chmodSync(dir, 0o755);
      const asNobody = join(dir, 'python-as-nobody');
      writeFileSync(asNobody, '#!/usr/bin/python3\nimport os, sys\nos.setgroups([])\nos.setgid(65534)\nos.setuid(65534)\nos.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv[1:])\n', { mode: 0o755 });
      lockBroker = LockBroker.for(asNobody);
    } else chmodSync(path, 0o444);
    const expected = `cannot lock ${path}: permission denied: it cannot be opened for writing, or made in its directory (make it writable by this user, or remove it if you did not put it there)`;
    const error = await lockBroker.lock(path).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(LockBusyError);
    expect((error as Error).message).toBe(expected);
    expect((error as { code?: string }).code).toBe('EPERM');
    // A lock file that does not exist, in a directory this user cannot write: the same.
    const missing = join(dir, '.new.db.lock');
    if (process.getuid?.() !== 0) chmodSync(dir, 0o555);
    try {
      const made = await lockBroker.lock(missing).catch((e: unknown) => e);
      expect((made as Error).message).toBe(expected.replace(path, missing));
    } finally {
      chmodSync(dir, 0o755);
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('any other failure: its errno code and message, naming the path', async () => {
    const dir = freshDir();
    const path = join(dir, 'no-such-dir', '.app.db.lock');
    const error = await broker().lock(path).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(LockBusyError);
    expect((error as { code?: string }).code).toBe('ENOENT');
    expect((error as Error).message).toMatch(new RegExp(`^cannot lock ${path.replaceAll('.', '\\.')}: ENOENT \\[Errno 2\\] No such file or directory`));
    const aDir = join(dir, 'a-directory');
    mkdirSync(aDir);
    const notFile = await broker().lock(aDir).catch((e: unknown) => e);
    expect((notFile as { code?: string }).code).toBe('EISDIR');
    expect((notFile as Error).message).toBe(`cannot lock ${aDir}: it is a directory, where the lock file goes (remove it if you did not put it there)`);
  });

  it('clean removes a free lock file, and keeps one that is held', async () => {
    const dir = freshDir();
    const free = join(dir, '.free.db.lock');
    writeFileSync(free, '');
    await broker().clean(free);
    expect(existsSync(free)).toBe(false);
    const held = join(dir, '.held.db.lock');
    const holder = await holdElsewhere(brokerPython, held);
    await broker().clean(held);
    expect(existsSync(held)).toBe(true);
    await holder.release();
    // A missing file is no error: clean resolves and makes nothing.
    await broker().clean(join(dir, '.missing.db.lock'));
    expect(existsSync(join(dir, '.missing.db.lock'))).toBe(false);
  });

  it('keeps Node alive only while a reply is awaited', async () => {
    const dir = freshDir();
    // The broker is up (earlier tests, or this lock); at rest it holds no reference.
    await broker().unlock(await broker().lock(join(dir, 'warm.lock')));
    const atRest = keptAlive();
    const locking = broker().lock(join(dir, 'a.lock'));
    expect(keptAlive()).toBeGreaterThan(atRest);
    const ref = await locking;
    expect(keptAlive()).toBe(atRest);
    await broker().unlock(ref);
    expect(keptAlive()).toBe(atRest);
  });

  it('the broker killed: pending calls reject naming the helper and its signal; the next call starts a new one', async () => {
    const dir = freshDir();
    // A broker of its own (another spelling of the interpreter), made in this test.
    const python = join(dir, 'python');
    symlinkSync(brokerPython, python);
    const broker = (): LockBroker => LockBroker.for(python);
    const ref = await broker().lock(join(dir, 'a.lock'));
    const pid = broker().pid!;
    // SIGSTOP first, so the lock below is certainly pending when the broker dies.
    process.kill(pid, 'SIGSTOP');
    const pending = broker().lock(join(dir, 'b.lock')).catch((e: unknown) => e);
    process.kill(pid, 'SIGKILL');
    const error = await pending;
    expect((error as Error).message).toBe(`the lock helper (${python}) exited: SIGKILL`);
    await broker().unlock(ref); // the old ref is gone with its broker: no error
    const fresh = await broker().lock(join(dir, 'a.lock'));
    expect(broker().pid).not.toBe(pid);
    await broker().unlock(fresh);
  });
});
