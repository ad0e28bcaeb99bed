// A native server that exits while starting, on a damaged wheel install: the error names the
// cause. Apart from wheel-install.test.ts because it starts a real server (in .ci/no-python's
// server-starting part, with the native e2e suite).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findMilvusLite, MilvusLiteServer, ServerStartError } from '../src/index.js';
import { installNative } from '../src/install/install-native.js';
import { freshDirs } from './support/scratch-dirs.js';
import { testWheel } from './support/wheel-index.js';

const wheel = testWheel();
const freshDir = freshDirs('lh-wheel-start-');
const linuxX64 = { os: 'linux', arch: 'x64', libc: { family: 'glibc', version: '2.36' } } as const;
const install = (cache: string, env: Record<string, string>) => installNative({ version: '2.5.1', env: { LEASEHOLD_CACHE_DIR: cache, ...env }, platform: linuxX64 });

describe.skipIf(wheel === undefined)('a native start that fails on a damaged install', () => {
  it("names the cause: the loader's own line for a missing library, then each file that fails its hash", async () => {
    const cache = freshDir();
    await install(cache, { LEASEHOLD_MILVUS_LITE_WHEEL: wheel! });
    const lib = join(cache, 'milvus-lite-native-2.5.1', 'lib');
    rmSync(join(lib, 'libknowhere.so'));
    writeFileSync(join(lib, 'libz.so.1'), Buffer.alloc(99640)); // same size, other bytes: only the hash tells
    const installation = await findMilvusLite({ binary: join(lib, 'milvus'), env: { PATH: process.env['PATH'] ?? '', LEASEHOLD_CACHE_DIR: cache } });
    const error = await new MilvusLiteServer(join(freshDir(), 'app.db'), { installation }).start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerStartError);
    const message = (error as Error).message;
    expect(message).toContain('libknowhere.so: cannot open shared object file');
    expect(message).toContain(`The milvus-lite 2.5.1 install fails its check:\n  - ${join(lib, 'libknowhere.so')} is missing\n  - ${join(lib, 'libz.so.1')} has sha256 `);
    expect(message).toContain("run `leasehold-milvus install` (it reinstalls what is damaged)");
  });
});
