// DatabaseIdentity on real files and a real inotify watch: what it reports, when, and how often.
// The servers' use of it (a lease revoked when its database goes) is in support/engine-suite.ts.
import { mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatabaseIdentity } from '../src/server/database-identity.js';
import { freshDirs } from './support/scratch-dirs.js';

const freshDir = freshDirs('lh-identity-');

/** A DatabaseIdentity of `path` that records every change it reports. */
function watched(path: string): { identity: DatabaseIdentity; changes: string[] } {
  const changes: string[] = [];
  const identity = new DatabaseIdentity(path, (change) => changes.push(change));
  return { identity, changes };
}

describe('DatabaseIdentity', () => {
  it('the same file: check() is true and nothing is reported, even after the file is written', () => {
    const path = join(freshDir(), 'a.db');
    writeFileSync(path, 'one');
    const { identity, changes } = watched(path);
    writeFileSync(path, 'two');
    expect(identity.check()).toBe(true);
    expect(identity.check()).toBe(true);
    expect(changes).toEqual([]);
    identity.close();
  });

  it('deleted: check() is false and reports "deleted" once; later checks are true and report nothing', () => {
    const path = join(freshDir(), 'a.db');
    writeFileSync(path, '');
    const { identity, changes } = watched(path);
    unlinkSync(path);
    expect(identity.check()).toBe(false);
    expect(changes).toEqual(['deleted']);
    writeFileSync(path, '');
    expect(identity.check()).toBe(true);
    expect(changes).toEqual(['deleted']);
  });

  it('replaced by another file under the same name: "replaced"', () => {
    const dir = freshDir();
    const path = join(dir, 'a.db');
    writeFileSync(path, 'mine');
    writeFileSync(join(dir, 'other.db'), 'theirs');
    const { identity, changes } = watched(path);
    renameSync(join(dir, 'other.db'), path);
    expect(identity.check()).toBe(false);
    expect(changes).toEqual(['replaced']);
  });

  it('a directory database (the python engine) replaced: "replaced"', () => {
    const dir = freshDir();
    const path = join(dir, 'a.db');
    mkdirSync(path);
    mkdirSync(join(dir, 'other.db'));
    const { identity, changes } = watched(path);
    // Made before the old one goes: an inode freed by rmdir may be reused at once by the next mkdir.
    rmSync(path, { recursive: true });
    renameSync(join(dir, 'other.db'), path);
    expect(identity.check()).toBe(false);
    expect(changes).toEqual(['replaced']);
  });

  it('a file that does not exist yet: the first one seen is its own, and only a later change is reported', () => {
    const path = join(freshDir(), 'a.db');
    const { identity, changes } = watched(path);
    expect(identity.check()).toBe(true);
    writeFileSync(path, '');
    expect(identity.check()).toBe(true);
    expect(changes).toEqual([]);
    unlinkSync(path);
    expect(identity.check()).toBe(false);
    expect(changes).toEqual(['deleted']);
  });

  it('noticed without a check: the watch reports a deletion within milliseconds, once', async () => {
    const path = join(freshDir(), 'a.db');
    writeFileSync(path, '');
    const { identity, changes } = watched(path);
    unlinkSync(path);
    await expect.poll(() => changes, { timeout: 2000, interval: 5 }).toEqual(['deleted']);
    // Reported and closed: further events and checks say nothing more.
    writeFileSync(path, '');
    unlinkSync(path);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(identity.check()).toBe(true);
    expect(changes).toEqual(['deleted']);
  });

  it('the watched directory itself deleted: the deletion is reported', async () => {
    const dir = join(freshDir(), 'inner');
    mkdirSync(dir);
    const path = join(dir, 'a.db');
    writeFileSync(path, '');
    const { changes } = watched(path);
    rmSync(dir, { recursive: true });
    await expect.poll(() => changes, { timeout: 2000, interval: 5 }).toEqual(['deleted']);
  });

  it('the watch does not keep Node alive', () => {
    const path = join(freshDir(), 'a.db');
    writeFileSync(path, '');
    const watches = (): number => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;
    const before = watches();
    const { identity } = watched(path);
    expect(watches()).toBe(before);
    identity.close();
  });

  it('closed: nothing is reported, and check() is true whatever happened', async () => {
    const path = join(freshDir(), 'a.db');
    writeFileSync(path, '');
    const { identity, changes } = watched(path);
    identity.close();
    unlinkSync(path);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(identity.check()).toBe(true);
    expect(changes).toEqual([]);
    identity.close(); // twice is fine
  });

  it('a database whose directory cannot be watched (it does not exist): check() still decides', () => {
    const path = join(freshDir(), 'missing-dir', 'a.db');
    const { identity, changes } = watched(path);
    expect(identity.check()).toBe(true);
    mkdirSync(join(path, '..'));
    writeFileSync(path, '');
    expect(identity.check()).toBe(true);
    unlinkSync(path);
    expect(identity.check()).toBe(false);
    expect(changes).toEqual(['deleted']);
  });
});
