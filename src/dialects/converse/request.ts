// The body of `POST /v1/converse`: the core's chat, plus the client it names and whether it wants
// a stream.
import type { z } from 'zod'
import { boolean, string } from '../../bedrock/constraints.js'
import { chatShape, strictObject } from '../../core/chat.js'

const { messages, system, ...inference } = chatShape

/** The request body of `POST /v1/converse` (members in the order its errors list them). */
export const chatRequestSchema = strictObject(
  {
    // A config's client names are at most 64 characters: a longer one can only be unknown.
    client: string({ min: 1, max: 64 }).optional(),
    messages,
    system,
    stream: boolean().optional(),
    ...inference,
  },
  'the request body must be a JSON object',
  'the request body must be a JSON object',
)

export type ConverseRequest = z.output<typeof chatRequestSchema>
