// The native engine's install from the wheel, with no Python, through a local PEP 503 index over
// 127.0.0.1 serving the real milvus-lite 2.5.1 wheel; and each bad input the issue names.
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findMilvusLite, MilvusLiteInstallError, MilvusLiteNotFoundError } from '../src/index.js';
import { installNative, type NativeInstallOptions } from '../src/install/install-native.js';
import { platformChecks } from '../src/install/diagnose.js';
import { kPinnedWheelSha256 } from '../src/install/pins.js';
import { makeWheel, type FakeWheelFile } from './support/fake-wheel.js';
import { freshDirs } from './support/scratch-dirs.js';
import { kTestWheelName, namesIn, serveIndex, serveProxy, sha256Of, testWheel, type LocalIndex } from './support/wheel-index.js';

const wheel = testWheel();
const freshDir = freshDirs('lh-wheel-');
const kFast = { attempts: 3, retryDelayMs: 20, stallTimeoutMs: 2_000 };
const linuxX64 = { os: 'linux', arch: 'x64', libc: { family: 'glibc', version: '2.36' } } as const;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
async function index(...args: Parameters<typeof serveIndex>): Promise<LocalIndex> {
  const served = await serveIndex(...args);
  closers.push(() => served.close());
  return served;
}
/** An install with only what the test gives in its environment (no proxies, no PIP_INDEX_URL of the machine). */
const install = (cache: string, env: Record<string, string>, extra: Partial<NativeInstallOptions> = {}) =>
  installNative({ version: '2.5.1', env: { LEASEHOLD_CACHE_DIR: cache, ...env }, platform: linuxX64, http: kFast, ...extra });
/** What a failed install leaves in the cache: nothing but (at most) the empty cache directory. */
const expectNothingInstalled = (cache: string): void => expect(namesIn(cache).filter((n) => n.includes('milvus-lite'))).toEqual([]);

