import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
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
      env: { TMPDIR: tmp, MILVUS_LITE_PYTHON: installation!.python },
      reject: false,
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').at(-1)!), result.stdout).toEqual({ code: 'Success' });
    expect(result.stderr).not.toMatch(/excess pings/);
    expect(readdirSync(tmp).sort()).toEqual(['lh-foreign', 'lh-live1']);
    expect(readdirSync(data).sort()).toEqual(['app.db']);
  });
});
