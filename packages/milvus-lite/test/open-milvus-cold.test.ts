import { join } from 'node:path';
import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openMilvus } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

type BuiltClients = { readonly mock: { readonly contexts: MilvusClient[] } };

/** Every MilvusClient built from now on: both SDK lines' constructors call createChannelPool (the SDK's own method). */
function spyOnBuiltClients(): BuiltClients {
  return vi.spyOn(MilvusClient.prototype as unknown as { createChannelPool: () => unknown }, 'createChannelPool') as unknown as BuiltClients;
}

/** Resolves once a client of `uri` has been built; a start step's hook awaits it, holding the start there. */
function clientBuiltFor(built: BuiltClients, uri: string | undefined): Promise<void> {
  return vi.waitFor(() => expect(built.mock.contexts.map((client) => client.config.address)).toContain(uri), { timeout: 30_000, interval: 5 });
}

// openMilvus builds a cold server's client while the server starts (as soon as its address is
// known, with the SDK's __SKIP_CONNECT__), and connects it only once the server answered.
describe.each(['native', 'python'] as const)('openMilvus on a cold %s server', (engine) => {
  const installation = installationOf(engine);
  const freshDir = freshDirs(`lh-cold-${engine}-`);
  const newPool = poolsClosedAfterEach(installation);
  const dbName = engine === 'native' ? 'cold.db' : 'cold';
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.skipIf(installation === undefined)('builds the client during the start, connects it once after the server answered; concurrent opens keep one', async () => {
    const events: string[] = [];
    const original = MilvusClient.prototype.connect;
    const connect = vi.spyOn(MilvusClient.prototype, 'connect').mockImplementation(function (this: MilvusClient, version: string) {
      events.push(`connect ${this.config.address}`);
      original.call(this, version);
    });
    const built = spyOnBuiltClients();
    const close = vi.spyOn(MilvusClient.prototype, 'closeConnection');
    const pool = newPool({
      onStartStep: async (step, info) => {
        events.push(`step ${step}`);
        // The server is spawned and not yet asked: its client gets built meanwhile (without the
        // early client, nothing is built before the start ends, and this wait fails the start).
        if (step === 'ready') {
          await clientBuiltFor(built, info.uri);
          events.push(`ready for ${info.uri}`);
        }
      },
    });
    const dbPath = join(freshDir(), dbName);
    const handles = await Promise.all(Array.from({ length: 3 }, () => openMilvus(dbPath, { pool })));
    const uri = handles[0]!.lease.resource.uri;
    expect(new Set(handles.map((h) => h.channelPool)).size).toBe(1);
    // One connect, of the server's address, after the ready step; nothing was closed.
    expect((connect.mock.contexts as MilvusClient[]).map((client) => client.config.address)).toEqual([uri]);
    // The ready step comes before the probe; the connect only after the lease, i.e. after an answer.
    expect(events.indexOf(`connect ${uri}`)).toBeGreaterThan(events.indexOf(`ready for ${uri}`));
    expect(events.indexOf(`ready for ${uri}`)).toBeGreaterThan(-1);
    expect(close).not.toHaveBeenCalled();
    expect(new Set(built.mock.contexts).size).toBe(1);
    for (const handle of handles) expect((await handle.listCollections()).status.error_code).toBe('Success');
    await Promise.all(handles.map((h) => h[Symbol.asyncDispose]()));
    // A warm open of a running server builds nothing and connects nothing.
    const holder = await openMilvus(dbPath, { pool }); // a cold start again: the last release stopped it
    const [clients, connects] = [new Set(built.mock.contexts).size, connect.mock.calls.length];
    const warm = await openMilvus(dbPath, { pool });
    expect([new Set(built.mock.contexts).size, connect.mock.calls.length]).toEqual([clients, connects]);
    expect((await warm.hasCollection({ collection_name: 'nope' })).value).toBe(false);
    await warm[Symbol.asyncDispose]();
    await holder[Symbol.asyncDispose]();
  });
  it.skipIf(installation === undefined)('with a pool given, share: true is ignored: the pool serves it, and the client is still built during the start', async () => {
    const built = spyOnBuiltClients();
    const pool = newPool({
      onStartStep: async (step, info) => {
        if (step === 'ready') await clientBuiltFor(built, info.uri);
      },
    });
    const handle = await openMilvus(join(freshDir(), dbName), { pool, share: true });
    expect(pool.stats()).toMatchObject({ resources: 1, leases: 1 });
    expect((handle.lease.resource as unknown as { supervisorPid?: number }).supervisorPid).toBeUndefined();
    expect(new Set(built.mock.contexts).size).toBe(1);
    await handle[Symbol.asyncDispose]();
  });
  it.skipIf(installation === undefined)('a start that fails after its client was built: the open rejects with the failure, and that client is closed', async () => {
    const built = spyOnBuiltClients();
    const close = vi.spyOn(MilvusClient.prototype, 'closeConnection');
    const failure = new Error('injected at the ready step');
    let uri = '';
    const pool = newPool({
      onStartStep: async (step, info) => {
        if (step !== 'ready') return;
        await clientBuiltFor(built, info.uri);
        uri = info.uri!;
        throw failure;
      },
    });
    const error = await openMilvus(join(freshDir(), dbName), { pool }).catch((e: unknown) => e);
    expect((error as Error).cause ?? error).toBe(failure);
    expect(pool.stats()).toMatchObject({ resources: 0, leases: 0 });
    await vi.waitFor(() => expect((close.mock.contexts as MilvusClient[]).map((client) => client.config.address)).toEqual([uri]), { timeout: 5000, interval: 5 });
  });
  it.skipIf(installation === undefined)('the client is begun at the spawn step, when the address is first known (not at a later one)', async () => {
    const built = spyOnBuiltClients();
    const pool = newPool({
      onStartStep: async (step, info) => {
        // Held at the spawn step (the process is not spawned yet): the client of its address gets built meanwhile.
        if (step === 'spawn') await clientBuiltFor(built, info.uri);
      },
    });
    const handle = await openMilvus(join(freshDir(), dbName), { pool });
    expect(new Set(built.mock.contexts).size).toBe(1);
    expect((await handle.listCollections()).status.error_code).toBe('Success');
    await handle[Symbol.asyncDispose]();
  });
});
