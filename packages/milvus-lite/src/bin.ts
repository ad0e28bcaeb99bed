#!/usr/bin/env node
// The `leasehold-milvus` command: Node's compile cache first (Node ≥ 22.1; on Node 20 nothing
// happens), so that every module the command loads after it, the CLI's own, execa's and the SDK's,
// is compiled once per installed version instead of at every run. The cache lives under the OS
// temp dir (or NODE_COMPILE_CACHE, which also turns it on for any Node program).
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./cli/main.js');
