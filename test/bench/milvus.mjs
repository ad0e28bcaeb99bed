// milvus-lite: cold start against the raw binary and Python's ServerManager, warm startAndGetUri,
// and stop latency, all in one run. Each run interleaves ours, the raw binary and Python.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createMilvusLitePool, findMilvusLite, ServerManager } from '../../packages/milvus-lite/dist/index.js';
import { grpcAnswers } from '../../packages/milvus-lite/dist/server/grpc-probe.js';
import { LockFile } from '../../packages/milvus-lite/dist/server/lock-file.js';

// Python's own ServerManager, timed inside Python so interpreter start-up is not counted.
const kPython = String.raw`
import json, sys, time, logging
logging.disable(logging.CRITICAL)
from milvus_lite.server_manager import server_manager_instance as m
path = sys.argv[1]
t0 = time.perf_counter(); uri = m.start_and_get_uri(path); t1 = time.perf_counter()
warm = []
for _ in range(1000):
    a = time.perf_counter(); m.start_and_get_uri(path); warm.append(time.perf_counter() - a)
t2 = time.perf_counter(); m.release_server(path); t3 = time.perf_counter()
print(json.dumps({"ok": uri is not None, "cold": (t1 - t0) * 1e3, "warm": sorted(warm)[500] * 1e6, "stop": (t3 - t2) * 1e3}))
`;

// Python's fcntl.lockf take and release (what milvus-lite's ServerManager does), timed inside Python.
const kPythonLock = String.raw`
import fcntl, json, os, sys, time
path = sys.argv[1]; times = []
for _ in range(1000):
    a = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644); fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); os.close(fd)
    times.append(time.perf_counter() - a)
print(json.dumps({"lock": sorted(times)[500] * 1e6}))
`;

/** LockFile.take (open, OFD lock, device+inode check) and release, median of 1000, in µs. */
function lockTimes(path) {
  const times = [];
  for (let i = 0; i < 1000; i++) {
    const a = performance.now();
    LockFile.take(path).release();
    times.push(performance.now() - a);
  }
  return times.sort((a, b) => a - b)[500] * 1000;
}

/** The raw binary as milvus-lite's wrapper runs it, ready by the same gRPC probe we use. */
async function rawCold(installation, dir) {
  const sock = join(dir, 'raw.sock');
  const t0 = performance.now();
  const child = execa(installation.binary, [join(dir, 'raw.db'), `unix:${sock}`, 'ERROR'], {
    cwd: dir,
    env: { LD_LIBRARY_PATH: installation.libDir },
    reject: false,
    stdin: 'ignore',
  });
  let delay = 1;
  while (!(await grpcAnswers({ socketPath: sock }, 2000))) {
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 25);
  }
  const cold = performance.now() - t0;
  const s0 = performance.now();
  child.kill('SIGTERM');
  await child;
  return { cold, stop: performance.now() - s0 };
}

