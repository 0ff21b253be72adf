// The AI SDK's Bedrock provider through the gateway: only the base URL and the key change.
import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock'
import { generateText, streamText } from 'ai'

const bedrock = createAmazonBedrock({
  region: 'us-east-1',
  baseURL: process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080',
  apiKey: process.env.GATEWAY_KEY ?? 'demo',
})

const answer = await generateText({ model: bedrock('claude'), prompt: 'Hello from the AI SDK' })
console.log(`plain: ${answer.text} (${answer.finishReason})`)

const stream = streamText({ model: bedrock('claude'), prompt: 'Hello from the AI SDK', onError: ({ error }) => { throw error } })
let text = ''
for await (const delta of stream.textStream) text += delta
console.log(`streamed: ${text} (${await stream.finishReason})`)
