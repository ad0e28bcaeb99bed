// The walkthrough of milvus-lite's Python ServerManager, in TypeScript:
//   uri = server_manager_instance.start_and_get_uri("./local.db")
//   client = MilvusClient(uri) ... server_manager_instance.release_server("./local.db")
// Run: node examples/dist/server-serverManagerInstance.js [dir]
import { join } from 'node:path';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { milvusClientConfig, serverManagerInstance } from '@leasehold/milvus-lite';
import { createTextCollection, dataDir, insertTexts, searchTexts } from './shared.js';

const dbPath = join(dataDir(), 'local.db');

const uri = await serverManagerInstance.startAndGetUri(dbPath);
if (uri === null) throw new Error(`could not start milvus-lite for ${dbPath} (the reason was logged above)`);
console.log(`started ${dbPath} at ${uri}`);
console.log(`same path, same server: ${(await serverManagerInstance.startAndGetUri(dbPath)) === uri}`);

const client = new MilvusClient(milvusClientConfig(uri));
await createTextCollection(client, 'notes');
await insertTexts(client, 'notes', ['buy milk and bread', 'call the plumber', 'book flights to Lisbon', 'water the plants']);
console.log(`nearest to "groceries milk": ${(await searchTexts(client, 'notes', 'groceries milk', 1)).join(', ')}`);
await client.closeConnection();

await serverManagerInstance.releaseServer(dbPath);
console.log('released');
await serverManagerInstance.releaseAll();
