import type { ClientConfig } from '@zilliz/milvus2-sdk-node';

/**
 * grpc-js's `CallInvocationTransformer` (a `ClientOptions` member the SDK hands to every service
 * client it builds). Typed structurally so this module loads without grpc-js.
 */
interface CallProperties {
  argument?: unknown;
  methodDefinition: { path: string; requestSerialize: (value: unknown) => Buffer; responseDeserialize: (bytes: Buffer) => unknown; [key: string]: unknown };
  [key: string]: unknown;
}
type CallInvocationTransformer = (properties: CallProperties) => CallProperties;

interface Status {
  error_code?: string | number;
  code?: number;
  [key: string]: unknown;
}

// Legacy `ErrorCode` names and numbers (milvus.proto common.proto); the SDK decodes enums as names.
const kLegacy = { UnexpectedError: 1, CollectionNotExists: 4, IllegalArgument: 5, IllegalRowRecord: 11, IndexNotExist: 25 } as const;
// Integer `code` values of Milvus 2.3+ (merr): collection not found, index not found.
const kByCode: Readonly<Record<number, keyof typeof kLegacy>> = { 100: 'CollectionNotExists', 700: 'IndexNotExist' };

function legacy(name: keyof typeof kLegacy, like: Status['error_code']): string | number {
  return typeof like === 'number' ? kLegacy[name] : name;
}

/**
 * The legacy `error_code` a status should carry, or undefined when it is right. milvus-lite 2.5
 * sends only `code`; milvus-lite 3.x sends 11 (IllegalRowRecord) for index-not-found and 6 (not an
 * ErrorCode at all) for IllegalArgument. A real Milvus sets both consistently, so nothing changes.
 */
function fixedErrorCode(status: Status): string | number | undefined {
  const { code, error_code: errorCode } = status;
  const byCode = typeof code === 'number' ? kByCode[code] : undefined;
  if (byCode !== undefined) return errorCode === byCode || errorCode === kLegacy[byCode] ? undefined : legacy(byCode, errorCode);
  if (errorCode === 6) return legacy('IllegalArgument', errorCode);
  if (typeof code === 'number' && code !== 0 && (errorCode === 'Success' || errorCode === 0 || errorCode === undefined)) return legacy('UnexpectedError', errorCode);
  return undefined;
}

function isStatus(value: unknown): value is Status {
  return typeof value === 'object' && value !== null && 'code' in value && ('error_code' in value || 'reason' in value);
}

function fixResponse(response: unknown): unknown {
  if (typeof response !== 'object' || response === null) return response;
  const status = isStatus(response) ? response : (response as { status?: unknown }).status;
  if (isStatus(status)) {
    const errorCode = fixedErrorCode(status);
    if (errorCode !== undefined) status.error_code = errorCode;
  }
  return response;
}

interface KeyValue {
  key: string;
  value: string;
}

/** CreateIndex without `index_type` gets `AUTOINDEX`, as Milvus itself and pymilvus do. */
function fixRequest(path: string, argument: unknown): unknown {
  if (!path.endsWith('/CreateIndex') || typeof argument !== 'object' || argument === null) return argument;
  const params = (argument as { extra_params?: unknown }).extra_params;
  const list: KeyValue[] = Array.isArray(params) ? (params as KeyValue[]) : [];
  if (list.some((kv) => kv.key === 'index_type')) return argument;
  return { ...argument, extra_params: [...list, { key: 'index_type', value: 'AUTOINDEX' }] };
}

const compatTransformer: CallInvocationTransformer = (properties) => {
  const definition = properties.methodDefinition;
  const { path, requestSerialize: serialize, responseDeserialize: deserialize } = definition;
  // grpc-js sends the original argument whatever the transformer returns, so the fix goes into the serializer.
  return {
    ...properties,
    methodDefinition: {
      ...definition,
      requestSerialize: (value: unknown) => serialize(fixRequest(path, value)),
      responseDeserialize: (bytes: Buffer) => fixResponse(deserialize(bytes)),
    },
  };
};

/** Whether a URI names a server on this machine (a unix socket or a loopback address). */
function isLocal(uri: string): boolean {
  if (uri.startsWith('unix:')) return true;
  const host = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(\[[^\]]*\]|[^/:]+)/i.exec(uri)?.[1]?.toLowerCase();
  return host === 'localhost' || host === '[::1]' || (host !== undefined && /^127\.\d+\.\d+\.\d+$/.test(host));
}

/**
 * The `ClientConfig` of `@zilliz/milvus2-sdk-node` for a URI that leasehold served
 * (`lease.resource.uri`, `startAndGetUri`, `serve`) or any Milvus: `address` plus the compatibility
 * layer that makes the SDK work with milvus-lite, as a grpc-js `callInvocationTransformer` in
 * `channelOptions` (the SDK overwrites `channelOptions.interceptors`, so interceptors cannot do it):
 * - responses whose integer `status.code` is set but whose legacy `error_code` reads Success (what
 *   milvus-lite 2.5 sends; the SDK reads only `error_code`) get it filled in: 100 →
 *   CollectionNotExists, 700 → IndexNotExist, any other → UnexpectedError; milvus-lite 3.x's wrong
 *   numbers (11 for IndexNotExist, 6 for IllegalArgument) are corrected;
 * - a CreateIndex without `index_type` gets `AUTOINDEX` (milvus-lite 3.x refuses it otherwise).
 * A real Milvus sets both fields, so there it changes nothing. For local servers (a unix socket,
 * loopback) it also turns off keepalive pings (the server counts them as "excess pings" after a
 * minute idle) and the SDK's telemetry. Everything in `config` is kept; a `callInvocationTransformer`
 * of the caller's runs after this one. Throws a TypeError when `uri` is empty or not a string.
 *
 * @example
 * const uri = await serverManagerInstance.startAndGetUri('./app.db');
 * const client = new MilvusClient(milvusClientConfig(uri!));
 */
export function milvusClientConfig(uri: string, config: Omit<ClientConfig, 'address'> = {}): ClientConfig {
  if (typeof uri !== 'string' || uri === '') throw new TypeError(`uri must be a non-empty string, got ${typeof uri === 'string' ? '""' : String(uri)}`);
  const channelOptions: Record<string, unknown> = { ...config.channelOptions };
  const theirs = channelOptions['callInvocationTransformer'] as CallInvocationTransformer | undefined;
  channelOptions['callInvocationTransformer'] = theirs === undefined ? compatTransformer : (properties: CallProperties) => theirs(compatTransformer(properties));
  const local = isLocal(uri);
  if (local && !('grpc.keepalive_time_ms' in channelOptions)) {
    // Effectively never: the SDK's 10 s pings draw GOAWAY "excess pings" from milvus-lite, and
    // grpc-js before 1.10 (SDK 2.5) reads -1 as ping continuously. 2^31-1 is setTimeout's maximum.
    channelOptions['grpc.keepalive_time_ms'] = 2 ** 31 - 1;
    channelOptions['grpc.keepalive_permit_without_calls'] = 0;
  }
  const telemetry = local && (config as { telemetry?: unknown }).telemetry === undefined ? { telemetry: { enabled: false } } : {};
  return { ...telemetry, ...config, address: uri, channelOptions } as ClientConfig;
}
