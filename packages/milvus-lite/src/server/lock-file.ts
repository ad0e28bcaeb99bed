import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readFileSync, watch, type BigIntStats, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { describeHolder, findLockHolder, type LockHolder } from './lock-holder.js';

/**
 * milvus-lite's lock, held from Node: an OFD lock (`F_OFD_SETLK`, whole file, through the N-API
 * package fs-native-extensions) on `<dir>/.<name>.lock`. It excludes the binary's classic fcntl
 * lock and Python's `fcntl.lockf` both ways, it dies with this process (so a SIGKILLed owner takes
 * its server down), and, unlike a classic lock, closing another descriptor of the file does not
 * drop it (fslock#6). On macOS the package takes `flock()` instead (not verified against the
 * binary's fcntl lock there).
 *
 * Exclusion never rests on the file staying at its path (Python's milvus-lite deletes it after a
 * refused start): a lock is kept only once the locked descriptor is the file at the path (device
 * and inode), and `guard` re-makes and re-locks the file when it goes.
 */

/** What a refused lock file is, and what to do, by error code (others: the code and the OS message). */
const kLockProblems: Readonly<Record<string, string>> = {
  ELOOP: 'it is a symbolic link, which is never followed (remove it if you did not put it there)',
  EINVAL: 'it is not a regular file (a FIFO, a socket or a device), which is never locked (remove it if you did not put it there)',
  EISDIR: 'it is a directory, where the lock file goes (remove it if you did not put it there)',
  EPERM: 'permission denied: it cannot be opened for writing, or made in its directory (make it writable by this user, or remove it if you did not put it there)',
};

/** The part of fs-native-extensions (N-API, prebuilt; no types of its own) used here, loaded on first use. */
interface NativeLocks {
  /** An exclusive lock on the whole file without waiting: OFD lock on Linux, flock on macOS; false when held elsewhere. */
  tryLock(fd: number): boolean;
}
let nativeLocks: NativeLocks | undefined;

/** The version of fs-native-extensions whose addon `directLocks` loads itself (its index.js read for it). */
const kDirectVersion = '1.5.1';

/**
 * fs-native-extensions 1.5.1's addon, loaded from its prebuilds/ without the package's loader
 * (require-addon and five bare-* modules: ~12 ms of a cold start, against ~2 ms for the addon
 * itself), and wrapped as its index.js wraps it (`tryLock`: the addon throws EAGAIN when the lock is
 * held elsewhere; the package answers false). Undefined for any other version, or a platform
 * without a prebuild there: the package's own loader then.
 */
function directLocks(require: NodeJS.Require): NativeLocks | undefined {
  let dir: string;
  try {
    const manifest = require.resolve('fs-native-extensions/package.json');
    if ((JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version !== kDirectVersion) return undefined;
    dir = dirname(manifest);
  } catch {
    return undefined;
  }
  const addon = join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'fs-native-extensions.node');
  if (!existsSync(addon)) return undefined;
  const binding = require(addon) as { tryLock(fd: number, offset: number, length: number, exclusive: boolean): void };
  return {
    tryLock(fd: number): boolean {
      try {
        binding.tryLock(fd, 0, 0, true);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return false;
        throw error;
      }
    },
  };
}

let addonLoadedBy: 'direct' | 'package' | undefined;

/** @internal How the lock's addon was loaded: by `directLocks`, or by the package; undefined before the first lock. For tests. */
export function lockAddonLoadedBy(): 'direct' | 'package' | undefined {
  return addonLoadedBy;
}

