import { readFileSync, readdirSync } from 'node:fs';

/**
 * Who holds a lock file, as far as the system can tell (Linux only; elsewhere `unknown`).
 * An OFD lock (leasehold's) shows pid −1 in /proc/locks and F_GETLK, so the holder is found from the
 * `lock:` lines of /proc/<pid>/fdinfo/<fd> (proc(5)), matched by device and inode. Read on the error
 * path only: a scan of every process's descriptors takes milliseconds.
 */
export type LockHolder =
  | { readonly kind: 'this-process' }
  | { readonly kind: 'leasehold'; readonly pid: number; readonly shared: boolean }
  | { readonly kind: 'python'; readonly pid: number }
  | { readonly kind: 'other-user'; readonly pid: number | undefined; readonly uid: number | undefined }
  | { readonly kind: 'process'; readonly pid: number; readonly command: string }
  | { readonly kind: 'unknown' };

/** A device number as /proc prints it (`major:minor`, two hex digits each at least), from stat's `dev`. */
function procDevice(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A held (not waiting: `->`) lock line on `id` (`maj:min:ino`): its type (`OFDLCK`, `POSIX`, `FLOCK`) and pid field. */
function heldLock(text: string, id: string, prefix: RegExp): { type: string; pid: number } | undefined {
  for (const line of text.split('\n')) {
    const match = prefix.exec(line);
    if (match === null) continue;
    // After `1:`, `OFDLCK ADVISORY WRITE -1 08:01:1234 0 EOF`; a waiter reads `-> POSIX …`.
    const fields = line.slice(match[0].length).trim().split(/\s+/);
    if (fields[0] === '->' || fields[4] !== id) continue;
    return { type: fields[0] ?? '', pid: Number(fields[3]) };
  }
  return undefined;
}

function uidOf(pid: number): number | undefined {
  const match = /^Uid:\s+(\d+)/m.exec(read(`/proc/${pid}/status`) ?? '');
  return match ? Number(match[1]) : undefined;
}

function commandOf(pid: number): string {
  return (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
}

function classify(pid: number, type: string): LockHolder {
  if (pid === process.pid) return { kind: 'this-process' };
  const uid = uidOf(pid);
  if (uid !== undefined && uid !== process.getuid?.()) return { kind: 'other-user', pid, uid };
  const command = commandOf(pid);
  // Python's ServerManager (and pymilvus's MilvusClient through it) takes fcntl.lockf: a POSIX lock.
  if (type === 'POSIX' && /python/i.test(command)) return { kind: 'python', pid };
  // Only leasehold takes an OFD lock on milvus-lite's lock file; its shared-server supervisor runs supervisor-main.
  if (type === 'OFDLCK') return { kind: 'leasehold', pid, shared: /supervisor-main/.test(command) };
  return { kind: 'process', pid, command };
}

/** Who holds a lock on the file with this device and inode (`stat(…, { bigint: true })`). Never throws. */
export function findLockHolder(dev: bigint, ino: bigint): LockHolder {
  if (process.platform !== 'linux') return { kind: 'unknown' };
  const id = `${procDevice(dev)}:${ino}`;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${entry}/fdinfo`);
      } catch {
        continue; // gone, or another user's (fdinfo needs ptrace access)
      }
      for (const fd of fds) {
        const lock = heldLock(read(`/proc/${entry}/fdinfo/${fd}`) ?? '', id, /^lock:\s+\d+:/);
        if (lock !== undefined) return classify(Number(entry), lock.type);
      }
    }
    // Not in any process this user may inspect: /proc/locks still shows the lock (a POSIX one with its pid).
    const lock = heldLock(read('/proc/locks') ?? '', id, /^\d+:/);
    if (lock === undefined) return { kind: 'unknown' };
    if (lock.pid > 0) return classify(lock.pid, lock.type);
    return { kind: 'other-user', pid: undefined, uid: undefined };
  } catch {
    return { kind: 'unknown' };
  }
}

/** The holder in words, for an error message ("pid 123, a Python milvus-lite"). */
export function describeHolder(holder: LockHolder): string {
  switch (holder.kind) {
    case 'this-process':
      return 'this process';
    case 'leasehold':
      return holder.shared ? `the shared server of another leasehold process of this user (supervisor pid ${holder.pid})` : `another leasehold process of this user (pid ${holder.pid})`;
    case 'python':
      return `a Python milvus-lite (pid ${holder.pid}: its ServerManager, or pymilvus's MilvusClient)`;
    case 'other-user':
      return holder.pid === undefined ? 'a process of another user (or one this user cannot inspect)' : `a process of another user (pid ${holder.pid}, uid ${String(holder.uid)})`;
    case 'process':
      return `another program (pid ${holder.pid}: ${holder.command})`;
    case 'unknown':
      return 'another program (another milvus-lite server, or Python\'s ServerManager)';
  }
}
