import { ServerStartError } from '../errors.js';

/** A grant of Node's permission model that leasehold needs for some of its work. */
export type PermissionGrant = 'worker' | 'child' | 'addon';

const kFlags: Readonly<Record<PermissionGrant, string>> = { worker: '--allow-worker', child: '--allow-child-process', addon: '--allow-addons' };
const kWhat: Readonly<Record<PermissionGrant, string>> = {
  worker: 'worker threads (the native engine spawns its servers from one)',
  child: 'child processes (the servers, the shared-server supervisor)',
  addon: 'native addons (the lock, fs-native-extensions)',
};

/**
 * What Node's permission model (`--permission`; `--experimental-permission` before Node 22)
 * forbids of `needs`, and the flags that allow all of it; undefined when the model is off or
 * allows it. The spawner thread would spawn even without `--allow-child-process` (Node does not
 * restrict a worker's child processes): leasehold asks for it anyway, as the user's word on child
 * processes. `addon` is asked from Node 22 only: Node 20 answers `has('addon')` false even with
 * `--allow-addons`; there a refused addon says so when it is loaded (lock-file.ts).
 */
export function permissionProblem(needs: readonly PermissionGrant[]): string | undefined {
  const permission = (process as { permission?: { has(scope: string): boolean } }).permission;
  if (permission === undefined) return undefined;
  const askable = Number(process.versions.node.split('.')[0]) >= 22 ? needs : needs.filter((grant) => grant !== 'addon');
  const missing = askable.filter((grant) => !permission.has(grant));
  if (missing.length === 0) return undefined;
  return `Node's permission model is on and forbids ${missing.map((grant) => kWhat[grant]).join(' and ')}; run with ${needs.map((grant) => kFlags[grant]).join(' ')}`;
}

/** @throws ServerStartError for `dbPath` ("was not started: …") when Node's permission model forbids any of `needs`; see `permissionProblem`. */
export function assertPermitted(dbPath: string, needs: readonly PermissionGrant[]): void {
  const forbidden = permissionProblem(needs);
  if (forbidden !== undefined) throw new ServerStartError(dbPath, `was not started: ${forbidden}`);
}
