import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Installation } from '../../src/index.js';

const ownerScript = fileURLToPath(new URL('../fixtures/owner.mjs', import.meta.url));

/** Processes whose command line mentions `text` (a server's database or socket path). */
export function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The library's own check: a process that has exited but is not reaped yet (a zombie) is not alive. */
export { isAlive } from '../../src/server/socket-dir.js';

/** A python process that holds the fcntl lock of `path` until its stdin closes; resolves once it holds it. */
export async function holdElsewhere(python: string, path: string): Promise<{ pid: number; release: () => Promise<void> }> {
  const script = 'import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)\nfcntl.lockf(fd, fcntl.LOCK_EX)\nprint("held", flush=True)\nsys.stdin.read()\n';
  const child = execa(python, ['-I', '-S', '-c', script, path], { stdin: 'pipe', stdout: 'pipe', buffer: false, reject: false });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    void child.then((result) => reject(new Error(`holder exited: ${String(result.exitCode)}`)));
  });
  return {
    pid: child.pid!,
    release: async () => {
      child.stdin.end();
      await child;
    },
  };
}

/** A Node process holding `path` with leasehold's LockFile (an OFD lock) until released: no Python needed. */
export async function holdFromNode(path: string): Promise<{ pid: number; release: () => Promise<void> }> {
  const script = `import { LockFile } from ${JSON.stringify(new URL('../../dist/server/lock-file.js', import.meta.url).href)};\nLockFile.take(process.argv[1]);\nconsole.log('held');\nprocess.stdin.resume();\nprocess.stdin.on('end', () => process.exit(0));\n`;
  const child = execa(process.execPath, ['--input-type=module', '-e', script, path], { stdin: 'pipe', stdout: 'pipe', buffer: false, reject: false });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    void child.then((r) => reject(new Error(`holder exited: ${String(r.exitCode)} ${String(r.stderr)}`)));
  });
  return { pid: child.pid!, release: async () => void (child.stdin.end(), await child) };
}

export interface OwnerReport {
  pid?: number;
  uri?: string;
  error?: string;
  message?: string;
  /** The owner process itself. */
  owner?: number;
}

/**
 * Runs test/fixtures/owner.mjs (a separate Node process owning a lease) and resolves its first
 * report line. Wrapped in an object: an execa child is a thenable.
 */
function spawnOwner(dbPath: string, installation: Installation, mode: string) {
  return execa(process.execPath, [ownerScript, dbPath, JSON.stringify(installation), mode], { reject: false, stdin: 'ignore' });
}

/** The owner's first stdout line, its JSON report; rejects if it exits before printing one. */
function firstReport(child: PromiseLike<{ stderr: unknown }> & { readonly stdout: NodeJS.ReadableStream | null }): Promise<OwnerReport> {
  return new Promise<OwnerReport>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += String(chunk);
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(JSON.parse(line) as OwnerReport);
    });
    void Promise.resolve(child).then((r) => reject(new Error(`owner exited before reporting: ${String(r.stderr)}`)));
  });
}

export async function startOwner(dbPath: string, installation: Installation, mode = 'hold'): Promise<{ child: ReturnType<typeof spawnOwner>; report: OwnerReport }> {
  const child = spawnOwner(dbPath, installation, mode);
  const report = await firstReport(child);
  return { child, report };
}

export interface ReapedExit {
  pid: number;
  code: number | null;
  signal: number | null;
}

// Linux: becomes a child subreaper (prctl PR_SET_CHILD_SUBREAPER), runs argv, and reaps every
// descendant, the orphaned server included, printing how each one ended.
const kReaper = String.raw`
import ctypes, json, os, subprocess, sys
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
subprocess.Popen(sys.argv[1:])
while True:
    try:
        pid, status = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    sys.stderr.write("reaped " + json.dumps({"pid": pid, "code": code, "signal": sig}) + "\n")
    sys.stderr.flush()
`;

/**
 * `startOwner` under a subreaper: the owner's servers, orphaned when it exits, are
 * reaped by it, so their exit codes are known. `reaped` resolves once every descendant is gone.
 */
export async function startReapedOwner(dbPath: string, installation: Installation, mode: string): Promise<{ report: OwnerReport; reaped: Promise<ReapedExit[]> }> {
  const child = execa(installation.python ?? 'python3', ['-c', kReaper, process.execPath, ownerScript, dbPath, JSON.stringify(installation), mode], { reject: false, stdin: 'ignore' });
  const reaped = Promise.resolve(child).then((result) =>
    String(result.stderr)
      .split('\n')
      .filter((line) => line.startsWith('reaped '))
      .map((line) => JSON.parse(line.slice('reaped '.length)) as ReapedExit),
  );
  const report = await firstReport(child);
  return { report, reaped };
}
