// chatRequestSchema and formatRequestIssues: what a POST /v1/converse body may hold, and how its mistakes are worded.
import t from 'tap'
import { converseStreamRequestBodySchema } from '../../../src/bedrock/converse-schema.js'
import { formatRequestIssues } from '../../../src/dialects/body.js'
import { chatRequestSchema } from '../../../src/dialects/converse/request.js'

const user = (content: unknown) => ({ role: 'user', content })

/** The formatted issues of a body that must be refused. */
function issuesOf(body: unknown): string {
  const parsed = chatRequestSchema.safeParse(body)
  if (parsed.success) throw new Error('expected the body to be refused')
  return formatRequestIssues(parsed.error)
}

t.test('a minimal body and a full one parse', (t) => {
  t.strictSame(chatRequestSchema.parse({ messages: [user('hi')] }), { messages: [{ role: 'user', content: 'hi' }] })
  const full = {
    client: 'fast',
    messages: [{ role: 'critic', content: [{ text: 'a' }, { cachePoint: { type: 'default' } }], metadata: { cache_control: { type: 'ephemeral' } } }],
    system: [{ text: 'be brief' }],
    stream: true,
    temperature: 0.5,
    top_p: 1,
    max_tokens: 10,
    stop_sequences: ['END'],
    tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }],
    tool_choice: { tool: { name: 'get_weather' } },
  }
  t.strictSame(chatRequestSchema.parse(full), full)
  t.equal(chatRequestSchema.parse({ messages: [user('x')], system: 'plain' }).system, 'plain')
  t.end()
})

t.test('an unknown top-level field is refused with its name', (t) => {
  t.equal(issuesOf({ messages: [user('hi')], max_token: 5 }), 'max_token: unknown field')
  t.equal(issuesOf({ messages: [user('hi')], a: 1, b: 2 }), 'a: unknown field; b: unknown field')
  t.end()
})

t.test('an unknown message field is refused too, so misspelt metadata is not dropped', (t) => {
  t.equal(issuesOf({ messages: [user('hi'), { role: 'user', content: 'x', metdata: {} }] }), 'messages[1].metdata: unknown field')
  t.end()
})

t.test('unknown members inside Bedrock blocks are dropped, as Bedrock does', (t) => {
  const parsed = chatRequestSchema.parse({ messages: [user([{ text: 'a', colour: 'red' }])] })
  t.strictSame(parsed.messages[0]?.content, [{ text: 'a' }])
  t.end()
})

t.test('issues inside content blocks name the JSON path', (t) => {
  const image = { image: { format: 'bmp', source: { bytes: 'AAAA' } } }
  t.equal(
    issuesOf({ messages: [user([{ text: 'look' }, image])] }),
    'messages[0].content[1].image.format: Member must satisfy enum value set: [png, jpeg, gif, webp]',
  )
  t.equal(
    issuesOf({ messages: [user([{ toolUse: { toolUseId: 'a', name: 'bad name', input: {} } }])] }),
    'messages[0].content[0].toolUse.name: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+',
  )
  t.end()
})

t.test('a block that sets no member, or two, says which keys it may set', (t) => {
  t.match(issuesOf({ messages: [user([{}])] }), /^messages\[0\]\.content\[0\]: must set one of the following keys: text, image, /)
  t.match(issuesOf({ messages: [user([{ text: 'a', cachePoint: { type: 'default' } }])] }), /^messages\[0\]\.content\[0\]: must set one/)
  t.end()
})

t.test('content and system that are neither a string nor a list', (t) => {
  t.equal(issuesOf({ messages: [user(5)] }), 'messages[0].content: Member must be a string or a list of content blocks')
  t.equal(issuesOf({ messages: [user('a')], system: { text: 'x' } }), 'system: Member must be a string or a list of system content blocks')
  t.equal(issuesOf({ messages: [user('a')], system: [{ image: {} }] }), 'system[0]: must set one of the following keys: text, guardContent, cachePoint.')
  t.equal(issuesOf({ messages: [user('a')], system: '' }), 'system: Member must have length greater than or equal to 1')
  t.end()
})

