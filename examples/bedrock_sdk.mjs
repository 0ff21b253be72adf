// The AWS SDK for JavaScript v3 through the gateway: only the endpoint and the key change (the
// gateway key as a Bedrock API key). Its default handler speaks HTTP/2 to an http:// endpoint;
// the gateway serves that and HTTP/1.1 on one port.
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime'

const bedrock = new BedrockRuntimeClient({
  region: 'us-east-1',
  endpoint: process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080',
  token: { token: process.env.GATEWAY_KEY ?? 'demo' },
  authSchemePreference: ['httpBearerAuth'],
})
const messages = [{ role: 'user', content: [{ text: 'Hello from the AWS SDK' }] }]

const answer = await bedrock.send(new ConverseCommand({ modelId: 'claude', messages }))
console.log(`plain: ${answer.output.message.content[0].text} (${answer.stopReason})`)

const stream = await bedrock.send(new ConverseStreamCommand({ modelId: 'claude', messages }))
let text = ''
let stop
for await (const event of stream.stream) {
  text += event.contentBlockDelta?.delta?.text ?? ''
  stop ??= event.messageStop?.stopReason
}
console.log(`streamed: ${text} (${stop})`)
bedrock.destroy()
