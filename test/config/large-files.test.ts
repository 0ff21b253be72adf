// Large config files: read with the fast reader, their issues' lines found from indentation (as
// the careful reader finds them, on every path of the example config), at most 20 issues listed,
// and a reload of 20,000 tenants done on a thread of its own while the gateway goes on answering.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { blockLocator } from '../../src/config/block-lines.js'
import { ConfigError, MAX_REPORTED_ISSUES, parseConfig } from '../../src/config/load.js'
import { parseYaml } from '../../src/config/yaml.js'

const EXAMPLE = new URL('../../config/gateway.example.yaml', import.meta.url)

/** Every key path and list index of a parsed YAML value. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => [[...prefix, i], ...pathsOf(item, [...prefix, i])])
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => [[...prefix, key], ...pathsOf(item, [...prefix, key])])
  return []
}

t.test('lines found from indentation are the careful reader\'s, on every path of the example config', async (t) => {
  // The example has aliases, so parseYaml reads it carefully: its locate is the reference.
  const text = await readFile(EXAMPLE, 'utf8')
  const careful = parseYaml(text, 'example.yaml')
  const fromIndentation = blockLocator(text)
  const paths = pathsOf(careful.data)
  t.ok(paths.length > 50, `${paths.length} paths`)
  let same = 0
  for (const path of paths) {
    const expected = careful.locate(path)?.line
    if (fromIndentation(path)?.line === expected) same++
    else t.fail(`${path.join('.')}: line ${String(fromIndentation(path)?.line)}, the careful reader says ${String(expected)}`)
  }
  t.equal(same, paths.length, 'every path on the same line')
  t.same(fromIndentation(['tenants', 'no-such-tenant']), careful.locate(['tenants', 'no-such-tenant']), 'a missing key: its closest ancestor')
  // Lists of mappings, both ways of indenting them, quoted keys, comments and blank lines.
  const lists = 'a:\n  targets:\n    - name: one\n      region: us-east-1\n\n    # a comment\n    -   name: two\n        "region": eu-west-1\n  keys:\n  - x\n  - y\nb: {c: 1}\n'
  const reference = parseYaml(`${lists}# *star\n`, 'f')
  const lines = blockLocator(lists)
  for (const path of pathsOf(reference.data)) t.equal(lines(path)?.line, reference.locate(path)?.line, path.join('.'))
})

t.test('the fast reader and the careful one read the same data; what the fast one refuses, the careful one explains', (t) => {
  const plain = 'server:\n  port: 8080\n  docs: true\n  trust_proxy: [10.0.0.0/8]\ntenants:\n  a:\n    api_keys: [env.K]\n    limits: { requests_per_minute: 5 }\n    x: "1e3"\n    y: 0x1F\n    z: ~\n    w: 2026-01-01\n    v: yes\n'
  t.same(parseYaml(plain, 'f').data, parseYaml(`${plain}# *not-an-alias: a star only sends this file the careful way\n`, 'f').data)
  t.same(parseYaml(plain, 'f').data, { server: { port: 8080, docs: true, trust_proxy: ['10.0.0.0/8'] }, tenants: { a: { api_keys: ['env.K'], limits: { requests_per_minute: 5 }, x: '1e3', y: 31, z: null, w: '2026-01-01', v: 'yes' } } })
  try {
    parseYaml('a: 1\nb: 2\na: 3\n', 'f')
    t.fail('a key written twice was accepted')
  } catch (error) {
    t.ok(error instanceof ConfigError && /unique/i.test(error.message) && error.issues[0]?.line === 3, 'a key written twice: the careful reader\'s error, with its line')
  }
  t.throws(() => parseYaml('a: 1\n---\nb: 2\n', 'f'), ConfigError, 'two documents')
  t.end()
})

t.test('a file with an error in each of 20,000 tenants lists 20 of them, and says how many more', (t) => {
  const tenants = Array.from({ length: 20_000 }, (_, i) => `  t${i}:\n    api_keys: [${createHash('sha256').update(String(i)).digest('hex')}]\n    clients:\n      c:\n        model: amazon.nova-micro-v1:0\n        region: us-east-1\n        guardrail_id: g\n`).join('')
  const text = `tenants:\n${tenants}`
  t.ok(text.length > 1024 * 1024, 'large enough for lines from indentation')
  try {
    parseConfig(text, 'big.yaml', {})
    t.fail('accepted')
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    t.equal(error.issues.length, MAX_REPORTED_ISSUES + 1, '20 issues and one summary')
    t.match(error.issues[0], { path: 'tenants.t0.clients.c.guardrail_id', line: 8, message: /unknown key/ }, 'the first, with its line')
    t.match(error.issues[19], { path: 'tenants.t19.clients.c.guardrail_id', line: 19 * 7 + 8 })
    t.match(error.issues[20]?.message, /19980 more issues are not listed \(20000 in all\)/)
    t.ok(error.message.length < 4096, `the whole message is ${error.message.length} characters`)
  }
  t.end()
})