t.test('messages: required, at least one, each with a role of 1 to 64 characters', (t) => {
  t.equal(issuesOf({}), 'messages: Member must not be null')
  t.equal(issuesOf({ messages: [] }), 'messages: Member must have length greater than or equal to 1')
  t.equal(issuesOf({ messages: [{ role: '', content: 'a' }] }), 'messages[0].role: Member must have length greater than or equal to 1')
  t.equal(issuesOf({ messages: [{ role: 'r'.repeat(65), content: 'a' }] }), 'messages[0].role: Member must have length less than or equal to 64')
  t.ok(chatRequestSchema.safeParse({ messages: [{ role: 'r'.repeat(64), content: 'a' }] }).success, '64 characters are fine')
  t.equal(issuesOf({ messages: [{ content: 'a' }] }), 'messages[0].role: Member must not be null')
  t.equal(issuesOf({ messages: ['hi'] }), 'messages[0]: Member must be of type structure')
  t.equal(issuesOf({ messages: [{ role: 'user', content: 'a', metadata: [] }] }), 'messages[0].metadata: Member must be of type map')
  t.end()
})

t.test('inference fields keep Bedrock ranges', (t) => {
  const body = (extra: object) => ({ messages: [user('a')], ...extra })
  t.equal(issuesOf(body({ temperature: 1.5 })), 'temperature: Member must have value less than or equal to 1')
  t.equal(issuesOf(body({ top_p: -0.1 })), 'top_p: Member must have value greater than or equal to 0')
  t.equal(issuesOf(body({ max_tokens: 0 })), 'max_tokens: Member must have value greater than or equal to 1')
  t.equal(issuesOf(body({ max_tokens: 1.5 })), 'max_tokens: Member must be of type integer')
  t.equal(issuesOf(body({ stop_sequences: ['ok', ''] })), 'stop_sequences[1]: Member must have length greater than or equal to 1')
  t.equal(issuesOf(body({ stop_sequences: Array.from({ length: 2501 }, () => 'x') })), 'stop_sequences: Member must have length less than or equal to 2500')
  t.equal(issuesOf(body({ tools: [] })), 'tools: Member must have length greater than or equal to 1')
  t.equal(issuesOf(body({ stream: 'yes' })), 'stream: Member must be of type boolean')
  t.ok(chatRequestSchema.safeParse(body({ temperature: 0, top_p: 1, max_tokens: 1 })).success, 'the bounds themselves are fine')
  t.end()
})

t.test('a body that is not an object', (t) => {
  t.equal(issuesOf([1]), 'the request body must be a JSON object')
  t.equal(issuesOf(null), 'the request body must be a JSON object')
  t.equal(issuesOf('hi'), 'the request body must be a JSON object')
  t.end()
})

t.test('several issues are joined with "; ", and a flood of them is cut short', (t) => {
  t.equal(issuesOf({ messages: [user('a')], temperature: 2, max_token: 1 }), 'temperature: Member must have value less than or equal to 1; max_token: unknown field')
  const many = issuesOf({ messages: Array.from({ length: 12 }, () => ({ role: '', content: 'a' })) })
  t.equal(many.split('; ').length, 11)
  t.match(many, /^messages\[0\]\.role: .+; messages\[9\]\.role: [^;]+; and 2 more$/)
  t.end()
})

t.test("a caller's key is cut wherever the path quotes it, a map's keys too (the dialect fuzz, seed 1116996211)", async (t) => {
  const long = 'k'.repeat(1374)
  const parsed = converseStreamRequestBodySchema.safeParse({ messages: [{ role: 'user', content: [{ text: 'hi' }] }], promptVariables: { [long]: [1] } })
  t.notOk(parsed.success)
  if (parsed.success) return
  const message = formatRequestIssues(parsed.error)
  t.match(message, /^promptVariables\.k{64}…: /, 'the key, cut at 64 characters')
  t.notMatch(message, /k{65}/, 'never the whole key')
})
