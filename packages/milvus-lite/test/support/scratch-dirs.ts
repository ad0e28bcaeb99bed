import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { createMilvusLitePool, type Installation, type LeasePool, type MilvusLiteServer } from '../../src/index.js';

/** A fresh empty directory per call, all under one temporary root removed after the file's tests. */
export function freshDirs(prefix: string): () => string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  return () => {
    const dir = join(root, `case-${++n}`);
    mkdirSync(dir);
    return dir;
  };
}

/** Makes milvus-lite pools for `installation` that are closed after each test. */
export function poolsClosedAfterEach(installation: Installation | undefined): (options?: Parameters<typeof createMilvusLitePool>[0]) => LeasePool<MilvusLiteServer> {
  const pools: LeasePool<MilvusLiteServer>[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });
  return (options = {}) => {
    const pool = createMilvusLitePool({ installation: installation!, ...options });
    pools.push(pool);
    return pool;
  };
}

/** Runs `fn` with the environment variable `name` set to `value` (removed for `undefined`), then puts it back. */
export async function withEnv<T>(name: string, value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}
