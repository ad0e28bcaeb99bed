#!/usr/bin/env node
// The `leasehold-milvus` command's module (dist/cli.js), kept at this path for scripts that run it
// directly; bin.ts turns Node's compile cache on first. The commands live in cli/.
await import('./cli/main.js');
