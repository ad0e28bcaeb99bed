import { setTimeout as sleep } from 'node:timers/promises';
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';

/** The first wait between load-progress polls (ms); each next one doubles, up to kLoadPollMaxMs. */
export const kLoadPollFirstMs = 10;
/** The longest wait between polls (ms): the SDK's own fixed interval, so a remote cluster is never polled harder than the SDK does. */
export const kLoadPollMaxMs = 400;

type LoadRequest = Parameters<MilvusClient['loadCollection']>[0];
type LoadStatus = Awaited<ReturnType<MilvusClient['loadCollection']>>;

/**
 * Polls `getLoadingProgress` until the collection is loaded (progress 100), waiting 10, 20, 40 …
 * up to 400 ms between polls and not at all after the last. Throws the SDK's own error
 * (`ErrorCode: X. Reason: Y`) when a poll fails.
 */
export async function waitUntilLoaded(client: MilvusClient, request: Pick<LoadRequest, 'collection_name' | 'db_name'>): Promise<void> {
  const query = { collection_name: request.collection_name, ...(request.db_name ? { db_name: request.db_name } : {}) };
  for (let waitMs = kLoadPollFirstMs; ; waitMs = Math.min(waitMs * 2, kLoadPollMaxMs)) {
    const { status, progress } = await client.getLoadingProgress(query);
    if (status.error_code !== 'Success') throw new Error(`ErrorCode: ${status.error_code}. Reason: ${status.reason}`);
    if (Number(progress) >= 100) return;
    await sleep(waitMs);
  }
}

/**
 * Replaces `client`'s `loadCollection` and `loadCollectionSync` (an own property the SDK's
 * constructor copies from `loadCollection`, which the quick `createCollection({ dimension })`
 * calls) with ones that resolve as soon as the load is complete. The SDK's (2.5 to 3.0.6,
 * dist/milvus/grpc/Collection.js) sleeps 400 ms after every progress poll, the last one included,
 * so a quick `createCollection` on milvus-lite took ~440 ms, nearly all of it that sleep.
 * Same request, result and errors as the SDK's; only the waits between polls differ.
 */
export function loadWithoutSleep(client: MilvusClient): void {
  const loadCollection = async (data: LoadRequest): Promise<LoadStatus> => {
    const status = await client.loadCollectionAsync(data);
    if (status.error_code !== 'Success') throw new Error(`ErrorCode: ${status.error_code}. Reason: ${status.reason}`);
    await waitUntilLoaded(client, data);
    return status;
  };
  client.loadCollection = loadCollection;
  client.loadCollectionSync = loadCollection;
}
