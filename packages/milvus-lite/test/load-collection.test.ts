import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openMilvus } from '../src/index.js';
import { installationOf } from './support/installations.js';
import { expectReturnedOnceLoaded, loadLog } from './support/load-log.js';
import { freshDirs, poolsClosedAfterEach } from './support/scratch-dirs.js';

for (const engine of ['native', 'python'] as const) {
  const installation = installationOf(engine);
  describe.skipIf(installation === undefined)(`openMilvus's client loads without the SDK's sleep (milvus-lite, ${engine} engine)`, () => {
    const freshDir = freshDirs(`lh-load-${engine}-`);
    const newPool = poolsClosedAfterEach(installation);

    it('the quick createCollection, loadCollection and loadCollectionSync return once the load is complete', async () => {
      await using client = await openMilvus(join(freshDir(), 'load.db'), { pool: newPool() });
      expectReturnedOnceLoaded(await loadLog(client, () => client.createCollection({ collection_name: 'docs', dimension: 4 })));
      await client.insert({ collection_name: 'docs', data: [{ id: 1, vector: [0.1, 0.2, 0.3, 0.4] }] });
      await client.releaseCollection({ collection_name: 'docs' });
      expectReturnedOnceLoaded(await loadLog(client, () => client.loadCollection({ collection_name: 'docs' })));
      await client.releaseCollection({ collection_name: 'docs' });
      expectReturnedOnceLoaded(await loadLog(client, () => client.loadCollectionSync({ collection_name: 'docs' })));
      // Loaded indeed: a search answers.
      const { results } = await client.search({ collection_name: 'docs', data: [0.1, 0.2, 0.3, 0.4], limit: 1 });
      expect(results.map((hit) => Number(hit.id))).toEqual([1]);
    });

    it('a failed load rejects with the SDK’s error, as its own loadCollection does', async () => {
      await using client = await openMilvus(join(freshDir(), 'missing.db'), { pool: newPool() });
      await expect(client.loadCollection({ collection_name: 'absent' })).rejects.toThrow(/ErrorCode: /);
    });
  });
}
