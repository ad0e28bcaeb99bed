import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { AcquireTimeoutError } from '@leasehold/pool';
import { RemoteUnreachableError } from '../errors.js';
import { grpcProbe, probeBuiltins, type ProbeOutcome, type ProbeTarget, type ProbeTls } from '../server/grpc-probe.js';
import { isRemoteUri } from './remote-uri.js';

/**
 * Where a remote URI's gRPC server is: `unix:/path`, `http://host:port`, `https://host:port` (TLS;
 * port 443 when none is given, as grpc-js does) or `host:port`. Undefined for what it cannot read
 * (`http://host` without a port, a path after the port), which is taken as it is.
 */
function probeTargetOf(uri: string): ProbeTarget | undefined {
  if (uri.startsWith('unix:')) return { socketPath: uri.slice('unix:'.length) };
  const match = /^(?:(https?):\/\/)?([^/:[\]]+|\[[^\]]+\])(?::(\d{1,5}))?\/?$/i.exec(uri);
  if (match === null) return undefined;
  const tls = match[1]?.toLowerCase() === 'https';
  if (match[3] === undefined && !tls) return undefined;
  const host = match[2]!.replace(/^\[|\]$/g, '');
  return { host, port: Number(match[3] ?? 443), ...(tls ? { tls: {} } : {}) };
}

// What the last probe of each remote URI saw, for the error of an acquire that gave up before the
// probe did (its own timeoutMs). Bounded: the oldest URI goes first.
const lastProblems = new Map<string, string>();
const kMaxRemembered = 64;

function remember(uri: string, problem: string): void {
  lastProblems.delete(uri);
  lastProblems.set(uri, problem);
  if (lastProblems.size > kMaxRemembered) lastProblems.delete(lastProblems.keys().next().value!);
}

/** A problem in words, with an untrusted certificate named as such. */
function withTrust(problem: string, untrusted: string | undefined): string {
  return untrusted === undefined ? problem : `${problem}; its TLS certificate is not trusted (${untrusted})`;
}

/**
 * Resolves once the Milvus at `uri` answers a real gRPC call (GetVersion), so that nobody hands the
 * SDK an unreachable address (its constructor connects at once, and a failed connect can become an
 * unhandled rejection, or a channel that keeps Node alive). https is probed over TLS; a certificate
 * the client's trust (see `useRemoteTrust`; default Node's CAs) does not verify is named in the
 * error, not refused here: `checkRemoteTrust` decides once the server answers. Retries every 250 ms;
 * rejects with `RemoteUnreachableError` (naming `uri` and what the last try saw: refused, no TLS
 * handshake, no gRPC reply…) after `timeoutMs`, at once when the server asks for a client
 * certificate the client did not offer, or with `signal.reason` when aborted. A URI it
 * cannot read (see `probeTargetOf`) is taken as it is.
 */
export async function awaitRemote(uri: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const found = probeTargetOf(uri);
  if (found === undefined) return;
  const target = 'tls' in found ? { ...found, tls: await probeTls(found.host, trustOf.get(uri)) } : found;
  lastProblems.delete(uri);
  const deadline = performance.now() + timeoutMs;
  let problem = 'no gRPC reply';
  // The furthest any try got: a last try cut short by the deadline says less than an earlier one,
  // whether it got less far (a handshake under way), or as far, but ended by the time up and not
  // by what it met (a refused connection, seen by the try before, not yet by this one).
  let furthest = -1;
  let definite = false;
  const note = (outcome: ProbeOutcome): void => {
    const reached = outcome.reached ?? 0;
    if (reached < furthest || (reached === furthest && definite && outcome.cutShort === true)) return;
    furthest = reached;
    definite = outcome.cutShort !== true;
    problem = withTrust(outcome.problem ?? 'no gRPC reply', outcome.untrusted);
    remember(uri, problem);
  };
  for (;;) {
    signal?.throwIfAborted();
    const left = deadline - performance.now();
    if (left <= 0) throw new RemoteUnreachableError(uri, timeoutMs, problem);
    const outcome = await grpcProbe(target, Math.min(1000, left), signal, note);
    if (outcome.answered) {
      lastProblems.delete(uri);
      return;
    }
    signal?.throwIfAborted();
    note(outcome);
    // The server wants a client certificate and none was offered (TLS 1.3's alert): no retry changes that.
    if (outcome.problem?.includes('ALERT_CERTIFICATE_REQUIRED') === true) {
      throw new RemoteUnreachableError(uri, Math.round(timeoutMs - (deadline - performance.now())), problem, {
        fix: "the server asks for a client certificate: pass it as openMilvus's client: { tls: { certChainPath, privateKeyPath } }",
      });
    }
    await sleep(Math.min(250, Math.max(0, deadline - performance.now())), undefined, signal ? { signal } : {});
  }
}

