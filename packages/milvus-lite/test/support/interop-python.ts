import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execaSync } from 'execa';
import { ciIsSet, skipOnPurpose } from './skip-policy.js';

/**
 * A Python with milvus-lite 2.5.1 (and, for `MilvusClient(path)`, pymilvus) for the interop tests:
 * `LEASEHOLD_INTEROP_PYTHON` (the venv `.ci/run` builds with pip), else the python of the 2.5.1 cache
 * venv when there is one. Missing (or without `needs`): throws, so the file fails; `undefined` only
 * with LEASEHOLD_SKIP_MILVUS=1 outside CI.
 */
export function interopPython(needs: readonly string[] = ['milvus_lite']): string | undefined {
  if (skipOnPurpose()) return undefined;
  const candidates = [process.env['LEASEHOLD_INTEROP_PYTHON'], join(homedir(), '.cache/leasehold/milvus-lite-2.5.1/bin/python')].filter((p): p is string => Boolean(p));
  const tried: string[] = [];
  for (const python of candidates) {
    if (!existsSync(python)) {
      tried.push(`${python}: missing`);
      continue;
    }
    const check = execaSync(python, ['-c', `import ${needs.join(', ')}`], { reject: false });
    if (check.exitCode === 0) return python;
    tried.push(`${python}: ${String(check.stderr).trim().split('\n').pop() ?? ''}`);
  }
  throw new Error(`a Python with ${needs.join(' and ')} (milvus-lite 2.5.1) is required${ciIsSet() ? ' (CI is set: these tests never skip)' : ''}; set LEASEHOLD_INTEROP_PYTHON. Tried:\n${tried.join('\n')}`);
}
