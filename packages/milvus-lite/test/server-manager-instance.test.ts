import { fileURLToPath } from 'node:url';
import { execaNode } from 'execa';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/import-instance.mjs', import.meta.url));

describe('serverManagerInstance, like Python server_manager_instance', () => {
  it('is a ServerManager instance, and importing it spawns no process and holds no timer', async () => {
    const started = performance.now();
    const { stdout } = await execaNode(fixture, { timeout: 20_000 });
    const report = JSON.parse(stdout) as { instance: boolean; startAndGetUri: string; children: number; handles: string[] };
    expect(report).toEqual({ instance: true, startAndGetUri: 'function', children: 0, handles: [] });
    // The script exits as soon as its module is done: nothing keeps the event loop alive.
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});
