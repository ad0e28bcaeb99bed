import type { Installation } from '../../src/index.js';

/** What test/global-setup.ts found, handed to every test file through vitest's provide/inject. */
export interface MilvusLiteProvided {
  native?: Installation;
  python?: Installation;
  /** The venv python that runs PyPI's `milvus` (Milvus standalone), for the remote tests. */
  standalone?: string;
  problems: Partial<Record<'native' | 'python' | 'standalone', string>>;
  /** LEASEHOLD_SKIP_MILVUS=1 outside CI: every test that needs a real server skips, on purpose. */
  skipOnPurpose?: boolean;
}

declare module 'vitest' {
  export interface ProvidedContext {
    milvusLite: MilvusLiteProvided;
  }
}
