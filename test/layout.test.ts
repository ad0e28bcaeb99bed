// The adapter's layout (docs/architecture.md), kept: the layer check fails on each kind of violation
// made on purpose (test/fixtures/layers/violations) and passes on the real source; no source file is
// over 350 lines; the adapter's source root holds at most 6 files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const kMaxLines = 350;
const kMaxRootFiles = 6;

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}

/** depcruise on `dir` as `pnpm lint` runs it (its exit code), and its violations (the JSON report). */
async function depcruise(dir: string): Promise<{ exitCode: number | undefined; violations: Violation[] }> {
  const run = (...extra: string[]) => execa('pnpm', ['exec', 'depcruise', dir, '--config', '.dependency-cruiser.cjs', ...extra], { cwd: root, reject: false });
  const [asLint, asJson] = await Promise.all([run(), run('--output-type', 'json')]);
  const { summary } = JSON.parse(asJson.stdout) as { summary: { violations: Violation[] } };
  return { exitCode: asLint.exitCode, violations: summary.violations };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

describe('the layer check (.dependency-cruiser.cjs, run by pnpm lint)', () => {
  it('fails on a cycle, an upward import, an upward import type and an upward dynamic import(), and on nothing else', async () => {
    const dir = 'test/fixtures/layers/violations';
    const { exitCode, violations } = await depcruise(dir);
    expect(exitCode).not.toBe(0);
    const found = violations.map((v) => `${v.rule.name}: ${relative(dir, v.from)} → ${relative(dir, v.to)}`).sort();
    expect(found).toEqual(
      [
        'no-cycle: server/cycle-a.ts → server/cycle-b.ts',
        'no-upward-import-from-install: install/up-dynamic.ts → cli/command.ts',
        'no-upward-import-from-install: install/up-type.ts → pool/pool.ts',
        'no-upward-import-from-server: server/up-static.ts → pool/pool.ts',
      ].sort(),
    );
  }, 120_000);

  it('passes on the adapter’s source', async () => {
    const { exitCode, violations } = await depcruise('packages/milvus-lite/src');
    expect(violations).toEqual([]);
    expect(exitCode).toBe(0);
  }, 120_000);
});

describe('file sizes', () => {
  for (const pkg of ['packages/milvus-lite/src', 'packages/pool/src']) {
    it(`no source file under ${pkg} is over ${kMaxLines} lines`, () => {
      const over = sourceFiles(join(root, pkg))
        .map((path) => ({ path: relative(root, path), lines: readFileSync(path, 'utf8').split('\n').length - 1 }))
        .filter(({ lines }) => lines > kMaxLines);
      expect(over).toEqual([]);
    });
  }

  it(`the adapter's source root holds at most ${kMaxRootFiles} files, the rest are in layer folders`, () => {
    const files = readdirSync(join(root, 'packages/milvus-lite/src')).filter((name) => statSync(join(root, 'packages/milvus-lite/src', name)).isFile());
    expect(files.length, files.join(', ')).toBeLessThanOrEqual(kMaxRootFiles);
  });
});
