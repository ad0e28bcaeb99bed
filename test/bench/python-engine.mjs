// The python engine (milvus-lite 3.x): cold start until a gRPC call answers, ours (the wrapper on a
// private unix socket) against milvus-lite's own start_server_in_thread on a TCP port, spawned the
// same way and ready by the same probe. Each run interleaves the two.
// Usage alone: node test/bench/run.mjs --only python-engine --no-write
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { findMilvusLite, MilvusLiteServer } from '../../packages/milvus-lite/dist/index.js';
import { grpcAnswers } from '../../packages/milvus-lite/dist/server/grpc-probe.js';

const kRaw = String.raw`
import sys
from milvus_lite.adapter.grpc.server import start_server_in_thread
server, db, port = start_server_in_thread(sys.argv[1])
print(port, flush=True)
sys.stdin.read()
server.stop(grace=2).wait(); db.close()
`;

/** milvus-lite's own thread server, from spawn until the probe answers on its port. */
async function rawCold(installation, dir) {
  const t0 = performance.now();
  const child = execa(installation.python, ['-c', kRaw, join(dir, 'raw')], { reject: false, stdin: 'pipe' });
  const port = Number(await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve)));
  let delay = 1;
  while (!(await grpcAnswers({ host: '127.0.0.1', port }, 2000))) {
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 25);
  }
  const cold = performance.now() - t0;
  child.stdin.end();
  await child;
  return cold;
}

const COLD_PER_RUN = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function bench({ runs, log }) {
  const installation = await findMilvusLite({ engine: 'python' });
  const r = { ours: [], raw: [], stop: [] };
  for (let run = 0; run < runs; run++) {
    const cold = { ours: [], raw: [], stop: [] };
    for (let i = 0; i < COLD_PER_RUN; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'lh-bench-py-'));
      try {
        const t0 = performance.now();
        const server = await new MilvusLiteServer(join(dir, 'ours'), { installation }).start();
        cold.ours.push(performance.now() - t0);
        const s0 = performance.now();
        await server.stop();
        cold.stop.push(performance.now() - s0);
        cold.raw.push(await rawCold(installation, dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    for (const key of ['ours', 'raw', 'stop']) r[key].push(median(cold[key]));
    log(`run ${run + 1}: cold ours ${r.ours.at(-1).toFixed(0)} ms, start_server_in_thread ${r.raw.at(-1).toFixed(0)} ms, stop ${r.stop.at(-1).toFixed(0)} ms`);
  }
  return [
    { section: 'milvus-lite 3.x (python engine)', metric: `cold start until a gRPC call answers (${installation.version}), median of ${COLD_PER_RUN} per run`, unit: 'ms', ours: r.ours, peerName: "milvus-lite's own start_server_in_thread (TCP), spawn until the same call answers", peer: r.raw },
    { section: 'milvus-lite 3.x (python engine)', metric: 'graceful stop (SIGINT until exit)', unit: 'ms', ours: r.stop },
  ];
}
