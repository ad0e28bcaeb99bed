// Filled in by the adapter work: locates (or, under CI, requires) milvus-lite before any test runs.
export default function setup(): void {}
