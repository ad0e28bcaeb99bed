import type { ClientConfig } from '@zilliz/milvus2-sdk-node';
import { callGuard, type CallInvocationTransformer, type CallProperties } from './call-guard.js';
import { servedAt } from '../server/served-servers.js';

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

/** The response and request fixes milvus-lite needs, for calls where `lite()` holds. */
function compatTransformer(lite: () => boolean): CallInvocationTransformer {
  return (properties) => {
    if (!lite()) return properties;
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
}

/** Options of `milvusClientConfig` besides the SDK's own `ClientConfig`. */
export interface MilvusClientConfigOptions {
  /**
   * Whether `uri` is a milvus-lite server. Default: a `unix:` URI, or a server this process runs
   * (any pool, `openMilvus`, `ServerManager`); set it for a TCP port another process serves
   * (`leasehold-milvus serve --port`), or `false` to get the SDK's own behaviour.
   */
  readonly milvusLite?: boolean;
}

/**
 * The `ClientConfig` of `@zilliz/milvus2-sdk-node` for a URI that leasehold served
 * (`lease.resource.uri`, `startAndGetUri`, `serve`) or any Milvus: `address`, plus leasehold's call
 * policy and, for milvus-lite, the compatibility layer that makes the SDK work with it, as a grpc-js
 * `callInvocationTransformer` in `channelOptions` (the SDK overwrites `channelOptions.interceptors`,
 * so interceptors cannot do it).
 *
 * Every server (milvus-lite or a real Milvus):
 * - a call that is not retry-safe (insert, upsert, delete, create, drop, alter, rename, import, …:
 *   anything but reads, load, release and flush) is never retried, on any failure: the SDK retries
 *   every call on UNKNOWN and other codes 3 times, and a failed status does not say whether the
 *   server applied it. It fails with a `MilvusCallError` (`method`, `code`, `details`).
 *
 * milvus-lite only (see `options.milvusLite`); a real Milvus keeps the SDK's own behaviour:
 * - responses whose integer `status.code` is set but whose legacy `error_code` reads Success (what
 *   milvus-lite 2.5 sends; the SDK reads only `error_code`) get it filled in: 100 →
 *   CollectionNotExists, 700 → IndexNotExist, any other → UnexpectedError; milvus-lite 3.x's wrong
 *   numbers (11 for IndexNotExist, 6 for IllegalArgument) are corrected;
 * - a CreateIndex without `index_type` gets `AUTOINDEX` (milvus-lite 3.x refuses it otherwise);
 * - an RPC milvus-lite does not implement fails with an `UnsupportedMethodError` naming it (the SDK
 *   alone answers `{}`, as if it had worked);
 * - request shapes that crash milvus-lite 2.5 are refused unsent with a `RefusedRequestError`;
 * - for a server this process runs: failed statuses carry the server's own ERROR lines in their
 *   `reason`, writes it acknowledged but logged as failed fail, a write that failed on a full disk
 *   is a `DiskFullError`, and the server is then restarted (see `callGuard` in call-guard.ts);
 * - keepalive pings are turned off (the server counts them as "excess pings" after a minute idle),
 *   and so is the SDK's telemetry.
 * Everything in `config` is kept; a `callInvocationTransformer` of the caller's runs after these.
 * Throws a TypeError when `uri` is empty or not a string.
 *
 * @example
 * const uri = await serverManagerInstance.startAndGetUri('./app.db');
 * const client = new MilvusClient(milvusClientConfig(uri!));
 */
export function milvusClientConfig(uri: string, config: Omit<ClientConfig, 'address'> & MilvusClientConfigOptions = {}): ClientConfig {
  if (typeof uri !== 'string' || uri === '') throw new TypeError(`uri must be a non-empty string, got ${typeof uri === 'string' ? '""' : String(uri)}`);
  const { milvusLite, ...sdkConfig } = config;
  if (milvusLite !== undefined && typeof milvusLite !== 'boolean') throw new TypeError(`milvusLite must be a boolean, got ${String(milvusLite)}`);
  // Asked per call: openMilvus builds its client before the server it starts is registered.
  const lite = (): boolean => milvusLite ?? (uri.startsWith('unix:') || servedAt(uri) !== undefined);
  const channelOptions: Record<string, unknown> = { ...sdkConfig.channelOptions };
  const theirs = channelOptions['callInvocationTransformer'] as CallInvocationTransformer | undefined;
  const guard = callGuard(uri, lite);
  const compat = compatTransformer(lite);
  channelOptions['callInvocationTransformer'] = (properties: CallProperties) => {
    const ours = guard(compat(properties));
    return theirs === undefined ? ours : theirs(ours);
  };
  const local = lite();
  if (local && !('grpc.keepalive_time_ms' in channelOptions)) {
    // Effectively never: the SDK's 10 s pings draw GOAWAY "excess pings" from milvus-lite, and
    // grpc-js before 1.10 (SDK 2.5) reads -1 as ping continuously. 2^31-1 is setTimeout's maximum.
    channelOptions['grpc.keepalive_time_ms'] = 2 ** 31 - 1;
    channelOptions['grpc.keepalive_permit_without_calls'] = 0;
  }
  const telemetry = local && (sdkConfig as { telemetry?: unknown }).telemetry === undefined ? { telemetry: { enabled: false } } : {};
  return { ...telemetry, ...sdkConfig, address: uri, channelOptions } as ClientConfig;
}
