// Finds both milvus-lite engines before any test runs, installing them into leasehold's cache on a
// fresh machine (set LEASEHOLD_NO_INSTALL=1 to skip that). Tests read the result with inject();
// under CI=true a test that needs a missing engine fails instead of skipping.
import type { TestProject } from 'vitest/node';
import { findMilvusLite, installMilvusLite } from '@leasehold/milvus-lite';
import type { MilvusLiteProvided } from '../packages/milvus-lite/test/support/provided.js';

const kVersions = { native: '2.5.1', python: '3.2.2' } as const;

export default async function setup(project: TestProject): Promise<void> {
  const provided: MilvusLiteProvided = { problems: {} };
  for (const engine of ['native', 'python'] as const) {
    try {
      provided[engine] = await findMilvusLite({ engine });
    } catch (error) {
      if (process.env['LEASEHOLD_NO_INSTALL'] === '1') {
        provided.problems[engine] = (error as Error).message;
        continue;
      }
      try {
        console.log(`[global-setup] installing milvus-lite ${kVersions[engine]} into leasehold's cache…`);
        await installMilvusLite({ version: kVersions[engine], log: (line) => console.log(`[global-setup] ${line}`) });
        provided[engine] = await findMilvusLite({ engine });
      } catch (installError) {
        provided.problems[engine] = `${(error as Error).message}\n(installing failed too: ${(installError as Error).message})`;
      }
    }
  }
  project.provide('milvusLite', provided);
}
