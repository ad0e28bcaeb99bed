import { inject } from 'vitest';
import type { Installation } from '../../src/index.js';
import { ciIsSet } from './skip-policy.js';
import './provided.js';

function missing(what: string, problem: string | undefined): never {
  throw new Error(
    `${what} is required but was not found${ciIsSet() ? ' (CI is set: these tests never skip)' : ''}:\n${problem ?? '(no reason recorded)'}\n` +
      'Set LEASEHOLD_SKIP_MILVUS=1 (outside CI) to skip the tests that need it on purpose.',
  );
}

/**
 * The installation of `engine` found (or installed) by the global setup. Missing: throws, so the
 * test file fails. `undefined` only with LEASEHOLD_SKIP_MILVUS=1 outside CI: the caller skips.
 */
export function installationOf(engine: 'native' | 'python'): Installation | undefined {
  const provided = inject('milvusLite');
  if (provided.skipOnPurpose) return undefined;
  return provided[engine] ?? missing(`milvus-lite (${engine} engine)`, provided.problems[engine]);
}

/** The venv python of Milvus standalone (PyPI `milvus`), with the same policy as `installationOf`. */
export function milvusStandalonePython(): string | undefined {
  const provided = inject('milvusLite');
  if (provided.skipOnPurpose) return undefined;
  return provided.standalone ?? missing('Milvus standalone (PyPI milvus)', provided.problems.standalone);
}

export { interopPython } from './interop-python.js';
