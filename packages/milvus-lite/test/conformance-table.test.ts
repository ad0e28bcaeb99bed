// The README's support table comes from the conformance run: the committed results agree with the
// expected outcomes the live suites assert, cell by cell, and the README holds exactly the table
// those results make. No server needed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { caseId, kCases } from './conformance/cases.js';
import { expectedOutcome, kExpected, kTargetVersions } from './conformance/expected.js';
import { normalizeMessage } from './conformance/outcome.js';
import { kReadme, readResults, renderTable, withTable } from './conformance/table.mjs';

describe('the conformance table', () => {
  const results = readResults();

  it('expected.ts gives every case an outcome on every target, and nothing else', () => {
    expect(Object.keys(kExpected)).toEqual(kCases.map(caseId));
  });

  it.each(results.map((r) => [r.target, r] as const))('the committed results of %s cover every case, each as expected.ts says', (target, recorded) => {
    expect(recorded.version).toBe(kTargetVersions[target]);
    expect(Object.keys(recorded.outcomes)).toEqual(kCases.map(caseId));
    for (const [id, outcome] of Object.entries(recorded.outcomes)) {
      const expected = expectedOutcome(target, id);
      expect({ id, kind: outcome.kind, message: outcome.message }).toEqual({
        id,
        kind: expected.kind,
        message: expected.message === undefined ? outcome.message : expect.stringMatching(expected.message),
      });
    }
  });

  it("the README's table is the one the committed results make (pnpm conformance:table writes it)", () => {
    const readme = readFileSync(kReadme, 'utf8');
    expect(readme).toBe(withTable(readme, renderTable(results)));
  });

  it('a README without the markers is refused with the markers named', () => {
    expect(() => withTable('# no table here\n', renderTable(results))).toThrow(/no conformance table markers/);
  });

  it('messages are recorded the same on every run: collection names, ids, timings and database paths replaced, first line only, 160 characters at most', () => {
    expect(normalizeMessage('describeCollection: collection conf_3_x not found [collection=conf_3_x]\nsecond line', ['conf_3_x'])).toBe('describeCollection: collection <c> not found [collection=<c>]');
    expect(normalizeMessage('search: failed for [plan node id: 65] (retried 3 times, 163ms)', [])).toBe('search: failed for [plan node id: <n>] (retried 3 times, <n>ms)');
    expect(normalizeMessage('channel by-dev-rootcoord-dml_11_470952073110364461v0 down', [])).toBe('channel by-dev-rootcoord-dml_11_<n>v0 down');
    expect(normalizeMessage('GetVersion on /tmp/lh-conformance-native-1yLXwm/case-1/conformance.db: lacks it', [])).toBe('GetVersion on <db>: lacks it');
    expect(normalizeMessage(`x${'y'.repeat(300)}`, [])).toHaveLength(160);
  });
});
