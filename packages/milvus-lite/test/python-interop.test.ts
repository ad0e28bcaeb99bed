import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { createMilvusLitePool, KeyLockedError } from '../src/index.js';
import { connect } from './support/milvus-data.js';
import { installationOf, interopPython } from './support/installations.js';

const installation = installationOf('native');
// Python's own ServerManager from the same milvus-lite install: prints the URI it got (or None).
const kPythonManager = String.raw`
import logging, sys
logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
from milvus_lite.server_manager import server_manager_instance as m
print(m.start_and_get_uri(sys.argv[1]), flush=True)
sys.stdin.read()
m.release_all()
`;

describe.skipIf(installation === undefined)("milvus-lite's Python ServerManager and leasehold exclude each other", () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'lh-interop-')));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function pythonManager(dbPath: string) {
    const child = execa(interopPython()!, ['-c', kPythonManager, dbPath], { stdin: 'pipe', reject: false });
    const firstLine = new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => resolve(String(chunk).trim()));
      void child.then((r) => reject(new Error(`python exited: ${String(r.stderr)}`)));
    });
    return { child, firstLine };
  }

  it('a database held by Python is refused clearly, and Python keeps serving', async () => {
    const dbPath = join(root, 'py-holds.db');
    const { child, firstLine } = pythonManager(dbPath);
    const uri = await firstLine;
    expect(uri).toMatch(/^unix:/);
    await using pool = createMilvusLitePool({ installation: installation! });
    const error = await pool.acquire(dbPath).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyLockedError);
    expect((error as Error).message).toContain(dbPath);
    expect((error as Error).message).toMatch(/Python's ServerManager/);
    const client = await connect(uri);
    expect((await client.listCollections()).status.error_code).toBe('Success');
    await client.closeConnection();
    child.stdin!.end();
    expect((await child).exitCode).toBe(0);
    // Released by Python: ours now.
    await using lease = await pool.acquire(dbPath);
    expect(lease.resource.pid).toBeGreaterThan(0);
  });

  it('a database held by leasehold is refused by Python', async () => {
    const dbPath = join(root, 'node-holds.db');
    await using pool = createMilvusLitePool({ installation: installation! });
    await using lease = await pool.acquire(dbPath);
    const { child, firstLine } = pythonManager(dbPath);
    expect(await firstLine).toBe('None');
    child.stdin!.end();
    const result = await child;
    expect(String(result.stderr)).toMatch(/opened by another program/);
    const client = await connect(lease.resource.uri);
    expect((await client.listCollections()).status.error_code).toBe('Success');
    await client.closeConnection();
  });
});
