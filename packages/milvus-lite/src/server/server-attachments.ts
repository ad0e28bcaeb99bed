import { registry } from './registry.js';

// What lives and dies with a server, e.g. openMilvus's shared MilvusClient: closed before it stops.
// Kept in the process-wide registry, so a server stopped by another copy of the package closes them too.
const attachments = () => registry().attachments;

/** Runs `close` when `server` stops (before its process goes), once. */
export function attachToServer(server: object, close: () => Promise<void>): void {
  const list = attachments().get(server);
  if (list === undefined) attachments().set(server, [close]);
  else list.push(close);
}

/** Closes what was attached to `server`; errors are swallowed (the server stops regardless). */
export async function closeAttachments(server: object): Promise<void> {
  const list = attachments().get(server);
  attachments().delete(server);
  if (list !== undefined) await Promise.all(list.map((close) => close().catch(() => {})));
}

// Who wants to know a starting server's address before it answers (openMilvus builds its client meanwhile).
const addressListeners = new Map<string, Set<(uri: string) => void>>();

/**
 * Calls `listener` with the URI a server of `dbPath` (normalized) will serve on, as soon as it is
 * known and before the server answers, for every start from now on. Returns the unsubscribe.
 */
export function onServerAddress(dbPath: string, listener: (uri: string) => void): () => void {
  let set = addressListeners.get(dbPath);
  if (set === undefined) addressListeners.set(dbPath, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && addressListeners.get(dbPath) === set) addressListeners.delete(dbPath);
  };
}

/** Called by a starting server once its address is known. Listeners' errors are theirs. */
export function announceServerAddress(dbPath: string, uri: string): void {
  for (const listener of addressListeners.get(dbPath) ?? []) {
    try {
      listener(uri);
    } catch {
      // a listener's failure never fails the start
    }
  }
}
