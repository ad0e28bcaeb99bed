import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { InvalidKeyError, MilvusLiteServer, openMilvus, ServerManager } from '../src/index.js';
import { shareRequested } from '../src/share/shared-pool.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** openMilvus in a fresh process (its own default pool, read from `env`): the error's name and message, or 'opened'. */
async function openInChild(target: string, env: NodeJS.ProcessEnv): Promise<string> {
  const code = `import('./dist/index.js').then((m) => m.openMilvus(${JSON.stringify(target)})).then(() => console.log('opened'), (e) => console.log(e.name + ': ' + e.message))`;
  const { stdout } = await execa('node', ['-e', code], { cwd: packageDir, env: { LEASEHOLD_NO_INSTALL: '1', ...env }, timeout: 20_000 });
  return stdout.trim().split('\n').at(-1)!;
}

describe('inputs from the environment and URIs that would fail later, unclearly, are refused at once', () => {
  it('a scheme the SDK cannot reach (grpc://, tcp://) is an InvalidKeyError naming it, before anything starts', async () => {
    for (const uri of ['grpc://127.0.0.1:1', 'tcp://localhost:19530', 'FTP://x']) {
      const error = await openMilvus(uri).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidKeyError);
      expect((error as Error).message).toMatch(/:\/\/ is not a scheme Milvus is reached by; use http:\/\/host:port, https:\/\/host:port, host:port, or a path/);
      // A MilvusLiteServer used directly, and Python's ServerManager API: the same refusal, at once.
      const started = performance.now();
      const direct = await new MilvusLiteServer(uri).start().catch((e: unknown) => e);
      expect(direct).toBeInstanceOf(InvalidKeyError);
      expect((direct as Error).message).toContain(`${uri.split(':')[0]}:// is not a scheme Milvus is reached by`);
      const logged: string[] = [];
      expect(await new ServerManager({ log: (message) => logged.push(message) }).startAndGetUri(uri)).toBeNull();
      expect(logged.join('\n')).toContain('is not a scheme Milvus is reached by');
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });

  it('LEASEHOLD_SHARE: 1/true share, 0/false/empty/unset do not, anything else is a RangeError naming it (a typo never quietly means off)', () => {
    expect(shareRequested(undefined, { LEASEHOLD_SHARE: '1' })).toBe(true);
    expect(shareRequested(undefined, { LEASEHOLD_SHARE: 'true' })).toBe(true);
    for (const off of ['0', 'false', '', undefined]) expect(shareRequested(undefined, { LEASEHOLD_SHARE: off })).toBe(false);
    // The option wins over the environment, a bad value included.
    expect(shareRequested(false, { LEASEHOLD_SHARE: 'yes' })).toBe(false);
    for (const bad of ['yes', 'on', 'TRUE ']) expect(() => shareRequested(undefined, { LEASEHOLD_SHARE: bad })).toThrow(/LEASEHOLD_SHARE must be 1 or true \(share\), or 0, false or empty \(do not\), got "/);
  });

  it('LEASEHOLD_IDLE_TIMEOUT_MS past Node’s timer limit is refused, naming the variable (a timer would fire at once)', async () => {
    expect(await openInChild('./never-made.db', { LEASEHOLD_IDLE_TIMEOUT_MS: '1e99' })).toMatch(
      /^RangeError: LEASEHOLD_IDLE_TIMEOUT_MS must be a number of milliseconds from 0 to 2147483647 \(~24\.8 days\), or Infinity, got "1e99"$/,
    );
    expect(await openInChild('./never-made.db', { LEASEHOLD_IDLE_TIMEOUT_MS: 'abc' })).toMatch(/^RangeError: LEASEHOLD_IDLE_TIMEOUT_MS must be/);
  });

  it('an SDK that is installed but fails to load (here under --disallow-code-generation-from-strings) is said as such, not as "npm install" it', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'lh-sdk-load-')), 'a.db');
    const code = `import('./dist/index.js').then((m) => m.openMilvus(${JSON.stringify(db)})).catch((e) => console.log(e.name + ': ' + e.message))`;
    const { stdout } = await execa('node', ['--disallow-code-generation-from-strings', '-e', code], { cwd: packageDir, env: { LEASEHOLD_NO_INSTALL: '1' }, timeout: 30_000 });
    rmSync(dirname(db), { recursive: true, force: true });
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^MilvusLiteError: openMilvus could not load @zilliz\/milvus2-sdk-node, which is installed: EvalError: Code generation from strings disallowed/);
  });
});