/** @throws Error saying what to do when the addon cannot be loaded (Node's permission model, no prebuilt addon for this platform). */
function fsx(): NativeLocks {
  if (nativeLocks !== undefined) return nativeLocks;
  try {
    const require = createRequire(import.meta.url);
    const direct = directLocks(require);
    addonLoadedBy = direct === undefined ? 'package' : 'direct';
    return (nativeLocks = direct ?? (require('fs-native-extensions') as NativeLocks));
  } catch (error) {
    const fix =
      (process as { permission?: unknown }).permission === undefined
        ? `reinstall @leasehold/milvus-lite; fs-native-extensions ships prebuilt addons for ${process.platform}-${process.arch} only if it lists prebuilds/${process.platform}-${process.arch}`
        : "Node's permission model is on and forbids native addons: run with --allow-addons";
    throw new Error(`leasehold's lock, the native addon fs-native-extensions, could not be loaded (${(error as Error).message}); ${fix}`, { cause: error });
  }
}

/** How often a held lock checks that its file is still at its path, besides the directory watch (ms). */
const kGuardIntervalMs = 250;
/** Times a lock is retried when the path names another file than the one locked. */
const kMaxRetries = 20;

/** The lock file is held by someone else: `holder` says who, where the system can tell. */
export class LockBusyError extends Error {
  readonly path: string;
  readonly holder: LockHolder;
  constructor(path: string, holder: LockHolder) {
    super(`${path} is locked by ${describeHolder(holder)}`);
    this.name = 'LockBusyError';
    this.path = path;
    this.holder = holder;
  }

  /** The holder's pid, where known. */
  get holderPid(): number | undefined {
    return 'pid' in this.holder ? this.holder.pid : this.holder.kind === 'this-process' ? process.pid : undefined;
  }
}

/** The lock file cannot be locked at all (a symlink, a FIFO, a directory, no permission, …); `code` is the errno name. */
export class LockFileError extends Error {
  readonly code: string;
  constructor(path: string, code: string, message: string) {
    super(`cannot lock ${path}: ${kLockProblems[code] ?? `${code} ${message}`.trim()}`);
    this.name = 'LockFileError';
    this.code = code;
  }
}

const same = (a: BigIntStats, b: BigIntStats): boolean => a.dev === b.dev && a.ino === b.ino;

function lstatOrUndefined(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

/** Test hooks: called between a step of `LockFile.take` and the next, to stage races. */
export interface LockFileHooks {
  /** After the file is opened, before it is locked. */
  readonly afterOpen?: (fd: number) => void;
}

type Taken = { fd: number; stat: BigIntStats } | { busy: BigIntStats } | 'moved';

/** Opens `path` (made if missing, never following a link, never blocking on a FIFO) and tries its lock once. */
function tryTake(path: string, hooks: LockFileHooks | undefined): Taken {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    // ENXIO: a FIFO nobody reads; EACCES/EPERM: not "busy", which only the lock says.
    const named = code === 'ENXIO' ? 'EINVAL' : code === 'EACCES' ? 'EPERM' : code;
    throw new LockFileError(path, named, (error as Error).message.replace(/^\w+: /, ''));
  }
  try {
    const stat = fstatSync(fd, { bigint: true });
    if (!stat.isFile()) throw new LockFileError(path, 'EINVAL', '');
    hooks?.afterOpen?.(fd);
    if (!fsx().tryLock(fd)) {
      closeSync(fd);
      // Busy on a file no longer at the path (its holder unlinked it meanwhile) is no answer: retry.
      const now = lstatOrUndefined(path);
      return now !== undefined && same(now, stat) ? { busy: stat } : 'moved';
    }
    // Locked; but the path may name another file by now (deleted or replaced since the open).
    const now = lstatOrUndefined(path);
    if (now === undefined || !same(now, stat)) {
      closeSync(fd);
      return 'moved';
    }
    return { fd, stat };
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // closed above
    }
    throw error;
  }
}

/**
 * A held lock on milvus-lite's lock file. `take` never waits: a held lock is a `LockBusyError`.
 * `release()` (idempotent) lets go of every descriptor; the file itself is left in place, since
 * no unlink can be safe against an opener that opened it and has not locked it yet.
 */
