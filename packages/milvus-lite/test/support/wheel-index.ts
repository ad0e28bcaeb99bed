// A PEP 503 simple index over 127.0.0.1, made in the test, serving the real milvus-lite wheel that
// `pip download --no-deps --only-binary=:all: milvus-lite==2.5.1 -d $LEASEHOLD_TEST_WHEEL_DIR`
// fetched (.ci/run does it). Tests never reach a public index themselves.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { ciIsSet, skipOnPurpose } from './skip-policy.js';

/** Where the test wheels are: `$LEASEHOLD_TEST_WHEEL_DIR`, else `~/.cache/leasehold/test-wheels`. */
export const kTestWheelDir = process.env['LEASEHOLD_TEST_WHEEL_DIR'] || join(homedir(), '.cache', 'leasehold', 'test-wheels');
export const kTestWheelName = 'milvus_lite-2.5.1-py3-none-manylinux2014_x86_64.whl';

/**
 * The path of the real 2.5.1 wheel for this platform (linux x64: what CI runs on). Missing: throws
 * (under CI, or outside it unless LEASEHOLD_SKIP_MILVUS=1, which returns `undefined` to skip).
 */
export function testWheel(): string | undefined {
  const path = join(kTestWheelDir, kTestWheelName);
  if (existsSync(path)) return path;
  if (skipOnPurpose()) return undefined;
  throw new Error(
    `the milvus-lite wheel ${path} is required but missing${ciIsSet() ? ' (CI is set: these tests never skip)' : ''}; fetch it with:\n` +
      `  pip download --no-deps --only-binary=:all: milvus-lite==2.5.1 -d ${kTestWheelDir}\n(or set LEASEHOLD_TEST_WHEEL_DIR to where it is)`,
  );
}

export const sha256Of = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** One file the index lists. */
export interface IndexFile {
  readonly path: string;
  /** The name it is listed and served under; default the file's own. */
  readonly name?: string;
  /** The `#sha256=` fragment: default the file's real hash; `null` for none. */
  readonly sha256?: string | null;
}

/** How the index misbehaves, for the bad-input tests. */
export interface IndexFaults {
  /** Answer the first N requests of any kind with this status (e.g. `{ status: 500, times: 2 }`), then behave. */
  readonly fail?: { readonly status: number; readonly times: number };
  /** Send this many bytes of a file, then nothing (the connection stays open). */
  readonly stallAfterBytes?: number;
  /** Send files at most this many bytes per 10 ms (for the killed-install test). */
  readonly throttleBytesPer10ms?: number;
  /** Serve HTTPS with this key and certificate (PEM) instead of HTTP. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export interface LocalIndex {
  /** `http://127.0.0.1:PORT/simple` (what PIP_INDEX_URL takes). */
  readonly url: string;
  readonly port: number;
  /** `GET /path` of every request, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Serves `files` as `<url>/milvus-lite/` (PEP 503 HTML, relative links) and `/files/<name>`. */
export async function serveIndex(files: readonly IndexFile[], faults: IndexFaults = {}): Promise<LocalIndex> {
  const requests: string[] = [];
  let failures = 0;
  const open = new Set<ServerResponse>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push(`${req.method} ${req.url}`);
    open.add(res);
    res.on('close', () => open.delete(res));
    if (faults.fail && failures < faults.fail.times) {
      failures++;
      res.writeHead(faults.fail.status).end(`fault ${faults.fail.status}`);
      return;
    }
    if (req.url === '/simple/milvus-lite/') {
      const links = files.map((f) => {
        const name = f.name ?? basename(f.path);
        const sha = f.sha256 === null ? '' : `#sha256=${f.sha256 ?? sha256Of(f.path)}`;
        return `<a href="../../files/${name}${sha}">${name}</a><br/>`;
      });
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!DOCTYPE html><html><body><h1>Links for milvus-lite</h1>${links.join('\n')}</body></html>`);
      return;
    }
    const file = files.find((f) => `/files/${f.name ?? basename(f.path)}` === req.url);
    if (file === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(file.path).size });
    const stream = createReadStream(file.path, { highWaterMark: faults.throttleBytesPer10ms ?? 64 * 1024 });
    let sent = 0;
    stream.on('data', (data) => {
      const chunk = data as Buffer;
      const limit = faults.stallAfterBytes;
      if (limit !== undefined && sent + chunk.length >= limit) {
        res.write(chunk.subarray(0, limit - sent));
        stream.destroy(); // and never end the response: a stall
        return;
      }
      sent += chunk.length;
      if (!res.write(chunk)) stream.pause();
      if (faults.throttleBytesPer10ms !== undefined) {
        stream.pause();
        setTimeout(() => stream.resume(), 10);
      }
    });
    res.on('drain', () => stream.resume());
    stream.on('end', () => res.end());
  };
  const server = faults.tls ? createHttpsServer(faults.tls, handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${faults.tls ? 'https' : 'http'}://127.0.0.1:${port}/simple`,
    port,
    requests,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A tiny CONNECT proxy: every tunnel goes to 127.0.0.1 at the port asked for, whatever the host. Logs `CONNECT host:port`. */
export async function serveProxy(): Promise<{ url: string; connects: string[]; close(): Promise<void> }> {
  const connects: string[] = [];
  const server = createServer((_req, res) => res.writeHead(405).end('CONNECT only'));
  const sockets = new Set<import('node:net').Socket>();
  server.on('connect', (req: IncomingMessage, client: import('node:net').Socket, head: Buffer) => {
    connects.push(`CONNECT ${req.url}`);
    const port = Number((req.url ?? '').split(':').at(-1));
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Names in `dir` (empty when it does not exist). */
export const namesIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
