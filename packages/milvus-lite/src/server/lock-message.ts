import type { LockBusyError } from './lock-file.js';
import { heldInThisProcess } from './registry.js';

/**
 * The "in use" error's words for a database whose lock file is busy: who holds it (this process,
 * another leasehold process of this user with its pid, a Python milvus-lite, another user) and
 * what to do, saying how to share where sharing would work (a leasehold holder of this user).
 */
export function busyDetail(error: LockBusyError, lockPath: string): string {
  const holder = error.holder;
  if (holder.kind === 'this-process') {
    const here = heldInThisProcess(lockPath);
    return `this process already runs its server (${here ?? 'from another worker thread, or a copy of @leasehold/milvus-lite that does not share this one\'s registry'}); its lock is ${lockPath}`;
  }
  const who = error.message.slice(`${lockPath} is locked by `.length);
  return `${who} runs its server; its lock is ${lockPath}`;
}

/** What to do about it, by holder. */
export function busyFix(error: LockBusyError): string {
  const holder = error.holder;
  switch (holder.kind) {
    case 'this-process':
      return 'open it with `share: true` (or LEASEHOLD_SHARE=1) in every thread or copy that opens it, so they attach to one shared server, or use another path';
    case 'leasehold':
      return holder.shared
        ? 'open it with `share: true` (or set LEASEHOLD_SHARE=1) to attach to that shared server'
        : 'to share one server between processes, open it with `share: true` (or set LEASEHOLD_SHARE=1) in every process, or stop the other process, or use another path';
    case 'python':
      return 'stop the Python server (release_all(), or close its MilvusClient), or use another path';
    case 'other-user':
      return 'a server is never shared between users: that user must stop it, or use another path';
    default:
      return 'stop the other process or use another path';
  }
}
