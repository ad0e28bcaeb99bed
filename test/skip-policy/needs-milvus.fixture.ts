// Run only by skip-policy.test.ts, in a child vitest with its own environment.
import { describe, expect, it } from 'vitest';
import { installationOf } from '../../packages/milvus-lite/test/support/installations.js';

const installation = installationOf('native');

describe.skipIf(installation === undefined)('needs milvus-lite', () => {
  it('has it', () => expect(installation?.engine).toBe('native'));
});
