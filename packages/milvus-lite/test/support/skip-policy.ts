// When a test that needs a real server may skip: only on purpose (LEASEHOLD_SKIP_MILVUS=1), and
// never under CI. Shared by the global setup, the test files and the skip reporter.

/** Whether `CI` is set to anything truthy (`true`, `1`, `yes`…; not empty, `0`, `false`, `no`, `off`). */
export function ciIsSet(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env['CI'];
  return value !== undefined && value.trim() !== '' && !/^(0|false|no|off)$/i.test(value.trim());
}

/** LEASEHOLD_SKIP_MILVUS=1 outside CI: the one way to skip the tests that need a real server. */
export function skipOnPurpose(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['LEASEHOLD_SKIP_MILVUS'] === '1' && !ciIsSet(env);
}

export const kSkipReason = 'LEASEHOLD_SKIP_MILVUS=1 is set (tests that need milvus-lite or Milvus standalone skip on purpose)';
