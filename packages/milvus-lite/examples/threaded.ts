// worker_threads, one database per worker: each worker leases its own milvus-lite server, fills it
// and searches it, then reports to the main thread. Run: node examples/dist/threaded.js [dir]
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { openMilvus } from '@leasehold/milvus-lite';
import { createTextCollection, dataDir, insertTexts, searchTexts } from './shared.js';

interface Report {
  worker: number;
  pid: number;
  found: string;
}

if (isMainThread) {
  const dir = dataDir();
  const workers = 3;
  const reports = await Promise.all(
    Array.from(
      { length: workers },
      (_, worker) =>
        new Promise<Report>((resolve, reject) => {
          const thread = new Worker(new URL(import.meta.url), { workerData: { dbPath: join(dir, `worker-${worker}.db`), worker } });
          thread.once('message', resolve);
          thread.once('error', reject);
          thread.once('exit', (code) => code !== 0 && reject(new Error(`worker ${worker} exited with ${code}`)));
        }),
    ),
  );
  for (const r of reports) console.log(`worker ${r.worker}: server pid ${r.pid}, found "${r.found}"`);
  console.log(`distinct servers: ${new Set(reports.map((r) => r.pid)).size}`);
} else {
  const { dbPath, worker } = workerData as { dbPath: string; worker: number };
  await using client = await openMilvus(dbPath);
  await createTextCollection(client, 'items');
  await insertTexts(client, 'items', [`item from worker ${worker}`, 'something else entirely', 'another unrelated thing']);
  const [found] = await searchTexts(client, 'items', `worker ${worker} item`, 1);
  parentPort!.postMessage({ worker, pid: client.lease.resource.pid!, found: found! } satisfies Report);
}
