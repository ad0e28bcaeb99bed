import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../src/server/socket-dir.js';

// A zombie made on purpose: Python forks a child that exits at once and does not reap it, then
// prints the child's pid and waits (Node itself reaps its own children, so it cannot make one).
const kZombieMaker = String.raw`
import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
time.sleep(0.2)
sys.stdout.write("%d\n" % pid)
sys.stdout.flush()
sys.stdin.read()
`;

describe('isAlive', () => {
  it('a running process is alive; one that is gone is not', async () => {
    expect(isAlive(process.pid)).toBe(true);
    const child = execa(process.execPath, ['-e', '0']);
    await child;
    expect(isAlive(child.pid!)).toBe(false);
  });

  it.runIf(process.platform === 'linux')('a zombie (exited, not reaped yet) is not alive, though kill(pid, 0) still finds it', async () => {
    const parent = execa('python3', ['-c', kZombieMaker], { stdin: 'pipe', buffer: false, reject: false });
    try {
      const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim()))));
      expect(() => process.kill(pid, 0)).not.toThrow();
      expect(isAlive(pid)).toBe(false);
    } finally {
      parent.stdin!.end();
      await parent;
    }
  });
});
