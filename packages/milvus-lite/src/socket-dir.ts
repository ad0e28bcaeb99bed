import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Unix socket paths must fit in sun_path (108 bytes with the NUL). */
export const kMaxSocketPath = 107;

/**
 * A private (0700, owned by us, fresh: mkdtemp never reuses a path) directory for one server's
 * socket, under the OS temp dir or `/tmp` when that is too long for the socket path limit.
 */
export async function makeSocketDir(socketName: string): Promise<{ dir: string; socketPath: string }> {
  let base = tmpdir();
  if (Buffer.byteLength(join(base, 'lh-XXXXXX', socketName)) > kMaxSocketPath) base = '/tmp';
  const dir = await mkdtemp(join(base, 'lh-'));
  return { dir, socketPath: join(dir, socketName) };
}

export async function removeSocketDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => {});
}
