import { inject } from 'vitest';
import type { Installation } from '../../src/index.js';
import './provided.js';

/**
 * The installation of `engine` found by the global setup. Missing under CI=true: throws, so the test
 * file fails. Missing elsewhere: undefined, and the caller skips with the reason.
 */
export function installationOf(engine: 'native' | 'python'): Installation | undefined {
  const provided = inject('milvusLite');
  const found = provided[engine];
  if (found === undefined && process.env['CI'] === 'true') {
    throw new Error(`milvus-lite (${engine} engine) is required under CI=true but was not found:\n${provided.problems[engine] ?? ''}`);
  }
  return found;
}
