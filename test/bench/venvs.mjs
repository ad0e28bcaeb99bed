// Python venvs the benchmarks compare against, made in leasehold's cache when missing (never in the system Python).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from '../../packages/milvus-lite/dist/index.js';

/** pymilvus 2.5 with milvus-lite 2.5.1: Python's own `MilvusClient(path)`; milvus-lite 2.5 imports pkg_resources, hence setuptools. */
export const kPymilvusPeer = { name: 'bench-pymilvus-2.5', packages: ['pymilvus>=2.5,<2.6', 'milvus-lite==2.5.1', 'setuptools<81'], probe: 'import pymilvus, milvus_lite' };

/** The venv `name` in leasehold's cache with `packages`, made (or remade, when `probe` fails to import) first; resolves its python. */
export async function benchVenv({ name, packages, probe = 'pass' }, log) {
  const dir = join(cacheDir(), name);
  const python = join(dir, 'bin', 'python');
  const ready = existsSync(python) && (await execa(python, ['-c', probe], { reject: false })).exitCode === 0;
  if (!ready) {
    log(`creating ${dir} (${packages.join(' ')})`);
    await execa('python3', ['-m', 'venv', dir]);
    await execa(join(dir, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', ...packages]);
  }
  return python;
}
