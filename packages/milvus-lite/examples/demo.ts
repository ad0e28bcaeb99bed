// `pnpm demo`: two tenants, each with its own milvus-lite database and server, leased from one
// pool. Installs milvus-lite into leasehold's cache first if it is not found.
// Run: node examples/dist/demo.js [dir]
import { join } from 'node:path';
import {
  createMilvusLitePool,
  findMilvusLite,
  installMilvusLite,
  MilvusLiteNotFoundError,
  openMilvus,
  type Installation,
} from '@leasehold/milvus-lite';
import { createTextCollection, dataDir, insertTexts, searchTexts } from './shared.js';

async function provision(): Promise<Installation> {
  try {
    return await findMilvusLite();
  } catch (error) {
    if (!(error instanceof MilvusLiteNotFoundError)) throw error;
    console.log('milvus-lite was not found; installing it into leasehold\'s cache (once, about a minute)…');
    await installMilvusLite({ log: (line) => console.log(`  ${line}`) });
    return findMilvusLite();
  }
}

const tenants = {
  acme: {
    docs: ['Invoices are due within 30 days of delivery', 'Our support desk is open 9 to 5 on weekdays', 'Returns are accepted within two weeks', 'The warehouse ships orders every morning'],
    questions: ['when do I have to pay an invoice', 'how do I return an order'],
  },
  globex: {
    docs: ['The reactor is inspected every quarter', 'Visitors must wear a badge at all times', 'Lunch is served in the east cafeteria', 'Parking permits renew each January'],
    questions: ['where can I eat lunch', 'what do visitors need to wear'],
  },
} as const;

const installation = await provision();
const dir = dataDir();
console.log(`milvus-lite ${installation.version} (${installation.engine} engine, from ${installation.source})`);
console.log(`databases in ${dir}\n`);

await using pool = createMilvusLitePool({ installation });
for (const [tenant, { docs, questions }] of Object.entries(tenants)) {
  const started = performance.now();
  await using client = await openMilvus(join(dir, `${tenant}.db`), { pool });
  const ms = (performance.now() - started).toFixed(0);
  console.log(`[${tenant}] server pid ${client.lease.resource.pid} at ${client.lease.resource.uri} (ready in ${ms} ms)`);
  await createTextCollection(client, 'handbook');
  await insertTexts(client, 'handbook', docs);
  for (const question of questions) {
    const [best, next] = await searchTexts(client, 'handbook', question, 2);
    console.log(`[${tenant}] Q: ${question}\n         1. ${best}\n         2. ${next}`);
  }
  console.log('');
}
console.log(`servers running after the demo: ${pool.stats().resources} (each stopped when its lease was released)`);
