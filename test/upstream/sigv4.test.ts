// SigV4Signer against @smithy/signature-v4 (the SDK's signer): the same headers, byte for byte.
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import type { AwsCredentialIdentity } from '@smithy/types'
import t from 'tap'
import { canonicalPath, hashPayload, SigV4Signer } from '../../src/upstream/sigv4.js'

const KEYS: AwsCredentialIdentity = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
const TEMPORARY: AwsCredentialIdentity = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'temporary/secret', sessionToken: 'FQoGZXIvYXdzEXAMPLE//token+with/slashes=' }

async function smithy(identity: AwsCredentialIdentity, region: string, date: Date, host: string, path: string, headers: Record<string, string>, payload: Buffer): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials: identity, region, service: 'bedrock', sha256: Hash.bind(null, 'sha256'), uriEscapePath: true, applyChecksum: true })
  const [hostname, port] = host.split(':')
  const signed = await signer.sign(
    { method: 'POST', protocol: 'https:', hostname: hostname ?? host, ...(port === undefined ? {} : { port: Number(port) }), path, query: {}, headers: { ...headers }, body: payload },
    { signingDate: date },
  )
  return signed.headers
}

const cases = [
  { name: 'plain keys, foundation model', identity: KEYS, region: 'us-east-1', host: 'bedrock-runtime.us-east-1.amazonaws.com', path: '/model/amazon.nova-micro-v1%3A0/converse' },
  { name: 'session token, port, stream', identity: TEMPORARY, region: 'eu-west-1', host: '127.0.0.1:4010', path: '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream' },
  {
    name: 'inference profile ARN under a base path',
    identity: KEYS,
    region: 'ap-southeast-2',
    host: 'proxy.internal:8443',
    path: '/bedrock/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse',
  },
]

t.test('the same signature as the SDK signer', async (t) => {
  const signer = new Map<string, SigV4Signer>()
  for (const c of cases) {
    for (const date of [new Date('2026-11-29T23:59:59.999Z'), new Date('2026-11-30T00:00:00.000Z'), new Date('2027-02-28T12:34:56.789Z')]) {
      const payload = Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: [{ text: `héllo ${c.name}  with  spaces` }] }] }))
      const headers = { host: c.host, 'content-type': 'application/json', 'content-length': String(payload.length), 'amz-sdk-invocation-id': 'f4c5b1c1-5d1e-4b7e-9c1e-1234567890ab', 'amz-sdk-request': 'attempt=2; max=3' }
      const ours = (signer.get(c.region) ?? signer.set(c.region, new SigV4Signer(c.region, 'bedrock')).get(c.region))?.sign(c.identity, date, canonicalPath(c.path), headers, hashPayload(payload))
      const theirs = await smithy(c.identity, c.region, date, c.host, c.path, headers, payload)
      t.equal(ours?.authorization, theirs.authorization, `${c.name} at ${date.toISOString()}`)
      t.equal(ours?.['x-amz-date'], theirs['x-amz-date'])
      t.equal(ours?.['x-amz-content-sha256'], theirs['x-amz-content-sha256'])
      t.equal(ours?.['x-amz-security-token'], theirs['x-amz-security-token'])
    }
  }
})

t.test('a refreshed identity derives a new key; the day rolling over too', (t) => {
  const signer = new SigV4Signer('us-east-1', 'bedrock')
  const headers = { host: 'h', 'content-length': '2' }
  const path = canonicalPath('/model/m/converse')
  const at = new Date('2026-11-29T10:00:00Z')
  const first = signer.sign(KEYS, at, path, headers, hashPayload(Buffer.from('{}')))
  t.equal(signer.sign({ ...KEYS }, at, path, headers, hashPayload(Buffer.from('{}'))).authorization, first.authorization, 'equal keys, equal signature')
  t.not(signer.sign({ ...KEYS, secretAccessKey: 'rotated' }, at, path, headers, hashPayload(Buffer.from('{}'))).authorization, first.authorization, 'a rotated secret is used at once')
  t.not(signer.sign(KEYS, new Date('2026-11-30T10:00:00Z'), path, headers, hashPayload(Buffer.from('{}'))).authorization, first.authorization)
  t.end()
})

t.test('canonical paths: encoded once more, dot and empty segments dropped', (t) => {
  t.equal(canonicalPath('/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream'), '/model/us.anthropic.claude-sonnet-4-20250514-v1%253A0/converse-stream')
  t.equal(canonicalPath('/a//b/./c/../converse'), '/a/b/converse')
  t.equal(canonicalPath("/model/it's(1)*/x"), '/model/it%27s%281%29%2A/x')
  t.end()
})
