// LangChain's ChatBedrockConverse through the gateway, with no code change at all: the AWS SDK
// under it reads the endpoint from AWS_ENDPOINT_URL_BEDROCK_RUNTIME and the key from
// AWS_BEARER_TOKEN_BEDROCK (set here from GATEWAY_URL and GATEWAY_KEY when they are not set).
import { ChatBedrockConverse } from '@langchain/aws'

process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME ??= process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080'
process.env.AWS_BEARER_TOKEN_BEDROCK ??= process.env.GATEWAY_KEY ?? 'demo'
const chat = new ChatBedrockConverse({ model: 'claude', region: 'us-east-1' })

const answer = await chat.invoke('Hello from LangChain')
console.log(`plain: ${answer.content} (${answer.response_metadata.stopReason})`)

let text = ''
for await (const chunk of await chat.stream('Hello from LangChain')) text += chunk.content
console.log(`streamed: ${text}`)
chat.client.destroy()
