// The package's functions that `openMilvus` never calls, each loading its module on its first call,
// so that importing the package loads none of them (nor execa, async-mutex and proper-lockfile,
// which they import). Each keeps the signature and behaviour of the function it forwards to.

type Migrate = typeof import('./migrate.js');
type Install = typeof import('../install/install.js');
type Control = typeof import('../share/control.js');

/**
 * Copies collections (schema, indexes, partitions, rows) between a local database and a Milvus URI,
 * either way, and verifies the counts; never writes the source. See `migrate.ts` for the options,
 * the summary and the errors (`MigrateInputError`, `MigrationCountMismatchError`).
 *
 * @example
 * const summary = await migrateDatabase('./app.db', 'http://milvus:19530', { batchSize: 5000 });
 */
export async function migrateDatabase(...args: Parameters<Migrate['migrateDatabase']>): ReturnType<Migrate['migrateDatabase']> {
  return (await import('./migrate.js')).migrateDatabase(...args);
}

/**
 * Installs milvus-lite into leasehold's cache (once, across processes; see `install.ts`: the native
 * engine from its wheel with no Python, the python engine into a venv with pip) and resolves the
 * directory it installed into; a failure throws a `MilvusLiteInstallError` or `MilvusLiteError`.
 *
 * @example
 * const venv = await installMilvusLite({ version: '2.5.1' });
 */
export async function installMilvusLite(...args: Parameters<Install['installMilvusLite']>): ReturnType<Install['installMilvusLite']> {
  return (await import('../install/install.js')).installMilvusLite(...args);
}

/**
 * The shared servers of this user (what `leasehold-milvus status` prints): database, supervisor and
 * server pids, attached processes, idle time; `[]` when there are none.
 *
 * @example
 * for (const server of await listSharedServers()) console.log(server.dbPath, server.serverPid);
 */
export async function listSharedServers(...args: Parameters<Control['listSharedServers']>): ReturnType<Control['listSharedServers']> {
  return (await import('../share/control.js')).listSharedServers(...args);
}

/**
 * Stops the shared server of a database for everyone (`leasehold-milvus stop <db>`), revoking every
 * attached lease; resolves false when nobody serves it.
 *
 * @example
 * await stopSharedServer('./app.db');
 */
export async function stopSharedServer(...args: Parameters<Control['stopSharedServer']>): ReturnType<Control['stopSharedServer']> {
  return (await import('../share/control.js')).stopSharedServer(...args);
}
