import { createInterface } from 'node:readline';
import type { Socket } from 'node:net';
import { execa } from 'execa';

/**
 * One small Python process per interpreter that holds milvus-lite's fcntl locks (Node has no fcntl).
 * milvus-lite's server blocks on `<dir>/.<name>.lock` and exits once it gets it, so holding the lock
 * keeps the server alive and releasing it is the graceful stop. The broker exits when its stdin
 * closes, so when the owning Node process dies, even by SIGKILL, every lock goes and every server
 * exits. One broker serves every database: a lock costs a pipe round trip, not a Python start.
 */
const kBrokerScript = String.raw`
import errno, fcntl, json, os, stat, struct, sys
held = {}
def holder_of(fd):
    # The pid of the process holding the lock (F_GETLK), on Linux's struct flock layout; else None.
    if not sys.platform.startswith("linux"):
        return None
    try:
        got = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0) + bytes(8))
        return struct.unpack_from("hhqqi", got)[4] or None
    except OSError:
        return None
def reply(**m):
    sys.stdout.write(json.dumps(m) + "\n"); sys.stdout.flush()
def held_here(st):
    return any(os.path.samestat(st, os.fstat(h)) for h in held.values())
def take(path):
    # Closing any descriptor of a file drops every fcntl lock this process has on it, so a file
    # already held here must be refused before it is opened a second time.
    try:
        try:
            if held_here(os.lstat(path)):
                raise BlockingIOError(errno.EAGAIN, "held by this process")
        except FileNotFoundError:
            pass
        # O_NONBLOCK: a FIFO at the path would block this open (and every later request) until a reader came.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o644)
    except OSError as e:
        if e.errno == errno.ENXIO:  # a FIFO nobody reads
            raise OSError(errno.EINVAL, "not a regular file") from None
        if e.errno in (errno.EACCES, errno.EPERM):  # not "busy": that is lockf's EACCES, below
            raise OSError(errno.EPERM, "permission denied") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            e.holder = holder_of(fd)
            raise
        return fd
    except BaseException:
        os.close(fd); raise
while True:
    line = sys.stdin.readline()
    if not line:
        break
    m = json.loads(line); i = m["id"]
    try:
        if m["op"] == "lock":
            held[i] = take(m["path"])
        elif m["op"] == "unlock":
            fd = held.pop(m["ref"], None)
            if fd is not None:
                os.close(fd)
        elif m["op"] == "clean":
            fd = take(m["path"])
            try:
                if os.path.samestat(os.fstat(fd), os.lstat(m["path"])):
                    os.unlink(m["path"])
            finally:
                os.close(fd)
        reply(id=i, ok=True)
    except OSError as e:
        busy = e.errno in (errno.EAGAIN, errno.EACCES)
        reply(id=i, ok=False, code="busy" if busy else errno.errorcode.get(e.errno or 0, "EIO"), message=str(e), holder=getattr(e, "holder", None))
`;

/** What a refused lock file is, and what to do, by the broker's error code (others: the code and OS message). */
const kLockProblems: Readonly<Record<string, string>> = {
  ELOOP: 'it is a symbolic link, which is never followed (remove it if you did not put it there)',
  EINVAL: 'it is not a regular file (a FIFO, a socket or a device), which is never locked (remove it if you did not put it there)',
  EISDIR: 'it is a directory, where the lock file goes (remove it if you did not put it there)',
  EPERM: 'permission denied: it cannot be opened for writing, or made in its directory (make it writable by this user, or remove it if you did not put it there)',
};

/** The lock file is held by another process (or another server of this one). */
export class LockBusyError extends Error {
  /** The pid holding the lock (Linux, from F_GETLK), when known. */
  readonly holderPid: number | undefined;
  constructor(path: string, holderPid?: number) {
    super(`${path} is locked by another process${holderPid ? ` (pid ${holderPid})` : ''}`);
    this.name = 'LockBusyError';
    this.holderPid = holderPid;
  }
}

// -I -S: no user site, no environment, no site-packages; only the standard library is needed.
function spawnBroker(python: string) {
  return execa(python, ['-I', '-S', '-c', kBrokerScript], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false });
}
type BrokerProcess = ReturnType<typeof spawnBroker>;

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
  path: string | undefined;
}

export class LockBroker {
  static readonly #brokers = new Map<string, LockBroker>();

  /** The broker that runs on `python`, started on first use. */
  static for(python: string): LockBroker {
    let broker = LockBroker.#brokers.get(python);
    if (broker === undefined) LockBroker.#brokers.set(python, (broker = new LockBroker(python)));
    return broker;
  }

  readonly #python: string;
  #child: BrokerProcess | undefined;
  #stderr = '';
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  private constructor(python: string) {
    this.#python = python;
  }

  /** The broker's pid, once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Takes the lock of `path` without waiting; rejects with LockBusyError if someone holds it. Resolves a handle for `unlock`. */
  async lock(path: string): Promise<number> {
    const id = this.#nextId++;
    await this.#send({ op: 'lock', id, path }, id, path);
    return id;
  }

  /** Releases a lock taken with `lock`. */
  async unlock(ref: number): Promise<void> {
    const id = this.#nextId++;
    await this.#send({ op: 'unlock', id, ref }, id, undefined).catch(() => {});
  }

  /** Removes the lock file at `path` if nobody holds it (taken, unlinked, released). */
  async clean(path: string): Promise<void> {
    const id = this.#nextId++;
    await this.#send({ op: 'clean', id, path }, id, path).catch(() => {});
  }

  #send(message: object, id: number, path: string | undefined): Promise<void> {
    const child = this.#spawn();
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, path });
      this.#ref(true);
      child.stdin.write(`${JSON.stringify(message)}\n`);
    });
  }

  #spawn(): BrokerProcess {
    if (this.#child !== undefined) return this.#child;
    const child = spawnBroker(this.#python);
    this.#child = child;
    child.stderr.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + String(chunk)).slice(-2000)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const reply = JSON.parse(line) as { id: number; ok: boolean; code?: string; message?: string; holder?: number | null };
      const pending = this.#pending.get(reply.id);
      if (pending === undefined) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) this.#ref(false);
      if (reply.ok) pending.resolve();
      else if (reply.code === 'busy') pending.reject(new LockBusyError(pending.path ?? '', reply.holder ?? undefined));
      else {
        const problem = kLockProblems[reply.code ?? ''] ?? `${reply.code ?? ''} ${reply.message ?? ''}`.trim();
        pending.reject(Object.assign(new Error(`cannot lock ${pending.path ?? ''}: ${problem}`), { code: reply.code }));
      }
    });
    void child.then((result) => {
      if (this.#child === child) this.#child = undefined;
      const detail = `the lock helper (${this.#python}) exited: ${result.signal ?? `code ${String(result.exitCode)}`}${this.#stderr ? `: ${this.#stderr.trim()}` : ''}`;
      for (const pending of this.#pending.values()) pending.reject(new Error(detail));
      this.#pending.clear();
    });
    this.#ref(true);
    return child;
  }

  // The broker must not keep Node alive on its own; it is referenced only while a reply is awaited.
  #ref(on: boolean): void {
    const child = this.#child;
    if (child === undefined) return;
    for (const handle of [child, child.stdin as unknown as Socket, child.stdout as unknown as Socket, child.stderr as unknown as Socket]) {
      if (on) handle.ref?.();
      else handle.unref?.();
    }
  }
}
