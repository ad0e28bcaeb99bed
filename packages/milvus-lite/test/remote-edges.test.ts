// Issue 23, remotes that hang: every remote URI, http or https, refused or silent, gets a
// RemoteUnreachableError naming it and what happened, within the acquire's timeout, with no
// unhandled rejection, and Node exits by itself afterwards (a child process that must exit).
// The silent servers are stand-ins made here (a TCP server that never speaks, a TLS server that
// completes the handshake and then never answers, a gRPC-answering TLS server), with a certificate
// made by openssl in the test; no network beyond 127.0.0.1.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { AcquireTimeoutError } from '@leasehold/pool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMilvusLitePool, RemoteUnreachableError } from '../src/index.js';
import { refusedPort } from './support/ports.js';

const fixture = fileURLToPath(new URL('./fixtures/remote-open.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lh-remote-edges-'));
const certPath = join(dir, 'cert.pem');
const keyPath = join(dir, 'key.pem');
const servers: Array<Server | Http2SecureServer> = [];
const sockets = new Set<Socket>();
let refused: number;
let silentTcp: number;
let silentTls: number;
let answeringTls: number;
let clientCertTls: number;
let otherNameTls: number;
const otherCertPath = join(dir, 'other-cert.pem');
const otherKeyPath = join(dir, 'other-key.pem');

async function listen(server: Server | Http2SecureServer): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  // A self-signed certificate for 127.0.0.1: its own CA, so rootCertPath = cert.pem trusts it.
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  const tlsOptions = { key: readFileSync(keyPath), cert: readFileSync(certPath), ALPNProtocols: ['h2'] };
  refused = await refusedPort();
  // Accepts, never says a word: to a TLS client, a handshake that never completes.
  silentTcp = await listen(createTcpServer(() => {}));
  // Completes the TLS handshake (ALPN h2), then never answers.
  silentTls = await listen(createTlsServer(tlsOptions, () => {}));
  // Answers every gRPC call with status 0, as a Milvus would.
  const answering = createSecureServer(tlsOptions);
  answering.on('stream', (stream) => {
    // A trailers-only reply: the status in the headers.
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' }, { endStream: true });
  });
  answeringTls = await listen(answering);
  // Wants a client certificate: a client without one gets OpenSSL's alert, whose message ends in a newline.
  const wantsClientCert = createTlsServer({ ...tlsOptions, ca: tlsOptions.cert, requestCert: true, rejectUnauthorized: true }, () => {});
  wantsClientCert.on('tlsClientError', () => {});
  clientCertTls = await listen(wantsClientCert);
  // Answers gRPC, with a certificate for another name (example.test), its own CA.
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', otherKeyPath, '-out', otherCertPath, '-days', '1', '-subj', '/CN=example.test', '-addext', 'subjectAltName=DNS:example.test']);
  const otherName = createSecureServer({ key: readFileSync(otherKeyPath), cert: readFileSync(otherCertPath), ALPNProtocols: ['h2'] });
  otherName.on('stream', (stream) => stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' }, { endStream: true }));
  otherNameTls = await listen(otherName);
}, 30_000);

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

interface Case {
  readonly uri: string;
  readonly timeoutMs?: number;
  readonly startTimeoutMs?: number;
  readonly tls?: { readonly rootCertPath: string };
}
interface Result {
  readonly uri: string;
  readonly opened?: true;
  readonly name?: string;
  readonly message?: string;
  readonly errorUri?: string;
  readonly causeName?: string;
  readonly causeUri?: string;
  readonly ms: number;
}

/** Runs the cases in a child process, which must exit by itself (code 0) within 30 s. */
async function openInChild(cases: readonly Case[]): Promise<{ results: Result[]; unhandled: string[] }> {
  const child = await execa(process.execPath, [fixture, JSON.stringify(cases)], { reject: false, timeout: 30_000, cwd: dir });
  expect(child.timedOut, `the child did not exit by itself:\n${child.stderr}`).toBe(false);
  expect(child.exitCode, child.stderr).toBe(0);
  return JSON.parse(child.stdout) as { results: Result[]; unhandled: string[] };
}

