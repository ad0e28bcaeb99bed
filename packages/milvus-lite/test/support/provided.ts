import type { Installation } from '../../src/index.js';

/** What test/global-setup.ts found, handed to every test file through vitest's provide/inject. */
export interface MilvusLiteProvided {
  native?: Installation;
  python?: Installation;
  problems: Partial<Record<'native' | 'python', string>>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    milvusLite: MilvusLiteProvided;
  }
}
