import { join } from 'node:path';
import { MilvusLiteServer, type MilvusLiteServerOptions } from '../target/milvus-lite-server.js';
import { makeOwnedTempDir, removeSocketDir } from '../server/socket-dir.js';

/** One database shared by a whole test run; `stop` ends it. */
export interface SharedDatabase {
  readonly uri: string;
  readonly dbPath: string;
  stop(): Promise<void>;
}

/**
 * For a vitest `globalSetup`: starts one server that every worker process of a suite can use.
 * Without `dbPath` the database lives in a temporary directory that `stop` removes; a given
 * `dbPath` is the caller's and is left in place.
 *
 * @example
 * // test/milvus.global-setup.ts, listed in vitest.config's test.globalSetup
 * export default async function ({ provide }: TestProject) {
 *   const shared = await startSharedDatabase();
 *   provide('milvusUri', shared.uri);
 *   return () => shared.stop();
 * }
 */
export async function startSharedDatabase(options: MilvusLiteServerOptions & { readonly dbPath?: string } = {}): Promise<SharedDatabase> {
  const { dbPath: given, ...serverOptions } = options;
  // Owner-marked: gone at exit, or swept by the next run if this process is killed.
  const dir = given === undefined ? await makeOwnedTempDir('leasehold-shared-') : undefined;
  const dbPath = given ?? join(dir!, 'shared.db');
  const server = new MilvusLiteServer(dbPath, serverOptions);
  await server.start();
  return {
    uri: server.uri,
    dbPath,
    async stop() {
      await server.stop();
      if (dir !== undefined) await removeSocketDir(dir);
    },
  };
}
