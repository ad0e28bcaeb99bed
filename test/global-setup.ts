// Finds both milvus-lite engines and Milvus standalone (PyPI `milvus`, for the remote tests) before
// any test runs, installing what is missing into leasehold's cache (LEASEHOLD_NO_INSTALL=1: don't).
// Tests read the result with inject(). What is still missing fails the tests that need it; the one
// way to skip them is LEASEHOLD_SKIP_MILVUS=1 outside CI (see support/skip-policy.ts).
import type { TestProject } from 'vitest/node';
import { findMilvusLite, installMilvusLite } from '@leasehold/milvus-lite';
import { findMilvusStandalone, installMilvusStandalone } from '../packages/milvus-lite/test/support/milvus-standalone.js';
import type { MilvusLiteProvided } from '../packages/milvus-lite/test/support/provided.js';
import { ciIsSet, skipOnPurpose } from '../packages/milvus-lite/test/support/skip-policy.js';
import { kTestWheelDir, kTestWheelName } from '../packages/milvus-lite/test/support/wheel-index.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const kVersions = { native: '2.5.1', python: '3.2.2' } as const;

export default async function setup(project: TestProject): Promise<void> {
  const provided: MilvusLiteProvided = { problems: {} };
  if (skipOnPurpose()) {
    project.provide('milvusLite', { ...provided, skipOnPurpose: true });
    return;
  }
  const install = process.env['LEASEHOLD_NO_INSTALL'] !== '1';
  for (const engine of ['native', 'python'] as const) {
    try {
      provided[engine] = await findMilvusLite({ engine });
    } catch (error) {
      if (!install) {
        provided.problems[engine] = `${(error as Error).message}\n(LEASEHOLD_NO_INSTALL=1: not installing it)`;
        continue;
      }
      try {
        console.log(`[global-setup] installing milvus-lite ${kVersions[engine]} into leasehold's cache…`);
        // The native engine from the wheel pip downloaded (LEASEHOLD_TEST_WHEEL_DIR), when it is there:
        // under CI the tests never reach a public index with leasehold's own client.
        const wheel = join(kTestWheelDir, kTestWheelName);
        const env = engine === 'native' && existsSync(wheel) ? { ...process.env, LEASEHOLD_MILVUS_LITE_WHEEL: wheel } : process.env;
        if (engine === 'native' && env === process.env && ciIsSet()) throw new Error(`${wheel} is missing (CI never installs from PyPI with leasehold's client): pip download --no-deps --only-binary=:all: milvus-lite==2.5.1 -d ${kTestWheelDir}`);
        await installMilvusLite({ version: kVersions[engine], env, log: (line) => console.log(`[global-setup] ${line}`) });
        provided[engine] = await findMilvusLite({ engine });
      } catch (installError) {
        provided.problems[engine] = `${(error as Error).message}\n(installing failed too: ${(installError as Error).message})`;
      }
    }
  }
  let standalone = findMilvusStandalone();
  if ('problem' in standalone && install) {
    const { problem } = standalone;
    try {
      console.log("[global-setup] installing Milvus standalone (PyPI milvus) into leasehold's cache…");
      await installMilvusStandalone();
      standalone = findMilvusStandalone();
    } catch (installError) {
      standalone = { problem: `${problem}\n(installing failed too: ${(installError as Error).message})` };
    }
  }
  if ('python' in standalone) provided.standalone = standalone.python;
  else provided.problems.standalone = standalone.problem;
  project.provide('milvusLite', provided);
}
