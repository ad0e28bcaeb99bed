// leasehold and the real milvus-lite 2.5.1 of Python (its ServerManager, pymilvus's MilvusClient)
// on one database: they exclude each other both ways, whatever Python does to the lock file
// (issue 20 item 6, issue 21 item 1). The Python comes from interopPython() (LEASEHOLD_INTEROP_PYTHON).
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { KeyLockedError, LeaseRevokedError } from '../src/index.js';
import { LockLostError } from '../src/errors.js';
import { connect } from './support/milvus-data.js';
import { installationOf } from './support/installations.js';
import { interopPython } from './support/interop-python.js';
import { isAlive, processesMentioning, startOwner, startReapedOwner } from './support/processes.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

const installation = installationOf('native');
const python = installation === undefined ? undefined : interopPython();
const freshDir = freshDirs('lh-interop-');

// Python's own ServerManager: prints the URI it got (or None), waits for stdin to close, releases.
const kPythonManager = String.raw`
import gc, logging, sys
logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
from milvus_lite.server_manager import server_manager_instance as m
print(m.start_and_get_uri(sys.argv[1]), flush=True)
gc.collect()
sys.stdin.read()
m.release_all()
`;

// pymilvus's MilvusClient on a local path (it runs milvus-lite's ServerManager): 'opened' or 'refused'.
const kPymilvusClient = String.raw`
import sys
from pymilvus import MilvusClient
try:
    MilvusClient(sys.argv[1]).close()
    print("opened")
except Exception as e:
    print("refused", type(e).__name__)
`;

/** Milvus server processes (not this test's helpers) serving `dbPath`. */
const serversOf = (dbPath: string): number[] => processesMentioning(dbPath).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(installation!.binary) || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('milvus_lite/lib/milvus'));

