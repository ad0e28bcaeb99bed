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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') return import('@zilliz/milvus2-sdk-node');
    throw error;
  }
}

/**
 * Missing is one thing (the SDK itself not found); installed but failing to load (a dependency of
 * it missing, a Node flag) another. One line: Node's "Require stack" stays in the cause.
 */
function sdkLoadError(user: string, error: unknown): MilvusLiteError {
  const code = (error as NodeJS.ErrnoException).code;
  const firstLine = String((error as Error).message).split('\n', 1)[0]!;
  const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && firstLine.includes("'@zilliz/milvus2-sdk-node'");
  return new MilvusLiteError(
    missing
      ? `${user} needs @zilliz/milvus2-sdk-node: npm install @zilliz/milvus2-sdk-node`
      : `${user} could not load @zilliz/milvus2-sdk-node, which is installed: ${(error as Error).name}: ${firstLine} (a broken install: reinstall it; or a Node option such as --disallow-code-generation-from-strings)`,
    { cause: error },
  );
}