describe('remote URIs that do not answer, http and https', () => {
  it('refused, silent, a TLS handshake that never completes, trusted TLS then silence, an untrusted certificate: each a RemoteUnreachableError naming the URI and what happened, within the timeout; no unhandled rejection; Node exits', async () => {
    const start = 4000;
    const cases: Array<Case & { readonly expected: string; readonly started?: true }> = [
      { uri: `http://127.0.0.1:${refused}`, startTimeoutMs: start, expected: 'connection refused (nothing listens there)' },
      { uri: `https://127.0.0.1:${refused}`, startTimeoutMs: start, expected: 'connection refused (nothing listens there)' },
      { uri: `127.0.0.1:${silentTcp}`, startTimeoutMs: start, expected: 'connected, but no gRPC reply came' },
      { uri: `https://127.0.0.1:${silentTcp}`, startTimeoutMs: start, expected: 'the TCP connection was accepted, but the TLS handshake never completed' },
      { uri: `https://127.0.0.1:${silentTls}`, startTimeoutMs: start, tls: { rootCertPath: certPath }, expected: 'connected over TLS, but no gRPC reply came' },
      { uri: `https://127.0.0.1:${silentTls}/`, startTimeoutMs: start, expected: 'connected over TLS, but no gRPC reply came; its TLS certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)' },
      // It answers, so the start succeeds; the open refuses to hand out a client that cannot trust it.
      // (It answers at once: the long start timeout only spares a loaded machine a flaky probe.)
      { uri: `https://127.0.0.1:${answeringTls}`, startTimeoutMs: 20_000, expected: 'its TLS certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT)', started: true },
    ];
    const { results, unhandled } = await openInChild(cases);
    expect(unhandled).toEqual([]);
    for (const [i, c] of cases.entries()) {
      const result = results[i]!;
      // Through a pool, a failed start is the pool's StartError, the RemoteUnreachableError its cause.
      if (c.started) expect(result, `${c.uri}: ${result.message}`).toMatchObject({ name: 'RemoteUnreachableError', errorUri: c.uri });
      else expect(result, c.uri).toMatchObject({ name: 'StartError', causeName: 'RemoteUnreachableError', causeUri: c.uri });
      // One that answers with a certificate the client would not trust says so, with no wait.
      expect(result.message, c.uri).toContain(c.started ? `Milvus at ${c.uri} answers, but ${c.expected}; ` : `Milvus at ${c.uri} does not answer: ${c.expected} (waited`);
      // Within its timeout (the trust check comes after an answer, so it has its own), with slack for a loaded machine.
      expect(result.ms, c.uri).toBeLessThan((c.started ? 10_000 : start) + 3000);
    }
    // The trusted case is not called untrusted; the untrusted one that answers says what to do.
    expect(results[4]!.message).not.toContain('not trusted');
    expect(results[6]!.message).toContain('rootCertPath');
  }, 60_000);

  it('a server that wants a client certificate the client does not offer: the error says so at once, on one line (OpenSSL’s message ends in a newline), and what to pass', async () => {
    const uri = `https://127.0.0.1:${clientCertTls}`;
    const { results, unhandled } = await openInChild([{ uri, startTimeoutMs: 20_000, tls: { rootCertPath: certPath } }]);
    expect(unhandled).toEqual([]);
    expect(results[0]).toMatchObject({ name: 'StartError', causeName: 'RemoteUnreachableError', causeUri: uri });
    expect(results[0]!.message).toMatch(new RegExp(`Milvus at ${uri} does not answer: \\S*CERTIFICATE_REQUIRED: .*certificate required.* \\(waited \\d+ ms\\)`));
    expect(results[0]!.message).toContain("the server asks for a client certificate: pass it as openMilvus's client: { tls: { certChainPath, privateKeyPath } }");
    expect(results[0]!.message).not.toContain('\n');
    expect(results[0]!.message).not.toContain('not trusted');
    // At once: a refusal no retry changes does not wait out the start's 20 s.
    expect(results[0]!.ms).toBeLessThan(10_000);
  }, 30_000);

  it('a certificate its CA signs but for another name: the error says the certificate does not name the host, and to pass serverName (not the CA, which it has)', async () => {
    const uri = `https://127.0.0.1:${otherNameTls}`;
    const { results, unhandled } = await openInChild([{ uri, startTimeoutMs: 20_000, tls: { rootCertPath: otherCertPath } }]);
    expect(unhandled).toEqual([]);
    expect(results[0]).toMatchObject({ name: 'RemoteUnreachableError', errorUri: uri });
    expect(results[0]!.message).toContain('its TLS certificate is not trusted (ERR_TLS_CERT_ALTNAME_INVALID)');
    expect(results[0]!.message).toContain("the certificate does not name 127.0.0.1: connect by a name it holds, or pass that name as openMilvus's client: { tls: { serverName } }");
    expect(results[0]!.message).not.toContain('rootCertPath');
  }, 30_000);

  it('with timeoutMs on the open, the error still names the remote and what happened, not the pool’s capacity (http and https)', async () => {
    const cases: Array<Case & { readonly expected: string }> = [
      { uri: `http://127.0.0.1:${silentTcp}`, timeoutMs: 4000, expected: 'connected, but no gRPC reply came' },
      { uri: `https://127.0.0.1:${refused}`, timeoutMs: 4000, expected: 'connection refused (nothing listens there)' },
      { uri: `https://127.0.0.1:${silentTls}`, timeoutMs: 4000, tls: { rootCertPath: certPath }, expected: 'connected over TLS, but no gRPC reply came' },
    ];
    const { results, unhandled } = await openInChild(cases);
    expect(unhandled).toEqual([]);
    for (const [i, c] of cases.entries()) {
      const result = results[i]!;
      expect(result, c.uri).toMatchObject({ name: 'RemoteUnreachableError', errorUri: c.uri, causeName: 'AcquireTimeoutError' });
      expect(result.message, c.uri).toBe(`Milvus at ${c.uri} does not answer: ${c.expected} (waited 4000 ms); check that the server is up and the address is right`);
      expect(result.ms, c.uri).toBeLessThan(4000 + 3000);
    }
  }, 60_000);

  it('a pool’s own acquire with timeoutMs, of a remote: RemoteUnreachableError with the AcquireTimeoutError as its cause; a path keeps the pool’s error', async () => {
    await using pool = createMilvusLitePool();
    const uri = `https://127.0.0.1:${silentTcp}`;
    const error = await pool.acquire(uri, { timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteUnreachableError);
    expect((error as RemoteUnreachableError).uri).toBe(uri);
    expect((error as RemoteUnreachableError).problem).toBe('the TCP connection was accepted, but the TLS handshake never completed');
    expect((error as Error).cause).toBeInstanceOf(AcquireTimeoutError);
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0 });
  });
});
