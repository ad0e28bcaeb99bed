// LockFile on its own: the OFD lock on milvus-lite's lock file, held from Node, against Python's
// fcntl.lockf (what milvus-lite's ServerManager takes) and other Node processes; who holds it; the
// refusals; and that the lock never rests on the file staying at its path (issue 21's first kind).
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readlinkSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { LockBusyError, LockFile, LockFileError, lockAddonLoadedBy } from '../src/server/lock-file.js';
import { interopPython } from './support/interop-python.js';
import { holdElsewhere, holdFromNode } from './support/processes.js';
import { freshDirs } from './support/scratch-dirs.js';

const python = interopPython();
const freshDir = freshDirs('lh-lockfile-');

/** Python's fcntl.lockf on `path` (no create), once: 'taken' or 'busy'. */
async function pythonTries(path: string): Promise<string> {
  const script = 'import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)\ntry:\n  fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n  print("taken")\nexcept OSError:\n  print("busy")\n';
  return (await execa(python!, ['-I', '-S', '-c', script, path])).stdout;
}

describe('the lock\'s addon, fs-native-extensions', () => {
  it('1.5.1 (the version installed) is loaded from its prebuild, without the package\'s loader, and its locks and the package\'s exclude each other both ways', () => {
    const dir = freshDir();
    const lock = LockFile.take(join(dir, '.a.db.lock'));
    try {
      // Another version would go through the package (a failing test here asks for a look at its index.js).
      expect(lockAddonLoadedBy()).toBe('direct');
      const pkg = createRequire(import.meta.url)('fs-native-extensions') as { tryLock(fd: number): boolean; unlock(fd: number): void };
      const other = openSync(join(dir, '.a.db.lock'), 'r+');
      try {
        expect(pkg.tryLock(other)).toBe(false);
        lock.release();
        expect(pkg.tryLock(other)).toBe(true);
        expect(() => LockFile.take(join(dir, '.a.db.lock'))).toThrow(LockBusyError);
      } finally {
        closeSync(other);
      }
      LockFile.take(join(dir, '.a.db.lock')).release();
    } finally {
      lock.release();
    }
  });
});

