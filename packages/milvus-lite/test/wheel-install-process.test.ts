// The wheel install as a process meets it: killed midway, a cache it may not write, a disk that
// fills. Runs the built CLI (`pnpm test` builds first). Root ignores file modes, so the unwritable
// cache runs under `setpriv` without CAP_DAC_OVERRIDE; the full disk is a small tmpfs mounted in a
// private mount namespace (`unshare -m`).
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { findMilvusLite, MilvusLiteNotFoundError } from '../src/index.js';
import { freshDirs } from './support/scratch-dirs.js';
import { namesIn, serveIndex, testWheel, type LocalIndex } from './support/wheel-index.js';

const wheel = testWheel();
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const freshDir = freshDirs('lh-wheel-proc-');
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
const baseEnv = (cache: string): Record<string, string> => ({ PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LEASEHOLD_CACHE_DIR: cache });
const temporaries = (cache: string): string[] => namesIn(cache).filter((n) => n.includes('.tmp-'));

async function waitFor(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(wheel === undefined)('the wheel install as a process', () => {
  it('an install SIGKILLed while downloading, then while extracting, leaves nothing findMilvusLite takes; the next install cleans up and succeeds', async () => {
    const served: LocalIndex = await serveIndex([{ path: wheel! }], { throttleBytesPer10ms: 64 * 1024 });
    closers.push(() => served.close());
    const cache = freshDir();
    const findEnv = { PATH: '', LEASEHOLD_CACHE_DIR: cache };

    const downloading = execa(process.execPath, [cli, 'install'], { env: { ...baseEnv(cache), PIP_INDEX_URL: served.url }, extendEnv: false, reject: false });
    await waitFor('a partial download', () => temporaries(cache).some((t) => readdirSync(join(cache, t)).some((n) => n.endsWith('.downloading'))));
    downloading.kill('SIGKILL');
    await downloading;
    await expect(findMilvusLite({ engine: 'native', env: findEnv })).rejects.toBeInstanceOf(MilvusLiteNotFoundError);
    expect(namesIn(cache).filter((n) => n.startsWith('milvus-lite-'))).toEqual([]);

    const extracting = execa(process.execPath, [cli, 'install'], { env: { ...baseEnv(cache), LEASEHOLD_MILVUS_LITE_WHEEL: wheel! }, extendEnv: false, reject: false });
    await waitFor('a partial extraction', () => temporaries(cache).some((t) => existsSync(join(cache, t, 'lib', 'libgcc_s.so.1'))));
    extracting.kill('SIGKILL');
    await extracting;
    await expect(findMilvusLite({ engine: 'native', env: findEnv })).rejects.toBeInstanceOf(MilvusLiteNotFoundError);
    expect(namesIn(cache).filter((n) => n.startsWith('milvus-lite-'))).toEqual([]);
    expect(temporaries(cache).length).toBeGreaterThan(0);

    // The next install waits out the killed one's stale lock (10 s), removes its leftovers, installs.
    const next = await execa(process.execPath, [cli, 'install'], { env: { ...baseEnv(cache), LEASEHOLD_MILVUS_LITE_WHEEL: wheel! }, extendEnv: false, reject: false });
    expect(next.exitCode, next.stderr).toBe(0);
    // The wait is said, never silent.
    expect(`${next.stdout}\n${next.stderr}`).toMatch(/waiting for another install of .*milvus-lite-native-2\.5\.1 \(its lock .*\.install\.lock; a lock left by a killed install is taken over after 10 s\)/);
    expect(namesIn(cache)).toEqual(['milvus-lite-native-2.5.1']);
    expect((await findMilvusLite({ engine: 'native', env: findEnv })).source).toBe('cache');
  }, 120_000);

  it('an HTTPS index with a private CA: refused with a clear error, accepted with NODE_EXTRA_CA_CERTS', async () => {
    const dir = freshDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    const served = await serveIndex([{ path: wheel! }], { tls: { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') } });
    closers.push(() => served.close());
    const cache = freshDir();
    const env = { ...baseEnv(cache), PIP_INDEX_URL: served.url };
    const refused = await execa(process.execPath, [cli, 'install'], { env, extendEnv: false, reject: false });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^leasehold-milvus: cannot reach https:\/\/127\.0\.0\.1:\d+\/simple\/milvus-lite\/: self[- ]signed certificate.*; if the index uses a private CA, point NODE_EXTRA_CA_CERTS at its certificate \(PEM\)$/m);
    expect(served.requests).toEqual([]);
    const trusted = await execa(process.execPath, [cli, 'install'], { env: { ...env, NODE_EXTRA_CA_CERTS: cert }, extendEnv: false, reject: false });
    expect(trusted.exitCode, trusted.stderr).toBe(0);
    expect(namesIn(cache)).toEqual(['milvus-lite-native-2.5.1']);
  }, 120_000);

  it('a cache directory that cannot be written: a clear error naming it and LEASEHOLD_CACHE_DIR, nothing written (run without CAP_DAC_OVERRIDE)', async () => {
    const parent = freshDir();
    const readOnly = join(parent, 'ro');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    const unprivileged = ['--inh-caps=-dac_override', '--bounding-set=-dac_override', process.execPath, cli, 'install'];
    for (const cache of [join(readOnly, 'cache'), readOnly]) {
      const result = await execa('setpriv', unprivileged, { env: { ...baseEnv(cache), LEASEHOLD_MILVUS_LITE_WHEEL: wheel! }, extendEnv: false, reject: false });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/^leasehold-milvus: (creating leasehold's cache directory|taking the install lock in) .*(EACCES|permission denied).*; cannot write there: fix its permissions, or set LEASEHOLD_CACHE_DIR to a writable directory$/im);
      expect(result.stderr).toContain(cache === readOnly ? readOnly : join(readOnly, 'cache'));
    }
    expect(readdirSync(readOnly)).toEqual([]);
  });

  it('a disk that fills during the download, or during the extraction, leaves nothing behind', async () => {
    const served = await serveIndex([{ path: wheel! }]);
    closers.push(() => served.close());
    for (const [size, env, phase] of [
      ['20m', { PIP_INDEX_URL: served.url }, 'downloading'],
      ['100m', { LEASEHOLD_MILVUS_LITE_WHEEL: wheel! }, 'extracting'],
    ] as const) {
      const mount = freshDir();
      // In a private mount namespace: the tmpfs exists for this shell and its children only.
      const script = 'mount -t tmpfs -o size="$1" tmpfs "$2" && { "$3" "$4" install; echo "exit=$?"; ls -A "$2"; }';
      const result = await execa('unshare', ['-m', 'sh', '-c', script, 'sh', size, mount, process.execPath, cli], { env: { ...baseEnv(join(mount, 'cache')), ...env }, extendEnv: false, reject: false });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toMatch(new RegExp(`^leasehold-milvus: ${phase} .* failed: .*ENOSPC.*; the disk is full: free some space .*or set LEASEHOLD_CACHE_DIR to another disk$`, 'm'));
      // What is left on the full disk: the cache directory, empty.
      expect(result.stdout.trim().split('\n')).toEqual(['exit=1', 'cache']);
    }
  }, 120_000);
});
