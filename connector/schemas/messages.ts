import { Type } from '@sinclair/typebox'
import { MESSAGE_STATUSES } from '../messages/status-order.ts'
import { literalUnion, whatsappUserId } from './common.ts'

export const MessageView = Type.Object({
  id: Type.String(),
  wamid: Type.Union([Type.String(), Type.Null()]),
  status: literalUnion(MESSAGE_STATUSES),

  recipient: Type.String(),
  numberId: Type.String(),
  kind: Type.String(),
  templateName: Type.Union([Type.String(), Type.Null()]),
  templateLanguage: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  history: Type.Array(Type.Object({ status: Type.String(), at: Type.String() })),
  error: Type.Optional(Type.Object({
    code: Type.Union([Type.Integer(), Type.String(), Type.Null()], { description: 'Graph\'s error code, or the connector\'s reason when it stopped the message itself (RECIPIENT_OPTED_OUT, CONSENT_REQUIRED)' }),
    title: Type.Union([Type.String(), Type.Null()]),
    details: Type.Union([Type.String(), Type.Null()]),
  })),
})

/** Our id or the wamid, so not a uuid. */
export const MessageIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) })

export const SendMessageBody = Type.Object({
  numberId: Type.String({ format: 'uuid', description: 'A connected number (POST /api/v1/whatsapp-numbers)' }),
  to: Type.Optional(Type.String({ description: 'Recipient in E.164, e.g. +4915123456789; or send userId' })),
  userId: Type.Optional(whatsappUserId('Recipient by WhatsApp business-scoped user id (BSUID), for a person known only by it; exactly one of to and userId')),
  template: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 512, pattern: '^[a-z0-9_]+$' }),
    language: Type.String({ minLength: 2, maxLength: 15, pattern: '^[a-z]{2,3}(_[A-Za-z]{2,4})?$' }),
  }, { additionalProperties: false }),
  bodyParameters: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { maxItems: 100, description: 'Values for {{1}}…{{n}} of the template body' })),
  idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Repeat a request with the same key and it is sent once (or send the Idempotency-Key header)' })),
}, { additionalProperties: false })

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The same request with the same key creates nothing new; another request with it is 409' })),
})
