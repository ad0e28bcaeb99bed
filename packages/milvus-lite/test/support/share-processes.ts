import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll } from 'vitest';
import type { Installation } from '../../src/index.js';
import { kPythonWrapperBootstrap } from '../../src/server/engines/python-wrapper.js';
import { keyOfStats, rendezvousPaths } from '../../src/server/rendezvous.js';
import { isAlive, processesMentioning } from './processes.js';

const clientScript = fileURLToPath(new URL('../fixtures/share-client.mjs', import.meta.url));

export interface Reply {
  readonly id?: number;
  readonly ok?: boolean;
  readonly event?: string;
  readonly [field: string]: unknown;
}

function spawnClient(dbPath: string, installation: Installation, env: Record<string, string>, options: object) {
  return execa(process.execPath, [clientScript, dbPath, JSON.stringify(installation), JSON.stringify(options)], { env, stdin: 'pipe', reject: false, buffer: false, stderr: 'pipe' });
}

/** A share-client.mjs process: `run(cmd)` sends one command and resolves its reply; `events` logs the rest. */
export class ShareClient {
  readonly child: ReturnType<typeof spawnClient>;
  readonly events: Reply[] = [];
  readonly #waiting = new Map<number, (reply: Reply) => void>();
  #next = 0;
  stderr = '';

  constructor(dbPath: string, installation: Installation, env: Record<string, string>, options: object = {}) {
    this.child = spawnClient(dbPath, installation, env, options);
    let buffered = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffered += String(chunk);
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        // The SDK logs to stdout too; only our JSON lines count.
        if (!line.startsWith('{"')) continue;
        const reply = JSON.parse(line) as Reply;
        if (reply.id !== undefined) this.#waiting.get(reply.id)?.(reply);
        else this.events.push(reply);
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += String(chunk)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  run(cmd: string, args: object = {}): Promise<Reply> {
    const id = ++this.#next;
    return new Promise<Reply>((resolve, reject) => {
      this.#waiting.set(id, resolve);
      void this.child.then(() => reject(new Error(`client ${this.pid} exited before answering ${cmd}: ${this.stderr}`)));
      this.child.stdin!.write(`${JSON.stringify({ ...args, cmd, id })}\n`);
    });
  }

  /** Runs `cmd` and fails the test with the client's error if it did not succeed. */
  async ok(cmd: string, args: object = {}): Promise<Reply> {
    const reply = await this.run(cmd, args);
    if (!reply.ok) throw new Error(`${cmd} failed in client ${this.pid}: ${String(reply['error'])}: ${String(reply['message'])}`);
    return reply;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  async end(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.child;
  }
}

/** A scratch root with a private rendezvous dir (LEASEHOLD_SHARE_DIR) and database dirs, removed after the file. */
export function shareScratch(prefix: string) {
  const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const rendezvous = mkdtempSync(join('/tmp', 'lhr-'));
  const clients: ShareClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end()));
    // Any supervisor or server still up is a failure of the test that left it; stop it anyway.
    for (const pid of [...processesMentioning(rendezvous), ...processesMentioning(root)]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
    rmSync(rendezvous, { recursive: true, force: true });
  });
  let n = 0;
  const env = { LEASEHOLD_SHARE_DIR: rendezvous };
  return {
    root,
    rendezvous,
    env,
    db: (name = 'shared.db') => join(root, `case-${++n}-${name}`),
    client(dbPath: string, installation: Installation, options: object = {}, extraEnv: Record<string, string> = {}): ShareClient {
      const client = new ShareClient(dbPath, installation, { ...env, ...extraEnv }, options);
      clients.push(client);
      return client;
    },
    /** The supervisor log of one (existing) database, by its rendezvous key. */
    logOf: (dbPath: string): string => readFileSync(rendezvousPaths(rendezvous, keyOfStats(statSync(dbPath))).log, 'utf8'),
    /** Every supervisor log in the rendezvous dir, concatenated. */
    log: (): string =>
      readdirSync(rendezvous)
        .filter((f) => f.endsWith('.log'))
        .map((f) => readFileSync(join(rendezvous, f), 'utf8'))
        .join(''),
  };
}

/** Servers of `dbPath` (either engine): their command lines name the database. */
export function milvusServersOf(dbPath: string): number[] {
  return processesMentioning(dbPath).filter((pid) => {
    try {
      // The native engine's binary, or the python engine's wrapper (its bootstrap names it).
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv[0]!.endsWith('/milvus') || (argv[1] === '-c' && argv[2] === kPythonWrapperBootstrap);
    } catch {
      return false;
    }
  });
}

/** Polls `check` every 20 ms until it is true or `timeoutMs` passes; resolves whether it became true. */
export async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
