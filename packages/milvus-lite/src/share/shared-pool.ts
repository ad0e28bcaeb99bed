// The share layer: one server per database shared by every process of the user, through a
// supervisor process (supervisor*.ts), its rendezvous directory and protocol, and the lease pool of
// attachments (this file). It may import options.ts, target/, server/, install/ and the shared root
// files, never pool/ (which calls it), testing/, client/ or cli/.
import type { LeasePool } from '@leasehold/pool';
import { findOrInstall } from '../install/find-or-install.js';
import type { MilvusLitePoolOptions } from '../options.js';
import { MilvusLiteServer } from '../target/milvus-lite-server.js';
import { isRemoteUri, normalizeTarget } from '../target/remote-uri.js';
import { MilvusLiteLeasePool } from '../target/remote-timeout-pool.js';
import { SharedServer } from './shared-server.js';
import { acquireServer, termsOf, type ServerRef } from '../server/registry.js';

/** Whether `share` is on: the option, else `LEASEHOLD_SHARE=1`. */
export function shareRequested(share: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (share !== undefined) return share;
  const raw = env['LEASEHOLD_SHARE'];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  // A typo ('yes', 'on') must not quietly mean "off": the user asked for sharing.
  throw new RangeError(`LEASEHOLD_SHARE must be 1 or true (share), or 0, false or empty (do not), got ${JSON.stringify(raw)}`);
}

/**
 * `createMilvusLitePool({ share: true })`: leases inside this process work as without `share` (the
 * hot path is the same pool), but a key's resource is this process's attachment to the database's
 * shared server, owned by a supervisor process. The attachment (one unix-socket connection) is made
 * on the first lease and closed at the last release; the supervisor stops the server once no
 * process is attached and the longest `idleTimeoutMs` any of them asked for has passed.
 * `attachment` keeps this process's attachment (and the client built on it) for
 * `attachment.idleTimeoutMs` after its last release instead, at most `attachment.maxIdle` of them:
 * openMilvus's default shared pool, warm for its requests as the default pool is.
 */
export function createSharedPool(options: MilvusLitePoolOptions, holder: string, attachment: { readonly idleTimeoutMs?: number; readonly maxIdle?: number } = {}): LeasePool<MilvusLiteServer> {
  // maxIdle does not apply: an attachment goes with its last lease (the idle wait is the supervisor's).
  const { idleTimeoutMs, maxResources, maxIdle: _maxIdle, captureStacks, onError, lock, share: _share, ...serverOptions } = options;
  if (lock) throw new TypeError('lock and share cannot be combined: a shared server is excluded by its supervisor’s own lock');
  if (idleTimeoutMs !== undefined && !(typeof idleTimeoutMs === 'number' && idleTimeoutMs >= 0)) throw new RangeError(`idleTimeoutMs must be a number ≥ 0, got ${String(idleTimeoutMs)}`);
  // This pool's reference to each attachment, in the process-wide registry (one per database per process).
  const refs = new Map<string, ServerRef>();
  return new MilvusLiteLeasePool({
    ...(maxResources === undefined ? {} : { maxResources }),
    ...(captureStacks === undefined ? {} : { captureStacks }),
    ...(onError === undefined ? {} : { onError }),
    // The attachment goes with the last lease (the idle wait is the supervisor's), unless kept.
    idleTimeoutMs: attachment.idleTimeoutMs ?? 0,
    ...(attachment.maxIdle === undefined ? {} : { maxIdle: attachment.maxIdle }),
    normalizeKey: normalizeTarget,
    async start(key, { signal, lost }) {
      if (isRemoteUri(key)) return new MilvusLiteServer(key, serverOptions).start({ signal });
      const installation = serverOptions.installation ?? (await findOrInstall(serverOptions));
      // Loaded with the first shared start: a pool without `share` never loads the supervisor's side.
      const { attachShared } = await import('./attach.js');
      const attach = (startSignal: AbortSignal): Promise<SharedServer> =>
        attachShared(key, { ...serverOptions, installation, signal: startSignal, ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }) });
      const ref = await acquireServer(key, termsOf(installation, { share: true }), holder, attach, signal);
      refs.set(key, ref);
      const server = ref.server as SharedServer;
      void server.exited.then(() => {
        if (!server.detaching) lost(server.lostReason);
      });
      return server;
    },
    async stop(server, { key }) {
      const ref = refs.get(key);
      if (ref === undefined || ref.server !== server) return void (await server.stop());
      refs.delete(key);
      await ref.release();
    },
  });
}

export { SharedServer };