describe.skipIf(python === undefined)('LockFile: an OFD lock held from Node', () => {
  it('excludes Python\'s fcntl.lockf both ways, and release lets go at once', async () => {
    const path = join(freshDir(), '.app.db.lock');
    const lock = LockFile.take(path);
    expect(await pythonTries(path)).toBe('busy');
    lock.release();
    lock.release(); // idempotent
    expect(await pythonTries(path)).toBe('taken');
    const holder = await holdElsewhere(python!, path);
    try {
      const error = (() => {
        try {
          return LockFile.take(path);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(LockBusyError);
      expect((error as LockBusyError).holder).toEqual({ kind: 'python', pid: holder.pid });
      expect((error as LockBusyError).holderPid).toBe(holder.pid);
      expect((error as Error).message).toBe(`${path} is locked by a Python milvus-lite (pid ${holder.pid}: its ServerManager, or pymilvus's MilvusClient)`);
    } finally {
      await holder.release();
    }
  });

  it('closing another descriptor of the file in this process does not drop the lock (a classic fcntl lock would be: fslock#6)', async () => {
    const path = join(freshDir(), '.app.db.lock');
    const lock = LockFile.take(path);
    closeSync(openSync(path, 'r'));
    expect(await pythonTries(path)).toBe('busy');
    lock.release();
  });

  it('a second take in this process is busy, and says "this process"; the first stays held', async () => {
    const path = join(freshDir(), '.app.db.lock');
    const lock = LockFile.take(path);
    expect(() => LockFile.take(path)).toThrow(new LockBusyError(path, { kind: 'this-process' }));
    expect(await pythonTries(path)).toBe('busy');
    lock.release();
  });

  it('the holder found from /proc/*/fdinfo (an OFD lock shows pid -1 in /proc/locks): another leasehold process, with its pid', async () => {
    const path = join(freshDir(), '.app.db.lock');
    const holder = await holdFromNode(path);
    try {
      let error: unknown;
      try {
        LockFile.take(path);
      } catch (e) {
        error = e;
      }
      expect((error as LockBusyError).holder).toEqual({ kind: 'leasehold', pid: holder.pid, shared: false });
      expect((error as Error).message).toBe(`${path} is locked by another leasehold process of this user (pid ${holder.pid})`);
    } finally {
      await holder.release();
    }
  });

  it('pathForServer is /proc/<pid>/fd/<n>: the locked file whatever is at the path later', () => {
    const dir = freshDir();
    const path = join(dir, '.app.db.lock');
    const lock = LockFile.take(path);
    expect(lock.pathForServer).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
    unlinkSync(path);
    writeFileSync(path, '');
    expect(statSync(lock.pathForServer).ino).toBe(Number(lock.id.ino));
    expect(statSync(path).ino).not.toBe(Number(lock.id.ino));
    expect(readlinkSync(lock.pathForServer)).toBe(`${path} (deleted)`);
    lock.release();
  });

  it('the file deleted or replaced between the open and the lock: take locks the file at the path, not the old one', async () => {
    const dir = freshDir();
    const path = join(dir, '.app.db.lock');
    writeFileSync(path, '');
    const events: string[] = [];
    const lock = LockFile.take(path, {
      afterOpen: () => {
        if (events.length > 0) return;
        events.push('replaced');
        writeFileSync(join(dir, 'new'), '');
        renameSync(join(dir, 'new'), path);
      },
    });
    expect(lock.id.ino).toBe(BigInt(statSync(path).ino));
    expect(await pythonTries(path)).toBe('busy');
    lock.release();
    expect(events).toEqual(['replaced']);
  });

  it('a holder whose file was deleted does not block: the file at the path is locked (its holder has an orphan)', async () => {
    const path = join(freshDir(), '.app.db.lock');
    const holder = await holdElsewhere(python!, path);
    try {
      unlinkSync(path);
      const lock = LockFile.take(path);
      lock.release();
    } finally {
      await holder.release();
    }
  });

  describe('guard: the lock never rests on the file staying at its path', () => {
    it('deleted (as Python\'s refused start does): made again and locked, so Python 1 s later is refused', async () => {
      const path = join(freshDir(), '.app.db.lock');
      const lock = LockFile.take(path);
      const foreign: LockBusyError[] = [];
      lock.guard((e) => foreign.push(e));
      unlinkSync(path);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(existsSync(path)).toBe(true);
      expect(await pythonTries(path)).toBe('busy');
      expect(foreign).toEqual([]);
      lock.release();
      expect(await pythonTries(path)).toBe('taken');
    });

    it('replaced by another file (a clean-up script, a rename): that one is locked too', async () => {
      const dir = freshDir();
      const path = join(dir, '.app.db.lock');
      const lock = LockFile.take(path);
      lock.guard(() => {});
      writeFileSync(join(dir, 'other'), '');
      renameSync(join(dir, 'other'), path);
      await expect.poll(() => pythonTries(path), { timeout: 3000, interval: 100 }).toBe('busy');
      lock.release();
    });

    it('a foreign holder got the new file first: onForeign names it (once)', async () => {
      const path = join(freshDir(), '.app.db.lock');
      const lock = LockFile.take(path);
      const foreign: LockBusyError[] = [];
      lock.guard((e) => foreign.push(e));
      // Python locks a new file and renames it over the lock file: the guard finds it held already.
      const script = 'import fcntl, os, sys\nfd = os.open(sys.argv[1] + ".new", os.O_WRONLY | os.O_CREAT, 0o644)\nfcntl.lockf(fd, fcntl.LOCK_EX)\nos.rename(sys.argv[1] + ".new", sys.argv[1])\nprint("held", flush=True)\nsys.stdin.read()\n';
      const child = execa(python!, ['-I', '-S', '-c', script, path], { stdin: 'pipe', stdout: 'pipe', buffer: false, reject: false });
      try {
        await expect.poll(() => foreign.length, { timeout: 3000, interval: 20 }).toBe(1);
        expect(foreign[0]!.holder).toEqual({ kind: 'python', pid: child.pid });
        await new Promise((resolve) => setTimeout(resolve, 600));
        expect(foreign).toHaveLength(1);
      } finally {
        child.stdin.end();
        await child;
        lock.release();
      }
    });
  });

  describe('refused lock files: the same messages and codes as before', () => {
    const refusal = (path: string): LockFileError => {
      try {
        LockFile.take(path).release();
      } catch (error) {
        return error as LockFileError;
      }
      throw new Error('taken');
    };

    it('a symbolic link: never followed', () => {
      const dir = freshDir();
      const path = join(dir, '.app.db.lock');
      symlinkSync(join(dir, 'target'), path);
      const error = refusal(path);
      expect(error.message).toBe(`cannot lock ${path}: it is a symbolic link, which is never followed (remove it if you did not put it there)`);
      expect(error.code).toBe('ELOOP');
      expect(existsSync(join(dir, 'target'))).toBe(false);
    });

    it('a FIFO, with or without a reader: never blocks, never locked', () => {
      const path = join(freshDir(), '.app.db.lock');
      expect(spawnSync('mkfifo', [path]).status).toBe(0);
      const expected = `cannot lock ${path}: it is not a regular file (a FIFO, a socket or a device), which is never locked (remove it if you did not put it there)`;
      expect(refusal(path).message).toBe(expected);
      expect(refusal(path).code).toBe('EINVAL');
      const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        expect(refusal(path).message).toBe(expected);
      } finally {
        closeSync(reader);
      }
      expect(lstatSync(path).isFIFO()).toBe(true);
    });

    it('a directory, and a missing directory', () => {
      const dir = freshDir();
      mkdirSync(join(dir, 'd'));
      expect(refusal(join(dir, 'd')).message).toBe(`cannot lock ${join(dir, 'd')}: it is a directory, where the lock file goes (remove it if you did not put it there)`);
      expect(refusal(join(dir, 'd')).code).toBe('EISDIR');
      const missing = join(dir, 'no-such-dir', '.app.db.lock');
      expect(refusal(missing).code).toBe('ENOENT');
      expect(refusal(missing).message).toMatch(new RegExp(`^cannot lock ${missing.replaceAll('.', '\\.')}: ENOENT no such file or directory`));
    });

    it('a lock file this user cannot write, or cannot make: a permission error, not "in use" (root drops CAP_DAC_OVERRIDE with setpriv)', async () => {
      const dir = freshDir();
      const path = join(dir, '.app.db.lock');
      writeFileSync(path, '');
      chmodSync(path, 0o444);
      const script = `import { LockFile } from ${JSON.stringify(new URL('../dist/server/lock-file.js', import.meta.url).href)};\nfor (const p of process.argv.slice(1)) { try { LockFile.take(p); console.log('taken'); } catch (e) { console.log(e.code + ' ' + e.message); } }\n`;
      const asRoot = process.getuid?.() === 0;
      chmodSync(dir, 0o555);
      try {
        const run = asRoot
          ? await execa('setpriv', ['--bounding-set', '-dac_override,-dac_read_search', '--inh-caps', '-dac_override,-dac_read_search', process.execPath, '--input-type=module', '-e', script, path, join(dir, '.new.db.lock')])
          : await execa(process.execPath, ['--input-type=module', '-e', script, path, join(dir, '.new.db.lock')]);
        const expected = (p: string) => `EPERM cannot lock ${p}: permission denied: it cannot be opened for writing, or made in its directory (make it writable by this user, or remove it if you did not put it there)`;
        expect(run.stdout.split('\n')).toEqual([expected(path), expected(join(dir, '.new.db.lock'))]);
      } finally {
        chmodSync(dir, 0o755);
      }
      expect(existsSync(join(dir, '.new.db.lock'))).toBe(false);
    });
  });
});
