import type { MilvusLiteServer } from './milvus-lite-server.js';

// What lives and dies with a server, e.g. openMilvus's shared MilvusClient: closed before it stops.
const attachments = new WeakMap<MilvusLiteServer, (() => Promise<void>)[]>();

/** Runs `close` when `server` stops (before its process goes), once. */
export function attachToServer(server: MilvusLiteServer, close: () => Promise<void>): void {
  const list = attachments.get(server);
  if (list === undefined) attachments.set(server, [close]);
  else list.push(close);
}

/** Closes what was attached to `server`; errors are swallowed (the server stops regardless). */
export async function closeAttachments(server: MilvusLiteServer): Promise<void> {
  const list = attachments.get(server);
  attachments.delete(server);
  if (list !== undefined) await Promise.all(list.map((close) => close().catch(() => {})));
}
