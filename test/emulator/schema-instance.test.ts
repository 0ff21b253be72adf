// The emulator's answers by a JSON Schema (structured output, forced and strict tools): every
// answer validates against its schema under a strict Draft 2020-12 validator with formats, the
// same schema and prompt answer the same, and the answer's text streams as words.
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import t from 'tap'
import { answerText, instanceOf } from '../../src/emulator/schema-instance.js'

const ajv = new Ajv2020({ strict: false, allErrors: true })
addFormats.default(ajv)

const WORDS = ['Ada', 'Lovelace', 'wrote', 'the', 'first', 'program']

const SCHEMAS: Record<string, Record<string, unknown>> = {
  'flat object with every type': {
    type: 'object',
    properties: { name: { type: 'string' }, age: { type: 'integer' }, score: { type: 'number' }, active: { type: 'boolean' }, nothing: { type: 'null' } },
    required: ['name', 'age', 'score', 'active', 'nothing'],
    additionalProperties: false,
  },
  'enum and const': { type: 'object', properties: { kind: { enum: ['invoice', 'receipt'] }, version: { const: 2 }, label: { type: 'string', enum: ['x', 'y'] } }, required: ['kind', 'version', 'label'], additionalProperties: false },
  'nested objects and arrays': {
    type: 'object',
    properties: {
      people: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' }, minItems: 3 } }, required: ['name', 'tags'], additionalProperties: false } },
      matrix: { type: 'array', items: { type: 'array', items: { type: 'integer' } } },
    },
    required: ['people', 'matrix'],
    additionalProperties: false,
  },
  'optional properties and nullable types': { type: 'object', properties: { a: { type: ['string', 'null'] }, b: { anyOf: [{ type: 'null' }, { type: 'integer', minimum: 5 }] }, c: { type: 'number' } }, required: ['a'], additionalProperties: false },
  '$ref into $defs, and definitions': {
    type: 'object',
    $defs: { address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } }, required: ['city', 'zip'], additionalProperties: false } },
    definitions: { id: { type: 'string', format: 'uuid' } },
    properties: { home: { $ref: '#/$defs/address' }, work: { $ref: '#/$defs/address' }, id: { $ref: '#/definitions/id' } },
    required: ['home', 'work', 'id'],
    additionalProperties: false,
  },
  'recursive $ref': {
    type: 'object',
    $defs: { node: { type: 'object', properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['value', 'children'], additionalProperties: false } },
    properties: { root: { $ref: '#/$defs/node' } },
    required: ['root'],
    additionalProperties: false,
  },
  'string formats': {
    type: 'object',
    properties: Object.fromEntries(['date-time', 'date', 'time', 'duration', 'email', 'hostname', 'uri', 'ipv4', 'ipv6', 'uuid'].map((f) => [f, { type: 'string', format: f }])),
    required: ['date-time', 'date', 'time', 'duration', 'email', 'hostname', 'uri', 'ipv4', 'ipv6', 'uuid'],
    additionalProperties: false,
  },
  'numeric bounds': {
    type: 'object',
    properties: {
      percent: { type: 'number', minimum: 0, maximum: 100 },
      positive: { type: 'integer', exclusiveMinimum: 0 },
      below: { type: 'integer', maximum: -3 },
      step: { type: 'number', multipleOf: 0.25, minimum: 1.1 },
      between: { type: 'integer', minimum: 10, exclusiveMaximum: 12 },
    },
    required: ['percent', 'positive', 'below', 'step', 'between'],
    additionalProperties: false,
  },
  'string lengths': { type: 'object', properties: { long: { type: 'string', minLength: 30 }, short: { type: 'string', maxLength: 2 } }, required: ['long', 'short'], additionalProperties: false },
  'allOf and oneOf': {
    allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { properties: { b: { oneOf: [{ type: 'integer' }, { type: 'string' }] } }, required: ['b'] }],
  },
  'tuple with prefixItems': { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], minItems: 2, maxItems: 2 },
  'AI SDK array output': { type: 'object', properties: { elements: { type: 'array', items: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } }, required: ['elements'], additionalProperties: false },
  'bare string schema': { type: 'string' },
}

for (const [name, schema] of Object.entries(SCHEMAS)) {
  t.test(name, async (t) => {
    const value = instanceOf(schema, WORDS)
    const validate = ajv.compile(schema)
    t.ok(validate(value), `${JSON.stringify(value)} ${JSON.stringify(validate.errors)}`)
    t.same(instanceOf(schema, WORDS), value, 'deterministic')
    const text = answerText(value)
    t.same(JSON.parse(text), value, 'the answer\'s text is the value')
    t.notMatch(text, /\n/, 'one line')
  })
}

t.test('strings come from the prompt; a prompt without words still answers', async (t) => {
  t.same(instanceOf({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['a', 'b'] }, WORDS), { a: 'Ada', b: 'Lovelace' })
  t.same(instanceOf({ type: 'string' }, []), 'example')
})

t.test('the text streams as words: a space after each separator', async (t) => {
  t.equal(answerText({ name: 'Ada', tags: ['x', 'y'], empty: [], nested: {} }), '{ "name": "Ada", "tags": [ "x", "y" ], "empty": [], "nested": {} }')
})

t.test('patterns: the shortest string a simple pattern matches', async (t) => {
  const { exampleOfPattern } = await import('../../src/emulator/schema-instance.js')
  for (const pattern of ['^[A-Z]{3}-\\d{4}$', '^(foo|bar)+$', '^[a-z]+@[a-z]+\\.com$', '^(?:INV|RCP)_[0-9]{2,4}$', '^[^0-9]+$', '^\\w+\\s\\w+$']) {
    const example = exampleOfPattern(pattern)
    t.ok(example !== undefined && new RegExp(pattern, 'u').test(example), `${pattern} → ${String(example)}`)
  }
  t.equal(exampleOfPattern('^(?=a)b$'), undefined, 'a lookahead is not read')
})
