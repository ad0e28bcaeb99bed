// Per-test database latency of the testing fixtures: pre-warmed scratch servers against starting
// one per test. Each "test" takes TEST_MS, as a short real test would.
import { createScratchPool } from '../../packages/milvus-lite/dist/testing/index.js';
import { findMilvusLite } from '../../packages/milvus-lite/dist/index.js';

const TESTS = 10;
const TEST_MS = 150;

async function perTest(scratch) {
  const times = [];
  for (let i = 0; i < TESTS; i++) {
    const t0 = performance.now();
    const db = await scratch.acquire();
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, TEST_MS));
    await scratch.destroy(db);
  }
  return times.sort((a, b) => a - b)[TESTS >> 1];
}

export async function bench({ runs, log }) {
  const installation = await findMilvusLite({ engine: 'native' });
  const warm = [];
  const cold = [];
  for (let run = 0; run < runs; run++) {
    const prewarmed = createScratchPool({ installation, min: 1, max: 2 });
    await new Promise((r) => setTimeout(r, 500));
    warm.push(await perTest(prewarmed));
    await prewarmed.drain();
    const onDemand = createScratchPool({ installation, min: 0, max: 2 });
    cold.push(await perTest(onDemand));
    await onDemand.drain();
    log(`run ${run + 1}: pre-warmed ${warm.at(-1).toFixed(2)} ms, on demand ${cold.at(-1).toFixed(1)} ms`);
  }
  return [
    {
      section: 'Test fixtures',
      metric: `fresh empty database per test, pre-warmed (median of ${TESTS} tests of ${TEST_MS} ms)`,
      unit: 'ms',
      ours: warm,
      peerName: 'the same without pre-warming (min: 0)',
      peer: cold,
    },
  ];
}
