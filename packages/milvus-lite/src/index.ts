// The package's public entry point: an explicit export list (the root layer; see docs/architecture.md for
// the layers below it). bin.ts and cli.ts are the command's entries; errors.ts, engine.ts and options.ts
// are what the layers share.
export { createMilvusLitePool } from './pool/milvus-lite-pool.js';
export type { MilvusLitePoolOptions } from './pool/milvus-lite-pool.js';
export { MilvusLiteServer } from './target/milvus-lite-server.js';
export type { MilvusLiteServerOptions } from './target/milvus-lite-server.js';
export { findMilvusLite } from './install/find-milvus-lite.js';
export type { FindMilvusLiteOptions } from './install/find-milvus-lite.js';
export { ServerManager, serverManagerInstance } from './pool/server-manager.js';
export type { ServerManagerOptions } from './pool/server-manager.js';
export { openMilvus } from './client/open-milvus.js';
export { milvusClientConfig } from './client/milvus-client-config.js';
export type { MilvusClientConfigOptions } from './client/milvus-client-config.js';
export type { LeasedMilvusClient, OpenMilvusOptions } from './client/open-milvus.js';
export { installMilvusLite, listSharedServers, migrateDatabase, stopSharedServer } from './cli/on-demand.js';
export type { InstallOptions } from './install/install.js';
export { isRemoteUri } from './target/remote-uri.js';
export { SharedServer, SharedServerLostError } from './share/shared-server.js';
export { RendezvousError, rendezvousDir } from './server/rendezvous.js';
export type { StatusInfo as SharedServerStatus } from './share/protocol.js';
export { cacheDir, cacheVenv, DEFAULT_MILVUS_LITE_VERSION } from './install/cache-dir.js';
export { MilvusLiteError, MilvusLiteInstallError, MilvusLiteNotFoundError, InvalidDatabaseError, ServerStartError, ServerExitedError, DatabaseReplacedError, RemoteUnreachableError, MilvusCallError, UnsupportedMethodError, DiskFullError, RefusedRequestError, MilvusStatusError, LockLostError, ServerConflictError, MigrateInputError, MigrationCountMismatchError } from './errors.js';
export type { EngineName, ExitInfo, Installation, StartStep, StartStepHook } from './engine.js';
export { KeyLockedError, StartError, LeaseRevokedError, PoolClosedError, AcquireTimeoutError, InvalidKeyError } from '@leasehold/pool';
export type { Lease, LeasePool } from '@leasehold/pool';
export type { MigrateOptions, MigrateProgress, MigrateSummary, MigratedCollection } from './cli/migrate.js';
