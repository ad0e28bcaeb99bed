import { createRequire } from 'node:module';
const mode = process.argv[2];
const t = performance.now();
if (mode === 'import') await import('@zilliz/milvus2-sdk-node');
else createRequire(import.meta.url)('@zilliz/milvus2-sdk-node');
console.log((performance.now() - t).toFixed(0));
