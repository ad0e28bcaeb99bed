// `pnpm soak`: the request-shape property test of packages/milvus-lite, long: SOAK_SECONDS of cases.
process.env['LEASEHOLD_SHAPE_SECONDS'] ??= process.env['SOAK_SECONDS'] ?? '120';
process.env['LEASEHOLD_SHAPE_RUNS'] ??= '100000';
await import('../../packages/milvus-lite/test/request-shapes.property.test.js');
