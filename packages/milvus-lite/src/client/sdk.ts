import { createRequire } from 'node:module';
import { MilvusLiteError } from '../errors.js';

/** The SDK's module, as `import('@zilliz/milvus2-sdk-node')` gives it. */
export type Sdk = typeof import('@zilliz/milvus2-sdk-node');

const requireFromHere = createRequire(import.meta.url);
let sdkLoading: Promise<Sdk> | undefined;

/**
 * `@zilliz/milvus2-sdk-node` (CommonJS), loaded once per process, by `require`: the module
 * `import()` would give (Node keeps one instance in its CommonJS cache, which an application's own
 * `import` of the SDK shares), but on Node 20 `import()` of it costs more: SDK 3.0.6 ~50 ms more
 * wall time and ~100 ms more CPU, 2.5.12 ~25 and ~50 (whole processes, 8 interleaved pairs, 2
 * cores; issue 24); on Node 24 the two cost the same. An SDK that `require` cannot load (ES module
 * only: ERR_REQUIRE_ESM, ERR_REQUIRE_ASYNC_MODULE) is imported instead.
 *
 * The load blocks this thread for 0.2–0.5 s, so it begins at the next turn of the event loop: a
 * start's spawn, posted in this turn, goes first, and the server boots meanwhile.
 *
 * @param user what needs the SDK (`openMilvus`, `migrate`), for the error
 * @throws MilvusLiteError (rejects) when the SDK is not installed ("npm install …"), or is
 *   installed but fails to load (a broken install, a Node option: the cause says which). A later
 *   call tries again, but Node remembers a package it did not find for the rest of the process
 *   (`require` and `import` alike): an SDK installed meanwhile loads in the next process.
 */
export function loadSdk(user: string): Promise<Sdk> {
  sdkLoading ??= new Promise<void>((resolve) => setImmediate(resolve)).then(requireSdk);
  const loading = sdkLoading;
  return loading.catch((error: unknown) => {
    if (sdkLoading === loading) sdkLoading = undefined;
    throw sdkLoadError(user, error);
  });
}

function requireSdk(): Sdk | Promise<Sdk> {
  try {
    return requireFromHere('@zilliz/milvus2-sdk-node') as Sdk;
  } catch (error) {
    const code = codeOf(error);
    if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') return import('@zilliz/milvus2-sdk-node');
    throw error;
  }
}

/** `error.code`, for whatever a module's code may throw (null, a string…). */
function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/**
 * Missing is one thing (the SDK itself not found); installed but failing to load (a dependency of
 * it missing, a Node flag) another. One line: the first line of what was thrown (Node's "Require
 * stack" stays in the cause), whatever was thrown.
 */
function sdkLoadError(user: string, error: unknown): MilvusLiteError {
  const code = codeOf(error);
  const text = error instanceof Error ? error.message : String(error);
  const firstLine = text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '(no message)';
  const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && firstLine.includes("'@zilliz/milvus2-sdk-node'");
  const what = error instanceof Error ? `${error.name}: ${firstLine}` : `it threw ${firstLine}`;
  return new MilvusLiteError(
    missing
      ? `${user} needs @zilliz/milvus2-sdk-node: npm install @zilliz/milvus2-sdk-node`
      : `${user} could not load @zilliz/milvus2-sdk-node, which is installed: ${what} (a broken install: reinstall it; or a Node option such as --disallow-code-generation-from-strings)`,
    { cause: error },
  );
}
