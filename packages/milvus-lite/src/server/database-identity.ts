import { statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

/** A file's identity: device and inode (a path can be deleted and made again; an inode cannot). */
function identityOf(path: string): string | undefined {
  try {
    const stats = statSync(path, { bigint: true });
    return `${stats.dev}:${stats.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Watches the database a server opened, by identity (device and inode of the native engine's file,
 * of the python engine's directory), not by spelling. Its parent directory is watched (inotify, so
 * a change is noticed within milliseconds), and `check()` compares on demand (every cold acquire).
 * `onChange` is called once, synchronously, with what happened.
 */
export class DatabaseIdentity {
  readonly #path: string;
  #identity: string | undefined;
  #watcher: FSWatcher | undefined;
  #onChange: ((change: 'deleted' | 'replaced') => void) | undefined;

  constructor(path: string, onChange: (change: 'deleted' | 'replaced') => void) {
    this.#path = path;
    this.#onChange = onChange;
    this.#identity = identityOf(path);
    try {
      this.#watcher = watch(dirname(path), { persistent: false }, () => this.check());
      // The directory itself deleted or unwatchable: one last look decides.
      this.#watcher.on('error', () => {
        this.check();
        this.close();
      });
    } catch {
      // No inotify watches left: only the check on every cold acquire remains.
    }
  }

  /** Whether the database is still the file the server opened; calls `onChange` (once) if not. */
  check(): boolean {
    if (this.#onChange === undefined) return true;
    const now = identityOf(this.#path);
    // The native server may create its file just after it answers: the first identity seen is its own.
    if (this.#identity === undefined && now !== undefined) this.#identity = now;
    if (now === this.#identity) return true;
    const onChange = this.#onChange;
    this.close();
    onChange(now === undefined ? 'deleted' : 'replaced');
    return false;
  }

  close(): void {
    this.#onChange = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}
