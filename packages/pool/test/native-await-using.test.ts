// Node 24 parses `await using` itself; Node 20 does not, and there the compiled-down tests
// (await-using.test.ts) are what run. This file checks whichever is true of the Node running it.
import { Script } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/native-await-using.mjs', import.meta.url));

function parsesAwaitUsing(): boolean {
  try {
    new Script('(async () => { await using x = null; })');
    return true;
  } catch {
    return false;
  }
}

const native = parsesAwaitUsing();
const major = Number(process.versions.node.split('.')[0]);

describe(`await using on Node ${process.versions.node}`, () => {
  it('Node 24 and later parse it natively; Node 20 does not', () => {
    expect(native).toBe(major >= 24);
  });

  it(native ? 'runs natively in plain JavaScript, releasing and closing in order' : 'is a syntax error in plain JavaScript, so the compiled-down form is needed', async () => {
    const result = await execa(process.execPath, [fixture], { reject: false });
    if (native) {
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual(['start a', 'use a', 'stop a', 'start b', 'use b', 'stop b', 'start c', 'stop c']);
    } else {
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toMatch(/SyntaxError/);
    }
  });
});
