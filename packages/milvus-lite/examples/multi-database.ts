// One application, three databases (users, products, analytics), each its own milvus-lite server,
// all leased from one pool. Run: node examples/dist/multi-database.js [dir]
import { join } from 'node:path';
import { openMilvus, createMilvusLitePool } from '@leasehold/milvus-lite';
import { createTextCollection, dataDir, insertTexts, searchTexts } from './shared.js';

const dir = dataDir();
const corpus = {
  users: ['alice likes hiking and photography', 'bob writes rust and plays chess', 'carol paints and bakes bread'],
  products: ['trail running shoes', 'mirrorless camera with zoom lens', 'sourdough starter kit', 'wooden chess set'],
  analytics: ['checkout conversion dropped on mobile', 'search latency improved after index change', 'signups rose after the spring campaign'],
} as const;
const queries = { users: 'who enjoys chess', products: 'camera for photos', analytics: 'why did mobile checkout drop' } as const;

await using pool = createMilvusLitePool();
const pids = new Set<number>();
for (const name of Object.keys(corpus) as (keyof typeof corpus)[]) {
  await using client = await openMilvus(join(dir, `${name}.db`), { pool });
  pids.add(client.lease.resource.pid!);
  await createTextCollection(client, name);
  await insertTexts(client, name, corpus[name]);
  const [best] = await searchTexts(client, name, queries[name], 1);
  console.log(`${name.padEnd(9)} "${queries[name]}" -> ${best}`);
}
console.log(`servers: ${pids.size}, still running: ${pool.stats().resources}`);