describe.skipIf(python === undefined)("milvus-lite 2.5.1's Python and leasehold exclude each other", () => {
  const newPool = poolsClosedAfterEach(installation);

  function pythonManager(dbPath: string) {
    const child = execa(python!, ['-c', kPythonManager, dbPath], { stdin: 'pipe', reject: false });
    const firstLine = new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => resolve(String(chunk).trim()));
      void child.then((r) => reject(new Error(`python exited: ${String(r.stderr)}`)));
    });
    return { child, firstLine };
  }

  /** Python's start_and_get_uri on `dbPath`, done (its refused Server deleted from __del__): what it printed. */
  async function pythonRefusedOrServed(dbPath: string): Promise<string> {
    const { child, firstLine } = pythonManager(dbPath);
    const line = await firstLine;
    child.stdin!.end();
    await child;
    return line;
  }

  it('a database held by Python is refused, naming Python and its pid, and Python keeps serving', async () => {
    const dbPath = join(freshDir(), 'py-holds.db');
    const { child, firstLine } = pythonManager(dbPath);
    const uri = await firstLine;
    expect(uri).toMatch(/^unix:/);
    const error = await newPool().acquire(dbPath).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyLockedError);
    expect((error as Error).message).toContain(`${dbPath} is in use: a Python milvus-lite (pid ${child.pid}`);
    expect((error as Error).message).toContain('stop the Python server (release_all(), or close its MilvusClient), or use another path');
    const client = await connect(uri);
    expect((await client.listCollections()).status.error_code).toBe('Success');
    await client.closeConnection();
    child.stdin!.end();
    expect((await child).exitCode).toBe(0);
    await using lease = await newPool().acquire(dbPath);
    expect(lease.resource.pid).toBeGreaterThan(0);
  });

  it('a database held by leasehold is refused by Python\'s start_and_get_uri', async () => {
    const dbPath = join(freshDir(), 'node-holds.db');
    await using lease = await newPool().acquire(dbPath);
    const { child, firstLine } = pythonManager(dbPath);
    expect(await firstLine).toBe('None');
    child.stdin!.end();
    expect(String((await child).stderr)).toMatch(/opened by another program/);
    const client = await connect(lease.resource.uri);
    expect((await client.listCollections()).status.error_code).toBe('Success');
    await client.closeConnection();
  });

  it('issue 21: after Python is refused (and deletes the lock file it never held), another Node process is refused too: one server', async () => {
    const dbPath = join(freshDir(), 'twice.db');
    await using lease = await newPool().acquire(dbPath);
    expect(await pythonRefusedOrServed(dbPath)).toBe('None');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { child, report } = await startOwner(dbPath, installation!, 'exit');
    await child;
    expect(report.error).toBe('KeyLockedError');
    expect(report.message).toContain(`another leasehold process of this user (pid ${process.pid}) runs its server`);
    expect(report.message).toContain('`share: true` (or set LEASEHOLD_SHARE=1)');
    expect(serversOf(dbPath)).toEqual([lease.resource.pid]);
  });

  it('pymilvus MilvusClient(path) is refused while leasehold serves, and leaves no way in for a second server', async () => {
    const pymilvus = interopPython(['milvus_lite', 'pymilvus']);
    const dbPath = join(freshDir(), 'client.db');
    await using lease = await newPool().acquire(dbPath);
    const result = await execa(pymilvus!, ['-c', kPymilvusClient, dbPath], { reject: false });
    expect(result.stdout).toMatch(/^refused/);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await pythonRefusedOrServed(dbPath)).toBe('None');
    const { child, report } = await startOwner(dbPath, installation!, 'exit');
    await child;
    expect(report.error).toBe('KeyLockedError');
    expect(serversOf(dbPath)).toEqual([lease.resource.pid]);
  });

  it('the lock file deleted by a user or a clean-up script while leasehold serves: Python 1 s later is refused', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'deleted.db');
    await using lease = await newPool().acquire(dbPath);
    unlinkSync(join(dir, '.deleted.db.lock'));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await pythonRefusedOrServed(dbPath)).toBe('None');
    expect(serversOf(dbPath)).toEqual([lease.resource.pid]);
  });

  it('closing another descriptor of the lock file in the holding process does not let a second server in', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'closed.db');
    await using lease = await newPool().acquire(dbPath);
    closeSync(openSync(join(dir, '.closed.db.lock'), 'r+'));
    expect(await pythonRefusedOrServed(dbPath)).toBe('None');
    expect(isAlive(lease.resource.pid!)).toBe(true);
  });

  it('a foreign holder that gets the new lock file anyway: our server stops and its leases are revoked with the reason', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'foreign.db');
    const lease = await newPool().acquire(dbPath);
    const lockPath = join(dir, '.foreign.db.lock');
    // Another program locks a new file and renames it over ours in one step, before any guard can act.
    const script = 'import fcntl, os, sys\nfd = os.open(sys.argv[1] + ".new", os.O_WRONLY | os.O_CREAT, 0o644)\nfcntl.lockf(fd, fcntl.LOCK_EX)\nos.rename(sys.argv[1] + ".new", sys.argv[1])\nprint("held", flush=True)\nsys.stdin.read()\n';
    const holder = execa(python!, ['-I', '-S', '-c', script, lockPath], { stdin: 'pipe', reject: false });
    try {
      await expect.poll(() => lease.signal.aborted, { timeout: 5000, interval: 20 }).toBe(true);
      const reason = lease.signal.reason as LeaseRevokedError;
      expect(reason.cause).toBeInstanceOf(LockLostError);
      expect((reason.cause as Error).message).toContain(`the lock file ${lockPath} of ${dbPath} was deleted or replaced while its milvus-lite server ran, and a Python milvus-lite (pid ${holder.pid}`);
      await expect.poll(() => isAlive(lease.resource.pid!), { timeout: 15_000, interval: 50 }).toBe(false);
    } finally {
      await lease.release();
      holder.stdin!.end();
      await holder;
    }
  });

  it('the lock file replaced between our lock and the binary\'s own open of it: the binary waits on the file we locked (given as /proc/<pid>/fd/N)', async () => {
    const dir = freshDir();
    const dbPath = join(dir, 'spawned.db');
    const lockPath = join(dir, '.spawned.db.lock');
    const pool = newPool({
      onStartStep: (step) => {
        if (step !== 'spawn') return;
        writeFileSync(join(dir, 'other'), '');
        renameSync(join(dir, 'other'), lockPath);
      },
    });
    const lease = await pool.acquire(dbPath);
    const client = await connect(lease.resource.uri);
    expect((await client.listCollections()).status.error_code).toBe('Success');
    await client.closeConnection();
    const exited = lease.resource.exited;
    await lease.release();
    // Released: the binary took the lock of the file we held, and exited on its own (code 0, no SIGKILL).
    expect(await exited).toMatchObject({ code: 0, signal: null });
  });

  it('a SIGKILLed owner still takes its server down (the lock dies with the process), and Python can then serve the file', async () => {
    const dbPath = join(freshDir(), 'orphan.db');
    const { report, reaped } = await startReapedOwner(dbPath, installation!, 'hold');
    expect(isAlive(report.pid!)).toBe(true);
    process.kill(report.owner!, 'SIGKILL');
    const exits = await reaped;
    expect(exits.map((e) => e.pid)).toContain(report.pid);
    expect(serversOf(dbPath)).toEqual([]);
    expect(await pythonRefusedOrServed(dbPath)).toMatch(/^unix:/);
  });
});
