import type { Socket } from 'node:net';

/** The process at the other end of a unix-socket connection, as the kernel recorded it at `connect()`. */
export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

// Node has no SO_PEERCRED, Python does: it gets the accepted connection as its fd 3 (spawn's stdio
// duplicates the socket's descriptor) and prints `getsockopt(SOL_SOCKET, SO_PEERCRED)`'s struct
// ucred (pid, uid, gid: three C ints, socket(7)). detach() leaves the descriptor to the supervisor.
const kReadPeerCredentials = String.raw`
import socket, struct, sys
s = socket.socket(fileno=3)
try:
    pid, uid, gid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
finally:
    s.detach()
sys.stdout.write("%d %d %d\n" % (pid, uid, gid))
`;

/**
 * The kernel's credentials of the peer of `socket`, an accepted unix-socket connection (Linux
 * `SO_PEERCRED`, socket(7)), read by `python` (any CPython 3; the installation's venv python).
 * A peer cannot forge them, unlike a pid it announces. Takes a Python start, ~10-20 ms, so the
 * supervisor checks each connection once.
 *
 * @returns `undefined` off Linux (no `SO_PEERCRED`).
 * @throws Error naming the exit code and Python's stderr when the read fails.
 */
export async function peerCredentials(python: string, socket: Socket): Promise<PeerCredentials | undefined> {
  if (process.platform !== 'linux') return undefined;
  // execa is imported here, on first use: attaching loads nothing it does not run.
  const { execa } = await import('execa');
  // Handed to a child, the socket stops being read here (the child is meant to own it); this one
  // stays the supervisor's, so its reading resumes once Python is done (data waits in the kernel).
  const result = await execa(python, ['-I', '-S', '-c', kReadPeerCredentials], { stdio: ['ignore', 'pipe', 'pipe', socket], reject: false, timeout: 10_000 }).finally(() => socket.resume());
  const out = String(result.stdout);
  const err = String(result.stderr);
  const code = result.exitCode;
  const match = /^(-?\d+) (\d+) (\d+)$/.exec(out);
  if (code !== 0 || match === null) throw new Error(`reading the peer's credentials (SO_PEERCRED) with ${python} failed (exit code ${String(code)}): ${err.trim().split('\n').slice(-3).join(' | ') || out}`);
  return { pid: Number(match[1]), uid: Number(match[2]), gid: Number(match[3]) };
}
