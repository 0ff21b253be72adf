// The architecture as rules (docs/architecture.md draws it): no import circle, and each folder of
// src/ imports only the folders below it, so the error catalogue, Bedrock's facts and the config
// sit at the bottom and the HTTP edge, the routes and the process at the top. Checked by
// test/architecture.test.ts in `npm test`.

/** Bottom first; a folder may import its own files and any folder of a lower rank. */
const LAYERS = [
  ['src/errors', 'src/bedrock'],
  ['src/json', 'src/config', 'src/emulator'],
  ['src/redis'],
  ['src/upstream', 'src/limits', 'src/usage', 'src/tenancy', 'src/targets'],
  ['src/metrics'],
  ['src/core'],
  ['src/dialects'],
  ['src/http'],
  ['routes', 'src/process'],
  ['src/app.ts'],
  ['src/server.ts'],
]

const escape = (path) => path.replace(/[.]/g, '\\.')
const pattern = (paths) => `^(${paths.map(escape).join('|')})(/|$)`

const layered = LAYERS.flatMap((layer, rank) => {
  const above = LAYERS.slice(rank + 1).flat()
  if (above.length === 0) return []
  return [{ name: `layer-${rank}-imports-above`, severity: 'error', comment: `${layer.join(', ')} must not import ${above.join(', ')}`, from: { path: pattern(layer) }, to: { path: pattern(above) } }]
})

// Folders of one rank do not import each other either: each is a concern of its own.
const siblings = LAYERS.flatMap((layer, rank) =>
  layer.map((folder) => ({
    name: `layer-${rank}-sibling`,
    severity: 'error',
    comment: `${folder} must not import ${layer.filter((other) => other !== folder).join(', ')}`,
    from: { path: pattern([folder]) },
    to: { path: pattern(layer.filter((other) => other !== folder)) },
  })).filter((rule) => rule.to.path !== '^()(/|$)'),
)

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import circle', from: {}, to: { circular: true } },
    { name: 'not-in-a-layer', severity: 'error', comment: 'every module of src/ and routes/ belongs to a layer of .dependency-cruiser.cjs', from: { path: '^(src|routes)/', pathNot: pattern(LAYERS.flat()) }, to: {} },
    ...layered,
    ...siblings,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test|bench)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
}
