import { constants, mkdtempSync, readFileSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { lstat, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Unix socket paths must fit in sun_path (108 bytes with the NUL). */
export const kMaxSocketPath = 107;

const kPrefix = 'lh-';
/**
 * The other temporary directories leasehold makes in `$TMPDIR` (scratch and shared test databases,
 * the doctor's scratch): owner-marked like socket directories, and swept with them.
 */
export type OwnedTempPrefix = 'leasehold-scratch-' | 'leasehold-shared-' | 'leasehold-doctor-';
const kSweptPrefixes: readonly string[] = [kPrefix, 'leasehold-scratch-', 'leasehold-shared-', 'leasehold-doctor-'];
// Holds the owner's identity: its pid and, on Linux, its start time (a pid is reused; the pair is
// not). Only directories with this file are ever swept.
const kOwnerFile = 'leasehold.pid';
const swept = new Set<string>();
// Directories made and not yet removed. Servers still running at exit stop by themselves (their
// lock or stdin goes with this process); their directories are removed synchronously here, since
// an 'exit' listener cannot await.
const live = new Set<string>();
let exitHookInstalled = false;

function removeLiveAtExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const dir of live) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * A private (0700, owned by us, fresh: mkdtemp never reuses a path) directory for one server's
 * socket (and the native server's glog files), under the OS temp dir or `/tmp` when that is too
 * long for the socket path limit. The first call per base directory also starts a sweep, in the background (a readdir and a
 * read per `lh-` entry), of the directories that processes now dead left there (a SIGKILLed owner cannot clean up), unless
 * `sweep` is false: then the caller runs it, with `sweepOnce` (the native engine, in its spawner thread). Until
 * `removeSocketDir`, the directory is also removed when this process exits.
 */
export async function makeSocketDir(socketName: string, options: { readonly sweep?: boolean } = {}): Promise<{ dir: string; socketPath: string }> {
  // Absolute: a relative TMPDIR would be read against this process's working directory here and
  // against the database's directory by the server, which runs there.
  let base = resolve(tmpdir());
  if (Buffer.byteLength(join(base, 'lh-XXXXXX', socketName)) > kMaxSocketPath) base = '/tmp';
  const dir = await makeOwnedDir(base, kPrefix, options.sweep ?? true);
  return { dir, socketPath: join(dir, socketName) };
}

/**
 * Runs `sweep(base)` (default: `sweepSocketDirs` here, in the background) unless a sweep of `base`
 * was already started by this process: once per base directory and process.
 */
export function sweepOnce(base: string, sweep: (base: string) => void = (dir) => void sweepSocketDirs(dir)): void {
  if (swept.has(base)) return;
  swept.add(base);
  sweep(base);
}

/**
 * A fresh private directory `$TMPDIR/<prefix>XXXXXX` marked with this process's identity: removed
 * when this process exits (`removeSocketDir` removes it sooner), and by the next leasehold process's
 * sweep if this one dies first (SIGKILL, `process.reallyExit`). Nothing in it outlives its owner.
 */
export async function makeOwnedTempDir(prefix: OwnedTempPrefix): Promise<string> {
  // The pid in the name too (`<prefix><pid>-XXXXXX`): marked from the moment it exists, so an owner
  // killed before it wrote the owner file still leaves a directory the sweep can tell is its.
  return makeOwnedDir(resolve(tmpdir()), `${prefix}${process.pid}-`);
}

async function makeOwnedDir(base: string, prefix: string, sweep = true): Promise<string> {
  // Synchronous: two calls of microseconds on a cold open's critical path, where each promise
  // form waited for the thread pool (issue 24).
  const dir = mkdtempSync(join(base, prefix));
  live.add(dir);
  removeLiveAtExit();
  writeFileSync(join(dir, kOwnerFile), ownIdentity());
  // After this directory is made, and not awaited: a crowded tmp (a CI machine's thousands of
  // entries, five calls each) neither delays the start nor queues in the thread pool ahead of its
  // calls. It never takes the directory made here: its owner, this process, is alive.
  if (sweep) sweepOnce(base);
  return dir;
}

/** `<pid>` or `<pid> <start time>` (Linux: clock ticks since boot, /proc/<pid>/stat field 22). */
function ownIdentity(): string {
  const start = startTimeOf(process.pid);
  return start === undefined ? String(process.pid) : `${process.pid} ${start}`;
}

/** Field 22 of /proc/<pid>/stat (after "pid (comm) state", comm may hold spaces and ')'); undefined off Linux or when gone. */
function startTimeOf(pid: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Removes a directory made by `makeSocketDir` or `makeOwnedTempDir`, whatever it holds. Never throws. */
export async function removeSocketDir(dir: string): Promise<void> {
  live.delete(dir);
  await rm(dir, { recursive: true, force: true }).catch(() => {});
}

/**
 * Whether process `pid` is running: it exists (`kill(pid, 0)`; EPERM: it exists, as another
 * user's) and, on Linux, has not exited. A process that has exited but whose parent has not
 * reaped it yet (a zombie, state `Z` or `X` in `/proc/<pid>/stat`, proc(5)) still answers
 * `kill(pid, 0)`; an orphan's parent is init, which may reap it only a second or two later.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !hasExited(pid);
}

function hasExited(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    // ENOENT: gone between the two looks. Anything else (no /proc mounted): kill() has the last word.
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
  // "pid (comm) state ...": comm may hold spaces and parentheses, so the state follows the last ')'.
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state === 'Z' || state === 'X';
}

/**
 * The pid in `dir`'s owner file, when `dir` is a directory of this user's (not a symbolic link)
 * and the file a regular one. A shared /tmp holds other users' entries: a FIFO named
 * `leasehold.pid` would block a plain read in a thread-pool thread forever (the start stalled, and
 * the process unable to exit), so the file is opened non-blocking and without following links.
 */
async function ownerOf(dir: string): Promise<{ readonly pid: number; readonly start: string | undefined } | undefined> {
  const stats = await lstat(dir).catch(() => undefined);
  if (stats === undefined || !stats.isDirectory() || (process.getuid !== undefined && stats.uid !== process.getuid())) return undefined;
  const file = await open(join(dir, kOwnerFile), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (file === undefined) return undefined;
  try {
    if (!(await file.stat()).isFile()) return undefined;
    const [pidText, start] = (await file.readFile('utf8')).trim().split(' ');
    const pid = Number.parseInt(pidText ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? { pid, start } : undefined;
  } catch {
    return undefined;
  } finally {
    await file.close().catch(() => {});
  }
}

/** The owner pid in an owned temp dir's name (`leasehold-scratch-<pid>-XXXXXX`), if it has one. */
function pidInName(name: string): number | undefined {
  const match = /^leasehold-[a-z]+-(\d+)-[^-]+$/.exec(name);
  const pid = match === null ? Number.NaN : Number(match[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** `dir` is a directory of this user's, not a symbolic link; its stats then. */
async function ownDirectory(dir: string): Promise<Stats | undefined> {
  const stats = await lstat(dir).catch(() => undefined);
  return stats === undefined || !stats.isDirectory() || (process.getuid !== undefined && stats.uid !== process.getuid()) ? undefined : stats;
}

/**
 * Removes leasehold socket directories (and the other owner-marked temporary directories, see
 * `OwnedTempPrefix`) in `base` whose owner process is gone: only this user's
 * directories, whose owner file is a regular file (see `ownerOf`). Never throws.
 */
export async function sweepSocketDirs(base: string): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(base).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => kSweptPrefixes.some((prefix) => name.startsWith(prefix)))
      .map(async (name) => {
        const dir = join(base, name);
        const owner = await ownerOf(dir);
        if (owner === undefined) {
          // No owner file: an owner killed between making the directory and marking it, if the pid
          // in the name (owned temp dirs) says so. Anything else unmarked is not known to be ours
          // (test runs name their own directories lh-…): never touched.
          const named = pidInName(name);
          if (named === undefined || isAlive(named) || (await ownDirectory(dir)) === undefined) return;
          await removeSocketDir(dir);
          removed.push(dir);
          return;
        }
        // Alive, and the same process: a pid reused since by another process is not its owner.
        if (isAlive(owner.pid) && (owner.start === undefined || startTimeOf(owner.pid) === owner.start)) return;
        await removeSocketDir(dir);
        removed.push(dir);
      }),
  );
  return removed;
}
