import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Installation } from '../../src/index.js';

const ownerScript = fileURLToPath(new URL('../fixtures/owner.mjs', import.meta.url));

/** Processes whose command line mentions `text` (a server's database or socket path). */
export function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface OwnerReport {
  pid?: number;
  uri?: string;
  error?: string;
  message?: string;
}

/**
 * Runs test/fixtures/owner.mjs (a separate Node process owning a lease) and resolves its first
 * report line. Wrapped in an object: an execa child is a thenable.
 */
function spawnOwner(dbPath: string, installation: Installation, mode: string) {
  return execa(process.execPath, [ownerScript, dbPath, JSON.stringify(installation), mode], { reject: false, stdin: 'ignore' });
}

export async function startOwner(dbPath: string, installation: Installation, mode = 'hold'): Promise<{ child: ReturnType<typeof spawnOwner>; report: OwnerReport }> {
  const child = spawnOwner(dbPath, installation, mode);
  const report = await new Promise<OwnerReport>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += String(chunk);
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(JSON.parse(line) as OwnerReport);
    });
    void child.then((r) => reject(new Error(`owner exited before reporting: ${String(r.stderr)}`)));
  });
  return { child, report };
}