describe.skipIf(wheel === undefined)('the native engine installs from the wheel, without Python', () => {
  it('from a local simple index into an empty cache: checked, extracted with modes, found with no Python, one line of progress', async () => {
    const served = await index([{ path: wheel! }]);
    const cache = freshDir();
    const lines: string[] = [];
    const result = await install(cache, { PIP_INDEX_URL: served.url }, { log: (line) => lines.push(line) });
    expect(result.outcome).toBe('installed');
    expect(result.manifest.sha256).toBe(kPinnedWheelSha256[kTestWheelName]);
    expect(lines[0]).toBe(`installing milvus-lite 2.5.1 (the native engine) from ${served.url.replace('/simple', '')}/files/${kTestWheelName} into ${join(cache, 'milvus-lite-native-2.5.1')}`);
    expect(served.requests).toEqual(['GET /simple/milvus-lite/', `GET /files/${kTestWheelName}`]);
    expect(namesIn(cache)).toEqual(['milvus-lite-native-2.5.1']);
    const lib = join(cache, 'milvus-lite-native-2.5.1', 'lib');
    expect(namesIn(lib)).toHaveLength(13);
    expect(statSync(join(lib, 'milvus')).mode & 0o111).not.toBe(0);
    // PATH empty: no python3 anywhere; the find reads files only.
    const found = await findMilvusLite({ engine: 'native', env: { PATH: '', LEASEHOLD_CACHE_DIR: cache } });
    expect(found).toEqual({ engine: 'native', version: '2.5.1', binary: join(lib, 'milvus'), libDir: lib, source: 'cache' });
    expect(found.python).toBeUndefined();
    // Again: checked against its hashes, nothing downloaded.
    expect((await install(cache, { PIP_INDEX_URL: served.url })).outcome).toBe('ok');
    expect(served.requests).toHaveLength(2);
  });

  it('from LEASEHOLD_MILVUS_LITE_WHEEL, with no index at all', async () => {
    const cache = freshDir();
    const result = await install(cache, { LEASEHOLD_MILVUS_LITE_WHEEL: wheel!, PIP_INDEX_URL: 'http://127.0.0.1:9/simple' });
    expect(result.manifest.from).toBe(wheel);
    expect(namesIn(join(cache, 'milvus-lite-native-2.5.1', 'lib'))).toContain('libknowhere.so');
  });

  it('a wheel whose sha256 is not the pinned one is refused, and nothing is installed', async () => {
    const dir = freshDir();
    const bad = join(dir, kTestWheelName);
    writeFileSync(bad, Buffer.concat([readFileSync(wheel!), Buffer.from('x')]));
    const served = await index([{ path: bad, sha256: null }]);
    const cache = freshDir();
    const error = await install(cache, { PIP_INDEX_URL: served.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MilvusLiteInstallError);
    expect((error as Error).message).toContain(`has sha256 ${sha256Of(bad)}, but leasehold's pinned sha256 is ${kPinnedWheelSha256[kTestWheelName]}`);
    expectNothingInstalled(cache);
  });

  it("a wheel whose sha256 is not the index's #sha256= is refused", async () => {
    const served = await index([{ path: wheel!, sha256: '0'.repeat(64) }]);
    const cache = freshDir();
    await expect(install(cache, { PIP_INDEX_URL: served.url })).rejects.toThrow(`but the index's sha256 is ${'0'.repeat(64)}`);
    expectNothingInstalled(cache);
  });

  it('a file that does not match RECORD, and a file RECORD lists that the wheel lacks: a clear error, nothing installed', async () => {
    const cache = freshDir();
    // A 2.5.99 wheel (no pin, no index: only RECORD can catch it) of a binary and `file`.
    const installWith = async (file: FakeWheelFile): Promise<unknown> => {
      const made = await makeWheel(join(freshDir(), 'milvus_lite-2.5.99-py3-none-manylinux2014_x86_64.whl'), '2.5.99', [{ name: 'milvus_lite/lib/milvus', content: Buffer.from('#!/bin/sh\n') }, file]);
      const error = await installNative({ version: '2.5.99', env: { LEASEHOLD_CACHE_DIR: cache, LEASEHOLD_MILVUS_LITE_WHEEL: made }, platform: linuxX64 }).catch((e: unknown) => e);
      expectNothingInstalled(cache);
      return error;
    };
    expect(await installWith({ name: 'milvus_lite/lib/libknowhere.so', content: Buffer.from('real bytes'), record: 'A'.repeat(43) })).toMatchObject({
      message: expect.stringMatching(/milvus_lite\/lib\/libknowhere\.so has sha256 [0-9a-f]{64} \(10 bytes\), but the wheel's RECORD says [0-9a-f]{64} \(10 bytes\): the wheel is damaged; nothing was installed/),
    });
    expect(await installWith({ name: 'milvus_lite/lib/libextra.so', content: Buffer.from('?'), record: null })).toMatchObject({ message: expect.stringContaining('milvus_lite/lib/libextra.so is not in its RECORD') });
    expect(await installWith({ name: 'milvus_lite/lib/libgone.so', content: Buffer.from('?'), inZip: false })).toMatchObject({
      message: expect.stringContaining('its RECORD lists milvus_lite/lib/libgone.so, which the wheel lacks; nothing was installed'),
    });
  });

  it('an index answering 404 fails at once, naming the URL and PIP_INDEX_URL', async () => {
    const served = await index([]);
    const cache = freshDir();
    await expect(install(cache, { PIP_INDEX_URL: `${served.url.replace('/simple', '/nothing')}` })).rejects.toThrow(/\/nothing\/milvus-lite\/ answered HTTP 404 \(not found\): check PIP_INDEX_URL/);
    expect(served.requests).toHaveLength(1);
    expectNothingInstalled(cache);
  });

  it('an index answering 500 is retried, and the install goes through; 500 every time gives up after the attempts', async () => {
    const flaky = await index([{ path: wheel! }], { fail: { status: 500, times: 2 } });
    const lines: string[] = [];
    const cache = freshDir();
    expect((await install(cache, { PIP_INDEX_URL: flaky.url }, { log: (l) => lines.push(l) })).outcome).toBe('installed');
    expect(lines.filter((l) => l.includes('answered HTTP 500; retrying'))).toHaveLength(2);
    const down = await index([{ path: wheel! }], { fail: { status: 503, times: 100 } });
    const other = freshDir();
    await expect(install(other, { PIP_INDEX_URL: down.url })).rejects.toThrow(/gave up after 3 attempts: .*answered HTTP 503/);
    expect(down.requests).toHaveLength(3);
    expectNothingInstalled(other);
  });

  it('an unreachable index: retried, then a clear error', async () => {
    const closed = await serveIndex([]);
    await closed.close(); // its port now refuses connections
    const cache = freshDir();
    await expect(install(cache, { PIP_INDEX_URL: closed.url })).rejects.toThrow(/gave up after 3 attempts: http:\/\/127\.0\.0\.1:\d+\/simple\/milvus-lite\/: .*ECONNREFUSED/);
    expectNothingInstalled(cache);
  });

  it('a download that stalls ends with a clear error after the stall timeout, and leaves nothing', async () => {
    const served = await index([{ path: wheel! }], { stallAfterBytes: 1_000_000 });
    const cache = freshDir();
    const started = Date.now();
    await expect(install(cache, { PIP_INDEX_URL: served.url }, { http: { ...kFast, stallTimeoutMs: 500 } })).rejects.toThrow(/stalled: nothing arrived for 0\.5 s/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expectNothingInstalled(cache);
  });

  it('a platform with no wheel: the error names the platforms that have one', async () => {
    const served = await index([{ path: wheel! }]);
    const cache = freshDir();
    await expect(install(cache, { PIP_INDEX_URL: served.url }, { platform: { os: 'linux', arch: 'arm64', libc: { family: 'glibc', version: '2.36' } } })).rejects.toThrow(
      'milvus-lite 2.5.1 has no wheel for linux-arm64 (glibc 2.36) in ' + served.url + '; it has wheels for manylinux2014_x86_64',
    );
    await expect(install(cache, { PIP_INDEX_URL: served.url }, { platform: { os: 'win32', arch: 'x64' } })).rejects.toThrow('has no wheel for win32-x64');
    expectNothingInstalled(cache);
  });

  it('musl and a glibc older than 2.28 are clear errors, in the install and in doctor', async () => {
    const cache = freshDir();
    const musl = { os: 'linux', arch: 'x64', libc: { family: 'musl' } } as const;
    const old = { os: 'linux', arch: 'x64', libc: { family: 'glibc', version: '2.17' } } as const;
    await expect(install(cache, { LEASEHOLD_MILVUS_LITE_WHEEL: wheel! }, { platform: musl })).rejects.toThrow(/linux-x64 \(musl\): this Linux uses musl \(Alpine\?\): milvus-lite publishes no musl wheel/);
    await expect(install(cache, { LEASEHOLD_MILVUS_LITE_WHEEL: wheel! }, { platform: old })).rejects.toThrow('glibc 2.17 is older than 2.28, which the milvus-lite binary needs (it calls statx and fcntl64)');
    expectNothingInstalled(cache);
    expect(platformChecks(musl)[0]).toMatchObject({ ok: false, line: expect.stringContaining('C library musl: this Linux uses musl') });
    expect(platformChecks(old)[0]).toMatchObject({ ok: false, line: expect.stringContaining('glibc 2.17 is older than 2.28') });
    expect(platformChecks(linuxX64)).toEqual([
      { ok: true, line: 'platform linux-x64, C library glibc 2.36' },
      { ok: true, line: `wheel for this platform: ${kTestWheelName}, sha256 ${kPinnedWheelSha256[kTestWheelName]}` },
    ]);
    expect(platformChecks({ os: 'linux', arch: 'arm64', libc: { family: 'glibc', version: '2.36' } })[1]?.line).toContain('milvus_lite-2.5.1-py3-none-manylinux2014_aarch64.whl');
  });

  it('HTTPS_PROXY/HTTP_PROXY carry a non-local index through the proxy; NO_PROXY and 127.0.0.1 go direct', async () => {
    const served = await index([{ path: wheel! }]);
    const proxy = await serveProxy();
    closers.push(() => proxy.close());
    const remote = `http://index.test:${served.port}/simple`; // resolves nowhere: only the proxy can reach it
    expect((await install(freshDir(), { PIP_INDEX_URL: remote, HTTP_PROXY: proxy.url, https_proxy: proxy.url })).outcome).toBe('installed');
    expect(proxy.connects).toEqual([`CONNECT index.test:${served.port}`, `CONNECT index.test:${served.port}`]);
    // NO_PROXY names the host: a direct connection, which cannot resolve index.test.
    const cache = freshDir();
    await expect(install(cache, { PIP_INDEX_URL: remote, HTTP_PROXY: proxy.url, NO_PROXY: 'example.com,.test' })).rejects.toThrow(/cannot reach http:\/\/index\.test:\d+\/simple\/milvus-lite\/: .*ENOTFOUND/);
    expect(proxy.connects).toHaveLength(2);
    // 127.0.0.1 never goes through a proxy, even with no NO_PROXY.
    expect((await install(freshDir(), { PIP_INDEX_URL: served.url, HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url })).outcome).toBe('installed');
    expect(proxy.connects).toHaveLength(2);
  });

  it('install repairs a damaged install into a new directory (never in place: an open file keeps its old contents); --force always reinstalls', async () => {
    const cache = freshDir();
    const env = { LEASEHOLD_MILVUS_LITE_WHEEL: wheel! };
    await install(cache, env);
    const home = join(cache, 'milvus-lite-native-2.5.1');
    const lib = join(home, 'lib');
    const findEnv = { PATH: '', LEASEHOLD_CACHE_DIR: cache };
    chmodSync(join(lib, 'milvus'), 0o644);
    await expect(findMilvusLite({ engine: 'native', env: findEnv })).rejects.toThrow(`${join(lib, 'milvus')} is not executable (mode 644); run \`leasehold-milvus install\` to repair it`);
    const before = statSync(home).ino;
    const libz = statSync(join(lib, 'libz.so.1')).ino;
    const held = openSync(join(lib, 'libz.so.1'), 'r'); // as a running server holds its libraries
    closers.push(async () => closeSync(held));
    writeFileSync(join(lib, 'libtbb.so.12'), 'truncated');
    const repaired = await install(cache, env);
    expect(repaired.outcome).toBe('repaired');
    expect(repaired.problems).toEqual([`${join(lib, 'libtbb.so.12')} is 9 bytes, not 332856 (truncated or replaced)`, `${join(lib, 'milvus')} is not executable (mode 644)`]);
    expect(statSync(home).ino).not.toBe(before);
    expect(statSync(join(lib, 'libz.so.1')).ino).not.toBe(libz); // a new file, not the old one rewritten
    expect(fstatSync(held)).toMatchObject({ nlink: 0, size: 99640 }); // the old one: unlinked, whole
    expect(namesIn(cache)).toEqual(['milvus-lite-native-2.5.1']);
    expect((await install(cache, env)).outcome).toBe('ok');
    const forced = await install(cache, env, { force: true });
    expect(forced.outcome).toBe('reinstalled');
  });
});

describe('findMilvusLite reads venvs as files for the native engine (no Python runs)', () => {
  it("finds a cache venv made by an earlier leasehold (`<cache>/milvus-lite-2.5.1`), its python there or not; a wheel install comes first", async () => {
    const cache = freshDir();
    const site = join(cache, 'milvus-lite-2.5.1', 'lib', 'python3.11', 'site-packages');
    mkdirSync(join(site, 'milvus_lite-2.5.1.dist-info'), { recursive: true });
    mkdirSync(join(site, 'milvus_lite', 'lib'), { recursive: true });
    writeFileSync(join(site, 'milvus_lite', 'lib', 'milvus'), '#!/bin/sh\n', { mode: 0o755 });
    // No bin/python in it, and no python3 on PATH: only files can have found it.
    const found = await findMilvusLite({ engine: 'native', env: { PATH: '', LEASEHOLD_CACHE_DIR: cache } });
    expect(found).toEqual({ engine: 'native', version: '2.5.1', binary: join(site, 'milvus_lite', 'lib', 'milvus'), libDir: join(site, 'milvus_lite', 'lib'), source: 'cache' });
    // The same venv seen through $VIRTUAL_ENV.
    expect((await findMilvusLite({ engine: 'native', env: { PATH: '', VIRTUAL_ENV: join(cache, 'milvus-lite-2.5.1'), LEASEHOLD_CACHE_DIR: freshDir() } })).source).toBe('$VIRTUAL_ENV');
  });
});

describe('findMilvusLite tells a missing native binary from one that is not executable', () => {
  it('two messages', async () => {
    const dir = freshDir();
    const binary = join(dir, 'milvus');
    await expect(findMilvusLite({ binary, env: { PATH: '', LEASEHOLD_CACHE_DIR: dir } })).rejects.toThrow(`option binary: its binary ${binary} is missing`);
    writeFileSync(binary, '#!/bin/sh\n', { mode: 0o644 });
    const error = await findMilvusLite({ binary, env: { PATH: '', LEASEHOLD_CACHE_DIR: dir } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MilvusLiteNotFoundError);
    expect((error as Error).message).toContain(`option binary: its binary ${binary} is not executable (mode 644)`);
  });
});