/**
 * `error`, or in its place a `RemoteUnreachableError` (with `error` as its cause) when it is an
 * `AcquireTimeoutError` of a remote URI: an acquire that gave up waiting for a remote to answer
 * says which remote, and what the probe saw so far, instead of a word on the pool's capacity.
 */
export function explainRemoteTimeout(key: unknown, error: unknown): unknown {
  if (!(error instanceof AcquireTimeoutError) || typeof key !== 'string' || !isRemoteUri(key)) return error;
  return new RemoteUnreachableError(key, error.timeoutMs, lastProblems.get(key) ?? 'no connection was made yet', { cause: error });
}

/** The trust material of the SDK's `tls` client option (`ClientConfig['tls']`) that a TLS handshake needs. */
export interface RemoteTrust {
  readonly rootCert?: Buffer;
  readonly rootCertPath?: string;
  readonly privateKey?: Buffer;
  readonly privateKeyPath?: string;
  readonly certChain?: Buffer;
  readonly certChainPath?: string;
  readonly serverName?: string;
  readonly skipCertCheck?: boolean;
}

// The client trust an `openMilvus` of each https URI brings, so the probe judges its certificate as
// that client will (without one: Node's CAs, as the SDK's own default). Bounded like lastProblems.
const trustOf = new Map<string, RemoteTrust>();

/** Records the `tls` client option that `uri`'s client will use; `undefined` forgets it. */
export function useRemoteTrust(uri: string, tls: RemoteTrust | undefined): void {
  trustOf.delete(uri);
  if (tls === undefined) return;
  trustOf.set(uri, tls);
  if (trustOf.size > kMaxRemembered) trustOf.delete(trustOf.keys().next().value!);
}

/** The probe's TLS options for `host` with the client trust `tls`: files read, SNI only for a name (RFC 6066: never an IP address). */
async function probeTls(host: string, tls: RemoteTrust | undefined): Promise<ProbeTls> {
  const read = async (buffer: Buffer | undefined, path: string | undefined): Promise<Buffer | undefined> => buffer ?? (path === undefined ? undefined : readFile(path));
  const [ca, key, cert] = await Promise.all([read(tls?.rootCert, tls?.rootCertPath), read(tls?.privateKey, tls?.privateKeyPath), read(tls?.certChain, tls?.certChainPath)]);
  const servername = tls?.serverName ?? (probeBuiltins().net.isIP(host) === 0 ? host : undefined);
  return {
    ...(servername === undefined ? {} : { servername }),
    ...(ca ? { ca } : {}),
    ...(key ? { key } : {}),
    ...(cert ? { cert } : {}),
    ...(tls?.skipCertCheck === true ? { trustAny: true } : {}),
  };
}

/**
 * For an `https://` URI whose server answers: rejects with `RemoteUnreachableError` naming the URI
 * and the certificate's fault (e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`) unless the client's own trust
 * (`tls`, as the SDK takes it: CA, client certificate, server name; `skipCertCheck` trusts any)
 * verifies the server's certificate. The SDK would otherwise retry the handshake until its deadline
 * and report only `DEADLINE_EXCEEDED`. Other URIs resolve at once.
 */
export async function checkRemoteTrust(uri: string, tls: RemoteTrust | undefined, timeoutMs: number): Promise<void> {
  const target = probeTargetOf(uri);
  if (target === undefined || !('tls' in target) || tls?.skipCertCheck === true) return;
  const outcome = await grpcProbe({ ...target, tls: await probeTls(target.host, tls) }, timeoutMs);
  if (outcome.untrusted !== undefined) {
    throw new RemoteUnreachableError(uri, timeoutMs, `its TLS certificate is not trusted (${outcome.untrusted})`, { fix: trustFix(outcome.untrusted, target.host), answered: true });
  }
}

/** What to do about a certificate the client would not trust, by OpenSSL's (or Node's) reason. */
function trustFix(reason: string, host: string): string {
  if (reason === 'CERT_HAS_EXPIRED' || reason === 'CERT_NOT_YET_VALID') return "the certificate is outside its validity dates: renew it on the server (or tls.skipCertCheck to trust any)";
  if (reason === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the certificate does not name ${host}: connect by a name it holds, or pass that name as openMilvus's client: { tls: { serverName } }`;
  }
  return "pass the CA that signed it as openMilvus's client: { tls: { rootCertPath } } (or tls.skipCertCheck to trust any)";
}