export class LockFile {
  readonly path: string;
  readonly #fd: number;
  readonly #stat: BigIntStats;
  // Files re-made (or found) at the path after the first one went, each locked by this holder too.
  readonly #more: Array<{ fd: number; stat: BigIntStats }> = [];
  #released = false;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  private constructor(path: string, fd: number, stat: BigIntStats) {
    this.path = path;
    this.#fd = fd;
    this.#stat = stat;
  }

  /**
   * Takes the lock of `path` without waiting.
   * @throws LockBusyError when someone holds it (its `holder` found on Linux from /proc).
   * @throws LockFileError for a lock file that cannot be locked (see its `code`).
   * @throws Error when the lock's native addon cannot be loaded (Node's permission model, no prebuilt addon).
   */
  static take(path: string, hooks?: LockFileHooks): LockFile {
    // The addon first: one that cannot load leaves no lock file made for nothing.
    fsx();
    for (let attempt = 0; ; attempt++) {
      const taken = tryTake(path, hooks);
      if (taken === 'moved') {
        if (attempt < kMaxRetries) continue;
        throw new LockFileError(path, 'ESTALE', 'the file at this path kept changing while it was locked');
      }
      if ('busy' in taken) throw new LockBusyError(path, findLockHolder(taken.busy.dev, taken.busy.ino));
      return new LockFile(path, taken.fd, taken.stat);
    }
  }

  /** Device and inode of the locked file. */
  get id(): { readonly dev: bigint; readonly ino: bigint } {
    return { dev: this.#stat.dev, ino: this.#stat.ino };
  }

  /**
   * A path to give the milvus-lite binary, which opens its lock file itself after the spawn: on
   * Linux `/proc/<pid>/fd/<n>`, which is the locked file whatever happened at `path` meanwhile;
   * elsewhere `path`.
   */
  get pathForServer(): string {
    return process.platform === 'linux' ? `/proc/${process.pid}/fd/${this.#fd}` : this.path;
  }

  /**
   * Keeps the lock at the path: when the file there goes (deleted, renamed) it is made again and
   * locked at once; a file put there instead is locked too. Checked on the directory watch and every
   * 250 ms, so an opener that starts 1 s after a deletion is refused. When someone else holds the
   * file now at the path, `onForeign` is called (once) with their `LockBusyError`.
   */
  guard(onForeign: (error: LockBusyError) => void): void {
    if (this.#released || this.#timer !== undefined) return;
    let reported = false;
    const check = (): void => {
      if (this.#released || reported) return;
      const error = this.#check();
      if (error === undefined) return;
      reported = true;
      onForeign(error);
    };
    try {
      this.#watcher = watch(dirname(this.path), { persistent: false }, (_event, name) => {
        if (name === null || name === basename(this.path)) check();
      });
      this.#watcher.on('error', () => this.#watcher?.close());
    } catch {
      // No inotify: the timer below still checks.
    }
    this.#timer = setInterval(check, kGuardIntervalMs).unref();
  }

  /** One guard check: the file at the path is one of ours, or now is; else who holds it. */
  #check(): LockBusyError | undefined {
    for (let attempt = 0; attempt < kMaxRetries; attempt++) {
      const now = lstatOrUndefined(this.path);
      if (now !== undefined && [this.#stat, ...this.#more.map((m) => m.stat)].some((s) => same(s, now))) return undefined;
      let taken: Taken;
      try {
        taken = tryTake(this.path, undefined);
      } catch {
        return undefined; // a symlink, FIFO or directory put there: nobody can lock it either
      }
      if (taken === 'moved') continue;
      if ('busy' in taken) return new LockBusyError(this.path, findLockHolder(taken.busy.dev, taken.busy.ino));
      this.#more.push(taken);
      return undefined;
    }
    return undefined;
  }

  /** Lets go of the lock (every descriptor). Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#watcher?.close();
    clearInterval(this.#timer);
    for (const { fd } of [{ fd: this.#fd }, ...this.#more.splice(0)]) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  }
}
