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

/**
 * A Python whose environment has milvus-lite 2.5.1 (and pymilvus), for the Python interop tests
 * (Python's ServerManager, pymilvus `MilvusClient(path)`, `fcntl.lockf` holders):
 * `$LEASEHOLD_INTEROP_PYTHON` (.ci/run builds that venv with pip), else the python of the native
 * installation when it was found in a venv. Missing: throws, with the same policy as `installationOf`.
 */
export function interopPython(): string | undefined {
  const fromEnv = process.env['LEASEHOLD_INTEROP_PYTHON'];
  if (fromEnv) return fromEnv;
  const provided = inject('milvusLite');
  if (provided.skipOnPurpose) return undefined;
  return (
    provided.native?.python ??
    missing(
      'a Python with milvus-lite 2.5.1 and pymilvus (the interop tests)',
      'set LEASEHOLD_INTEROP_PYTHON to its python; make one with: python3 -m venv V && V/bin/pip install milvus-lite==2.5.1 pymilvus',
    )
  );
}
