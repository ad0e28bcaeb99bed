/* global module */
// The layer check of @leasehold/milvus-lite's source (docs/architecture.md): no cycle, and no import
// that goes up a layer. `import type` counts (tsPreCompilationDeps) and so does a dynamic import().
// Layers, top to bottom; a module may import its own layer and any layer below it.
const kLayers = [
  ['entry', '^(index|bin|cli)\\.ts$'],
  ['cli', '^cli/'],
  ['client', '^client/'],
  ['testing', '^testing/'],
  ['pool', '^pool/'],
  ['share', '^share/'],
  ['options', '^options\\.ts$'],
  ['target', '^target/'],
  ['server', '^server/'],
  ['install', '^install/'],
  ['shared', '^(errors|engine)\\.ts$'],
];

/** The rules for a source tree at `root` (a path regex prefix, e.g. `packages/milvus-lite/src/`). */
function layerRules(root) {
  const at = (pattern) => root + pattern.replace(/^\^/, '');
  return kLayers.slice(1).map(([name, pattern], index) => ({
    name: `no-upward-import-from-${name}`,
    comment: `${name} may import only its own layer and those below it (docs/architecture.md)`,
    severity: 'error',
    from: { path: at(pattern) },
    to: { path: kLayers.slice(0, index + 1).map(([, above]) => `(${at(above)})`).join('|') },
  }));
}

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'a cycle hides which module is below which; break it by moving the shared part down',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'an import that does not resolve is not checked by the rules above',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^node:' },
    },
    ...layerRules('^(packages/milvus-lite/src|[^/]*test/fixtures/layers/[a-z-]+)/'),
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
  },
};
