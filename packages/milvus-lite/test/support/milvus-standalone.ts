// A real Milvus standalone (PyPI's `milvus` 2.3.5: Milvus with embedded etcd and local storage) for
// the remote tests and the migration bench. One per test run: it takes ~30 s and ~1 GB to come up.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { cacheDir } from '../../src/index.js';
import { processesMentioning } from './processes.js';

/** The PyPI `milvus` version the fixture runs; `.ci/run` installs it into this cache venv. */
export const kMilvusStandaloneVersion = '2.3.5';

const launcher = fileURLToPath(new URL('../fixtures/milvus-standalone.py', import.meta.url));

/** Every port Milvus standalone listens on: the proxy (what clients use), etcd, each coordinator and node, metrics. */
const kPortKeys = [
  'proxy_port',
  'proxy_internal_port',
  'etcd_port',
  'root_coord_port',
  'query_coord_port',
  'query_node_port',
  'index_coord_port',
  'index_node_port',
  'data_coord_port',
  'data_node_port',
  'metrics_port',
] as const;

/** The venv python that has PyPI's `milvus`, or a problem saying what is missing and the fix. */
export function findMilvusStandalone(env: NodeJS.ProcessEnv = process.env): { python: string } | { problem: string } {
  const venv = join(cacheDir(env), `milvus-standalone-${kMilvusStandaloneVersion}`);
  const python = join(venv, 'bin', 'python');
  const installed = existsSync(join(venv, 'lib')) && existsSync(python);
  if (installed) return { python };
  return {
    problem: `Milvus standalone (PyPI milvus ${kMilvusStandaloneVersion}) is not installed in ${venv}; fix: python3 -m venv ${venv} && ${join(venv, 'bin', 'pip')} install milvus==${kMilvusStandaloneVersion} (what .ci/run does)`,
  };
}

/** Installs PyPI's `milvus` into the cache venv `findMilvusStandalone` looks at. */
export async function installMilvusStandalone(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const venv = join(cacheDir(env), `milvus-standalone-${kMilvusStandaloneVersion}`);
  if (!existsSync(join(venv, 'bin', 'python'))) await execa('python3', ['-m', 'venv', venv]);
  await execa(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', `milvus==${kMilvusStandaloneVersion}`]);
  return join(venv, 'bin', 'python');
}

/** Ports the kernel picked as free on 127.0.0.1, all held open together so none repeats. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** A running Milvus standalone. */
export interface MilvusStandalone extends AsyncDisposable {
  /** `http://127.0.0.1:<proxy port>` */
  readonly uri: string;
  readonly port: number;
  readonly dataDir: string;
  /** How long it took to answer its health check, in ms. */
  readonly startupMs: number;
  /** Stops it with SIGINT, waits for every process of it to be gone, removes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts Milvus standalone on free ports with a temporary data directory; resolves once its health
 * check answers. Its launcher stops it on SIGINT or when our end of its stdin closes (so it does
 * not outlive a test runner that dies).
 */
export async function startMilvusStandalone(python: string, options: { readonly timeoutMs?: number } = {}): Promise<MilvusStandalone> {
  // It comes up in 10-30 s here. A start that has not after 110 s is stuck (seen once, printing
  // nothing, with a second standalone starting beside it on a loaded machine): one more try, on new
  // ports and a new data directory; both tries fit the callers' 240 s hooks.
  try {
    return await startOnce(python, { timeoutMs: options.timeoutMs ?? 110_000 });
  } catch (error) {
    if (options.timeoutMs !== undefined || !/did not come up/.test((error as Error).message)) throw error;
    process.stderr.write(`[standalone] ${(error as Error).message.split('\n')[0]}; trying once more\n`);
    return startOnce(python, { timeoutMs: 110_000 });
  }
}

async function startOnce(python: string, options: { readonly timeoutMs: number }): Promise<MilvusStandalone> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lh-milvus-standalone-'));
  const ports = await freePorts(kPortKeys.length);
  const portMap = Object.fromEntries(kPortKeys.map((key, i) => [key, ports[i]]));
  const started = performance.now();
  const child = execa(python, [launcher, dataDir, JSON.stringify(portMap)], {
    stdin: 'pipe',
    reject: false,
    cleanup: true,
    all: true,
    env: { PYTHONUNBUFFERED: '1' },
  });
  const ready = await new Promise<{ pid: number; proxyPort: number }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Milvus standalone did not come up in ${options.timeoutMs} ms:\n${out.slice(-2000)}`)), options.timeoutMs);
    child.all!.on('data', (chunk: Buffer) => {
      out += String(chunk);
      const line = out.split('\n').find((l) => l.startsWith('{"pid"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { pid: number; proxyPort: number });
      }
    });
    void child.then((result) => {
      clearTimeout(timer);
      reject(new Error(`Milvus standalone exited before it was ready (exit code ${String(result.exitCode)}):\n${out.slice(-2000)}`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGINT');
    // A stuck start may not heed SIGINT: the retry must not wait on it forever.
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await child;
    clearTimeout(kill);
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  const startupMs = performance.now() - started;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      child.kill('SIGINT');
      const result = await child;
      const left = processesMentioning(dataDir);
      if (result.exitCode !== 0 || left.length > 0) {
        throw new Error(`Milvus standalone did not stop cleanly (exit code ${String(result.exitCode)}; processes left: ${left.join(', ') || 'none'}):\n${String(result.all).slice(-2000)}`);
      }
      await rm(dataDir, { recursive: true, force: true });
    })());
  return { uri: `http://127.0.0.1:${ready.proxyPort}`, port: ready.proxyPort, dataDir, startupMs, stop, [Symbol.asyncDispose]: stop };
}
