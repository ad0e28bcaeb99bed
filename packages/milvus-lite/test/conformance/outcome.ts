// The outcome of one conformance cell (one case on one target), and the steps cases are written
// with: a step that the server or the SDK refuses ends the case as "fails", an effect that is not
// there ends it as "silent", and a case that gets to its end has round-tripped its data ("works").
import { MilvusLiteError } from '../../src/index.js';

/** The conformance targets: milvus-lite's two engines through leasehold, and a real Milvus. */
export type Target = 'native' | 'python' | 'standalone';
export const kTargets: readonly Target[] = ['native', 'python', 'standalone'];

/**
 * What a cell's case did:
 * - `works`: every step succeeded and the data really round-tripped (the case checked it);
 * - `fails`: a step was refused with a message (by the server or the SDK);
 * - `refused`: leasehold refused it: a shape that kills milvus-lite, or a method it lacks;
 * - `silent`: every step reported success, yet the effect is missing or wrong (`detail` says what);
 * - `crashes`: the server died of the request (run on a server of its own);
 * - `n/a`: not run on this target (`detail` says why).
 */
export type OutcomeKind = 'works' | 'fails' | 'refused' | 'silent' | 'crashes' | 'n/a';
export interface Outcome {
  readonly kind: OutcomeKind;
  /** The error's message (fails, refused, crashes) or what was wrong (silent, n/a), normalized. */
  readonly message?: string;
}

/** A step refused by the server or the SDK. */
class StepFailed extends Error {}
/** A step leasehold refused. */
class StepRefused extends Error {}
/** Every step said yes, the effect is not there. */
class EffectMissing extends Error {}

/**
 * First line, the case's collection `names` as `<c>`, ids, timings and whitespace made uniform, at
 * most 160 characters: the same on every run.
 */
export function normalizeMessage(message: string, names: readonly string[]): string {
  let text = message.split('\n').find((line) => line.trim() !== '') ?? '';
  for (const name of [...names].sort((a, b) => b.length - a.length)) text = text.split(name).join('<c>');
  text = text
    .replace(/\s+/g, ' ')
    .replace(/\b(traceID|trace_id|requestID|msgID|ts|timestamp|collectionID|segmentID|indexID)([=:]\s*)\w+/gi, '$1$2<n>')
    .replace(/\d{12,}/g, '<n>')
    .replace(/\b(plan node id: )\d+/g, '$1<n>')
    .replace(/\/\S*\/lh-conformance-[^\s:]*/g, '<db>')
    .replace(/\b\d+ms\b/g, '<n>ms')
    .trim();
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

interface StatusLike {
  error_code?: string | number;
  code?: number;
  reason?: string;
}

/** The status of an SDK reply: the reply itself (a `ResStatus`) or its `status`. */
function statusOf(reply: unknown): StatusLike | undefined {
  if (typeof reply !== 'object' || reply === null) return undefined;
  if ('error_code' in reply || 'reason' in reply) return reply as StatusLike;
  const status = (reply as { status?: unknown }).status;
  return typeof status === 'object' && status !== null ? (status as StatusLike) : undefined;
}

/**
 * Whether leasehold refused the call without the server doing it: a request shape it knows kills
 * milvus-lite, or a method the server lacks (issue 25's RefusedRequestError and
 * UnsupportedMethodError, both MilvusLiteErrors). Any other error, leasehold's wrappers of the
 * server's own failures included, is the server or the SDK refusing.
 */
function refusedByLeasehold(error: unknown): boolean {
  return error instanceof MilvusLiteError && (error.name === 'RefusedRequestError' || error.name === 'UnsupportedMethodError');
}

/** An error's message; the SDK rejects some calls with the failed status itself (its `reason`). */
function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  const reason = statusOf(error)?.reason;
  return typeof reason === 'string' && reason !== '' ? reason : JSON.stringify(error);
}

/**
 * Awaits one SDK call of a case. A thrown error or a status that says failure ends the case as
 * `fails` (or `refused` when leasehold threw). A reply with no status at all (`{}`, what the SDK
 * makes of UNIMPLEMENTED) passes: the case's checks of the effect then find it missing.
 */
export async function step<T>(what: string, call: Promise<T> | (() => Promise<T>)): Promise<T> {
  let reply: T;
  try {
    reply = await (typeof call === 'function' ? call() : call);
  } catch (error) {
    const message = `${what}: ${describeError(error)}`;
    throw refusedByLeasehold(error) ? new StepRefused(message) : new StepFailed(message);
  }
  const status = statusOf(reply);
  const failed = status !== undefined && ((status.error_code !== undefined && status.error_code !== 'Success' && status.error_code !== 0) || (typeof status.code === 'number' && status.code !== 0));
  if (failed) throw new StepFailed(`${what}: ${status.reason || `code ${String(status.code)}, ${String(status.error_code)}`}`);
  return reply;
}

/** Ends the case as `silent` unless `condition` holds: the calls said yes, `detail` is what is missing. */
export function effect(condition: boolean, detail: string): asserts condition {
  if (!condition) throw new EffectMissing(detail);
}

/** Runs a case and classifies how it ended; `names` are its collection names (kept out of messages). Errors of the case itself propagate. */
export async function outcomeOf(names: readonly string[], body: () => Promise<void>): Promise<Outcome> {
  try {
    await body();
    return { kind: 'works' };
  } catch (error) {
    if (error instanceof StepFailed) return { kind: 'fails', message: normalizeMessage(error.message, names) };
    if (error instanceof StepRefused) return { kind: 'refused', message: normalizeMessage(error.message, names) };
    if (error instanceof EffectMissing) return { kind: 'silent', message: normalizeMessage(error.message, names) };
    throw error;
  }
}
