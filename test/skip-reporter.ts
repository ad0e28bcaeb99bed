// Ends a run that skipped anything with one loud line: how many tests, and why.
import type { Reporter, TestModule } from 'vitest/node';
import { kSkipReason, skipOnPurpose } from '../packages/milvus-lite/test/support/skip-policy.js';

export default class SkipReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    let skipped = 0;
    let total = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        total++;
        if (test.result().state === 'skipped') skipped++;
      }
    }
    if (skipped === 0) return;
    const why = skipOnPurpose() ? kSkipReason : 'marked skip or todo in the code, or filtered out (-t)';
    process.stderr.write(`\n\u001b[1;33m!!! SKIPPED ${skipped} of ${total} tests: ${why} !!!\u001b[0m\n`);
  }
}
