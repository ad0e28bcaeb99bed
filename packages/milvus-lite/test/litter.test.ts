import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { installationOf } from './support/installations.js';
import { freshDirs } from './support/scratch-dirs.js';

const installation = installationOf('native');
const script = fileURLToPath(new URL('fixtures/open-and-release.mjs', import.meta.url));
const freshDir = freshDirs('lh-litter-');

describe.skipIf(installation === undefined)("nothing left in the user's tmp", () => {
  it('glog files go with the private socket dir; socket dirs of dead processes are swept, others kept', async () => {
    const tmp = freshDir();
    const data = freshDir();
    const dead = spawnSync('true').pid;
    const stale = join(tmp, 'lh-stale1');
    mkdirSync(stale);
    writeFileSync(join(stale, 'leasehold.pid'), String(dead));
    writeFileSync(join(stale, 'milvus.INFO'), 'old log');
    mkdirSync(join(tmp, 'lh-foreign')); // no owner file: not ours, never touched
    const live = join(tmp, 'lh-live1');
    mkdirSync(live);
    writeFileSync(join(live, 'leasehold.pid'), String(process.pid));
    const result = await execa(process.execPath, [script, join(data, 'app.db')], {
      env: { TMPDIR: tmp, MILVUS_LITE_PYTHON: installation!.python ?? '' },
      reject: false,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').at(-1)!), result.stdout).toEqual({ code: 'Success' });
    expect(result.stderr).not.toMatch(/excess pings/);
    expect(readdirSync(tmp).sort()).toEqual(['lh-foreign', 'lh-live1']);
    expect(readdirSync(data).sort()).toEqual(['.app.db.lock', 'app.db']) // the empty lock file stays: see lock-file.ts;
  });

  it("entries another user could plant in a shared tmp stall nothing and are left alone: a FIFO for the owner file, a symbolic link, another user's directory", async () => {
    const tmp = freshDir();
    const data = freshDir();
    const dead = String(spawnSync('true').pid);
    // A FIFO: a plain read blocks until a writer comes, in a thread-pool thread (the start stalled, and the process could not exit).
    mkdirSync(join(tmp, 'lh-fifo'));
    expect(spawnSync('mkfifo', [join(tmp, 'lh-fifo', 'leasehold.pid')]).status).toBe(0);
    // A symbolic link to a directory whose owner file names a dead process: the link is not a socket directory.
    const target = join(data, 'target');
    mkdirSync(target);
    writeFileSync(join(target, 'leasehold.pid'), dead);
    symlinkSync(target, join(tmp, 'lh-link'));
    // The owner file itself a link to a file naming a dead process.
    mkdirSync(join(tmp, 'lh-filelink'));
    writeFileSync(join(data, 'pid'), dead);
    symlinkSync(join(data, 'pid'), join(tmp, 'lh-filelink', 'leasehold.pid'));
    const kept = ['lh-fifo', 'lh-filelink', 'lh-link'];
    // Another user's directory (made by chown when the tests run as root, as in CI): not ours to sweep.
    if (process.getuid!() === 0) {
      const other = join(tmp, 'lh-other');
      mkdirSync(other);
      writeFileSync(join(other, 'leasehold.pid'), dead);
      chownSync(other, 65534, 65534);
      kept.push('lh-other');
    }
    const result = await execa(process.execPath, [script, join(data, 'app.db')], {
      env: { TMPDIR: tmp, MILVUS_LITE_PYTHON: installation!.python ?? '' },
      reject: false,
      timeout: 30_000,
    });
    expect(result.timedOut).toBe(false);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').at(-1)!), result.stdout).toEqual({ code: 'Success' });
    expect(readdirSync(tmp).sort()).toEqual(kept.sort());
    expect(readFileSync(join(target, 'leasehold.pid'), 'utf8')).toBe(dead);
    expect(readdirSync(data).sort()).toEqual(['.app.db.lock', 'app.db', 'pid', 'target']);
  });
});