const COLD_PER_RUN = 7;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function bench({ runs, log }) {
  const installation = await findMilvusLite({ engine: 'native' });
  const root = mkdtempSync(join(tmpdir(), 'leasehold-bench-milvus-'));
  // When each cold start reaches its spawn: leasehold's own time before the binary runs (path checks, lock, socket dir).
  let spawnAt = 0;
  const pool = createMilvusLitePool({ installation, onStartStep: (step) => void (step === 'spawn' && (spawnAt = performance.now())) });
  // Python for the peers: the installation's, else the interop venv's (a native install from the wheel has none).
  const python = installation.python ?? process.env.LEASEHOLD_INTEROP_PYTHON;
  if (python === undefined) throw new Error('the Python peers need a python with milvus-lite: set LEASEHOLD_INTEROP_PYTHON');
  // Warm the OS caches once, so every figure is a steady-state one.
  await (await pool.acquire(join(root, 'warmup.db'))).release();
  await rawCold(installation, mkdtempSync(join(root, 'warm-')));
  const r = { oursCold: [], rawCold: [], pyCold: [], oursWarm: [], pyWarm: [], oursStop: [], rawStop: [], pyStop: [], overhead: [], oursLock: [], pyLock: [], beforeSpawn: [] };
  for (let run = 0; run < runs; run++) {
    const dir = mkdtempSync(join(root, `run-${run}-`));
    // Each run's figure is the median of COLD_PER_RUN interleaved cold starts, ours then raw.
    const cold = { ours: [], raw: [], oursStop: [], rawStop: [], diff: [], beforeSpawn: [] };
    for (let k = 0; k < COLD_PER_RUN; k++) {
      let t0 = performance.now();
      const lease = await pool.acquire(join(dir, `ours-${k}.db`));
      cold.ours.push(performance.now() - t0);
      cold.beforeSpawn.push(spawnAt - t0);
      t0 = performance.now();
      await lease.release();
      cold.oursStop.push(performance.now() - t0);
      const raw = await rawCold(installation, mkdtempSync(join(dir, `raw-${k}-`)));
      cold.raw.push(raw.cold);
      cold.rawStop.push(raw.stop);
      cold.diff.push(cold.ours.at(-1) - raw.cold);
    }
    r.oursCold.push(median(cold.ours));
    r.beforeSpawn.push(median(cold.beforeSpawn));
    r.rawCold.push(median(cold.raw));
    r.oursStop.push(median(cold.oursStop));
    r.rawStop.push(median(cold.rawStop));
    r.overhead.push(median(cold.diff));

    const manager = new ServerManager({ installation });
    const path = join(dir, 'manager.db');
    await manager.startAndGetUri(path);
    const warm = [];
    for (let i = 0; i < 1000; i++) {
      const a = performance.now();
      await manager.startAndGetUri(path);
      warm.push(performance.now() - a);
    }
    r.oursWarm.push(warm.sort((a, b) => a - b)[500] * 1000);
    await manager[Symbol.asyncDispose]();

    r.oursLock.push(lockTimes(join(dir, '.lock-bench.lock')));
    const pyLock = await execa(python, ['-c', kPythonLock, join(dir, '.lock-bench-py.lock')]);
    r.pyLock.push(JSON.parse(pyLock.stdout).lock);

    const py = await execa(python, ['-c', kPython, join(dir, 'python.db')], { reject: false });
    const got = JSON.parse(py.stdout.trim().split('\n').at(-1));
    if (!got.ok) throw new Error(`Python ServerManager failed: ${py.stderr}`);
    r.pyCold.push(got.cold);
    r.pyWarm.push(got.warm);
    r.pyStop.push(got.stop);
    log(`run ${run + 1}: cold ours ${r.oursCold.at(-1).toFixed(1)} ms, raw ${r.rawCold.at(-1).toFixed(1)} ms, python ${got.cold.toFixed(0)} ms`);
  }
  await pool.close();
  rmSync(root, { recursive: true, force: true });
  const version = `milvus-lite ${installation.version}, native`;
  return [
    { section: 'milvus-lite server', metric: `cold acquire until a gRPC call answers (${version}), median of ${COLD_PER_RUN} per run`, unit: 'ms', ours: r.oursCold, peerName: 'raw binary spawn until the same gRPC call answers', peer: r.rawCold },
    { section: 'milvus-lite server', metric: 'cold acquire until ready', unit: 'ms', ours: r.oursCold, peerName: "Python server_manager_instance.start_and_get_uri (sleeps 0.5 s, no readiness check)", peer: r.pyCold },
    { section: 'milvus-lite server', metric: 'leasehold overhead over the raw binary (cold), median of paired differences', unit: 'ms', ours: r.overhead, note: `the lock (an OFD lock system call), path checks, socket dir; aim ≤ 3 ms (5.62 ms with the Python lock helper); ${COLD_PER_RUN} pairs per run` },
    { section: 'milvus-lite server', metric: "leasehold's own time before the spawn (cold acquire → spawn: path checks, lock, socket dir), median of paired starts", unit: 'ms', ours: r.beforeSpawn, note: 'the part of the overhead that is leasehold alone, free of the binary\'s start-up noise' },
    { section: 'milvus-lite server', metric: 'the lock: take (open, OFD lock, device+inode check) and release, median of 1000', unit: 'µs', ours: r.oursLock, peerName: "Python fcntl.lockf take and release (milvus-lite's ServerManager)", peer: r.pyLock },
    { section: 'milvus-lite server', metric: 'warm startAndGetUri (path already served), median of 1000', unit: 'µs', ours: r.oursWarm, peerName: 'Python start_and_get_uri', peer: r.pyWarm },
    { section: 'milvus-lite server', metric: 'stop: last release until the process has exited and files are removed', unit: 'ms', ours: r.oursStop, peerName: 'raw binary SIGTERM until exit', peer: r.rawStop },
    { section: 'milvus-lite server', metric: 'stop', unit: 'ms', ours: r.oursStop, peerName: 'Python release_server', peer: r.pyStop },
  ];
}
