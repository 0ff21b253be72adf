// server.operator_api_keys: the keys that read every tenant's usage report. Each is written as a
// tenant's key is (a sha256 digest, or env.NAME holding the plain key), and none may be a tenant's.
import { createHash } from 'node:crypto'
import t from 'tap'
import { parseConfig } from '../../src/config/load.js'
import { DEMO_DIGEST, FILE, rejects, withClient } from './helpers.js'

const withOperators = (keys: string): string => `server:\n  operator_api_keys: ${keys}\n${withClient()}`
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

t.test('a digest and an env.NAME key parse to the digests of the keys', (t) => {
  const config = parseConfig(withOperators(`[${sha256('ops-one')}, env.OPS_KEY]`), FILE, { OPS_KEY: 'ops-two' })
  t.same(config.server.operatorApiKeys.map((digest) => digest.toString('hex')), [sha256('ops-one'), sha256('ops-two')])
  t.end()
})

t.test('none by default', (t) => {
  t.same(parseConfig(withClient(), FILE, {}).server.operatorApiKeys, [])
  t.end()
})

t.test('a plain key is refused', (t) => {
  rejects(t, withOperators('[ops-key]'), 'server.operator_api_keys[0]', /must be a sha256 hex digest of the key .* or env\.NAME/)
  t.end()
})

t.test('a key from a missing variable is refused', (t) => {
  rejects(t, withOperators('[env.OPS_KEY]'), 'server.operator_api_keys[0]', /env\.OPS_KEY is not set/)
  t.end()
})

t.test("an operator key that is a tenant's key is refused", (t) => {
  // tenant acme's key is "demo"; the operator's is "demo" too, once as a digest, once from the environment.
  rejects(t, withOperators(`[${DEMO_DIGEST}]`), 'tenants.acme.api_keys[0]', /is the same key as server\.operator_api_keys\[0\]: an operator key must not be a tenant's/)
  rejects(t, withOperators(`[${sha256('other')}, env.OPS_KEY]`), 'tenants.acme.api_keys[0]', /is the same key as server\.operator_api_keys\[1\]/, { OPS_KEY: 'demo' })
  t.end()
})

t.test('an operator key listed twice is refused', (t) => {
  rejects(t, withOperators(`[${sha256('ops')}, env.OPS_KEY]`), 'server.operator_api_keys[1]', /repeats server\.operator_api_keys\[0\]/, { OPS_KEY: 'ops' })
  t.end()
})
