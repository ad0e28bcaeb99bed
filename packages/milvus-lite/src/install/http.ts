import { Agent, ProxyAgent, errors, request, type Dispatcher } from 'undici';
import { MilvusLiteInstallError as InstallError } from '../errors.js';

/** How `httpGet` talks to the index; every field has a default (see `kDefaultHttpOptions`). */
export interface HttpOptions {
  /** The environment to read `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (either case) from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A response that sends nothing for this long, in ms (headers, or between body chunks), fails. */
  readonly stallTimeoutMs: number;
  /** Attempts in all for a 429, a 5xx, a reset or a refused connection, with `retryDelayMs` doubling between them. */
  readonly attempts: number;
  readonly retryDelayMs: number;
  /** Called before each retry, with why. */
  readonly onRetry?: ((message: string) => void) | undefined;
}

export const kDefaultHttpOptions = Object.freeze({ stallTimeoutMs: 30_000, attempts: 4, retryDelayMs: 500 });

/** The response of a successful (2xx) request: its body still to be read. */
export interface HttpResponse {
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Dispatcher.ResponseData['body'];
}

const kRetryCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * The proxy for `url` from `HTTPS_PROXY`/`HTTP_PROXY` (either case), or `undefined` for a direct
 * connection: loopback hosts always (a proxy never sees 127.0.0.1), and hosts `NO_PROXY` names
 * (comma-separated names, `.suffix` or `suffix` matching subdomains, `*` for all, optional `:port`), as curl reads them.
 */
export function proxyFor(url: URL, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)) return undefined;
  const pick = (name: string): string | undefined => env[name.toLowerCase()] || env[name.toUpperCase()] || undefined;
  const proxy = url.protocol === 'https:' ? (pick('https_proxy') ?? pick('http_proxy')) : pick('http_proxy');
  if (proxy === undefined) return undefined;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of (pick('no_proxy') ?? '').split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return undefined;
    const [name = '', entryPort] = entry.split(/:(?=\d+$)/);
    if (entryPort !== undefined && entryPort !== port) continue;
    const suffix = name.replace(/^\*?\./, '');
    if (host === suffix || host.endsWith(`.${suffix}`)) return undefined;
  }
  return proxy;
}

/**
 * The dispatcher for `url`: through the proxy `proxyFor` names, else direct. Certificates: Node's
 * CA store, which includes `NODE_EXTRA_CA_CERTS` (read by Node at startup). `stallTimeoutMs` bounds
 * the wait for headers and between body chunks.
 */
export function dispatcherFor(url: URL, options: Pick<HttpOptions, 'env' | 'stallTimeoutMs'>): Dispatcher {
  const timeouts = { headersTimeout: options.stallTimeoutMs, bodyTimeout: options.stallTimeoutMs };
  const proxy = proxyFor(url, options.env);
  return proxy === undefined ? new Agent(timeouts) : new ProxyAgent({ uri: proxy, ...timeouts });
}

/**
 * GET `url`, following redirects, retrying 429/5xx answers and dropped or refused connections
 * (`attempts` in all). Throws an `InstallError` naming the URL and what happened: a 4xx at once,
 * the last failure once the attempts are used up, or a stall.
 */
export async function httpGet(url: string, options: HttpOptions, accept?: string): Promise<HttpResponse> {
  let last = '';
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    if (attempt > 1) {
      options.onRetry?.(`${last}; retrying (attempt ${attempt} of ${options.attempts})`);
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs * 2 ** (attempt - 2)));
    }
    const dispatcher = dispatcherFor(new URL(url), options);
    try {
      const response = await request(url, { dispatcher, maxRedirections: 5, headers: { 'user-agent': 'leasehold-milvus', ...(accept ? { accept } : {}) } });
      if (response.statusCode >= 200 && response.statusCode < 300) {
        const body = response.body;
        // The dispatcher goes with the body: closed once the body is read or dropped.
        body.once('close', () => void dispatcher.close().catch(() => {}));
        return { url, headers: response.headers, body };
      }
      await response.body.dump().catch(() => {});
      void dispatcher.close().catch(() => {});
      last = `${url} answered HTTP ${response.statusCode}`;
      if (response.statusCode === 429 || response.statusCode >= 500) continue;
      throw new InstallError(response.statusCode === 404 ? `${last} (not found): check PIP_INDEX_URL, and that the index has milvus-lite` : last);
    } catch (error) {
      void dispatcher.close().catch(() => {});
      if (error instanceof InstallError) throw error;
      if (isStall(error)) throw stallError(url, options.stallTimeoutMs, error);
      const code = (error as { code?: string }).code ?? ((error as Error).cause as { code?: string } | undefined)?.code;
      last = `${url}: ${(error as Error).message}${code && !(error as Error).message.includes(code) ? ` (${code})` : ''}`;
      const tlsHint = code !== undefined && /CERT|SIGNED|VERIFY|ISSUER/.test(code) ? '; if the index uses a private CA, point NODE_EXTRA_CA_CERTS at its certificate (PEM)' : '';
      if (code === undefined || !kRetryCodes.has(code)) throw new InstallError(`cannot reach ${last}${tlsHint}`, { cause: error });
    }
  }
  throw new InstallError(`gave up after ${options.attempts} attempts: ${last}`);
}

export function isStall(error: unknown): boolean {
  return error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError;
}

export function stallError(url: string, stallTimeoutMs: number, cause: unknown): InstallError {
  return new InstallError(`the download from ${url} stalled: nothing arrived for ${stallTimeoutMs / 1000} s; check the network or proxy (HTTPS_PROXY), then run \`leasehold-milvus install\` again`, { cause });
}
