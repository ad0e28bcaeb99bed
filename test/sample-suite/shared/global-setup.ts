// The globalSetup recipe: one database for every worker process of a suite.
import type { TestProject } from 'vitest/node';
import { startSharedDatabase } from '@leasehold/milvus-lite/testing';

declare module 'vitest' {
  export interface ProvidedContext {
    milvusUri: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = await startSharedDatabase();
  project.provide('milvusUri', shared.uri);
  return () => shared.stop();
}
