// REDACT_PATHS on a real pino logger: secrets under the keys where the gateway could log them are censored.
import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { REDACT_PATHS } from '../../src/app.js'

t.test('secrets in logged headers and errors are censored; other fields are not touched', (t) => {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'))
      done()
    },
  })
  const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink)
  const error = Object.assign(new Error('boom'), { secretAccessKey: 'SECRET-1', sessionToken: 'TOKEN-1', credentials: { secretAccessKey: 'SECRET-2' }, config: { credentials: 'SECRET-3' } })
  log.error({ err: error }, 'failed')
  log.info({ req: { headers: { authorization: 'Bearer KEY-1', 'x-api-key': 'KEY-2', accept: 'text/event-stream' } } }, 'request')
  log.info({ headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKID/SIG-1' } }, 'upstream')
  log.info({ record: 'usage', requestId: 'r-1', tenant: 'acme', inputTokens: 3 }, 'usage')
  const text = lines.join('')
  for (const secret of ['SECRET-1', 'SECRET-2', 'SECRET-3', 'TOKEN-1', 'KEY-1', 'KEY-2', 'SIG-1']) t.notMatch(text, secret, `${secret} is censored`)
  t.match(text, '"accept":"text/event-stream"')
  t.match(text, '"message":"boom"')
  t.match(JSON.parse(lines[3] ?? '{}'), { record: 'usage', requestId: 'r-1', tenant: 'acme', inputTokens: 3, msg: 'usage' }, 'a usage record is written as it is')
  t.end()
})
