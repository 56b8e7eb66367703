import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { randomUUID } from 'node:crypto'
import { consentStatus } from '../../consent/consent-ledger.ts'
import { AppError, notFound } from '../../errors.ts'
import { enqueueMessage, findMessage } from '../../messages/message-repository.ts'
import { MESSAGE_STATUSES } from '../../messages/status-order.ts'
import { findNumber } from '../../numbers/number-repository.ts'
import { e164ToWaId } from '../../phones/phone-number.ts'
import { phoneParam } from './phone-param.ts'
import type { RouteOptions } from '../../services.ts'

const MessageView = Type.Object({
  id: Type.String(),
  wamid: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union(MESSAGE_STATUSES.map((s) => Type.Literal(s))),
  recipient: Type.String(),
  numberId: Type.String(),
  kind: Type.String(),
  templateName: Type.Union([Type.String(), Type.Null()]),
  templateLanguage: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  history: Type.Array(Type.Object({ status: Type.String(), at: Type.String() })),
  error: Type.Optional(Type.Object({
    code: Type.Union([Type.Integer(), Type.Null()]),
    title: Type.Union([Type.String(), Type.Null()]),
    details: Type.Union([Type.String(), Type.Null()]),
  })),
})

const SendBody = Type.Object({
  numberId: Type.String({ format: 'uuid', description: 'A connected number (POST /api/v1/whatsapp-numbers)' }),
  to: Type.String({ description: 'Recipient in E.164, e.g. +4915123456789' }),
  template: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 512, pattern: '^[a-z0-9_]+$' }),
    language: Type.String({ minLength: 2, maxLength: 15, pattern: '^[a-z]{2,3}(_[A-Za-z]{2,4})?$' }),
  }, { additionalProperties: false }),
  bodyParameters: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { maxItems: 100, description: 'Values for {{1}}…{{n}} of the template body' })),
  idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Repeat a request with the same key and it is sent once' })),
}, { additionalProperties: false })

export const messageRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  app.get('/messages/:id', {
    schema: {
      tags: ['messages'],
      summary: 'One message by our id or its wamid, with its status history',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) }),
      response: { 200: MessageView },
    },
  }, async (request) => {
    const { id } = request.params as { id: string }
    const message = await findMessage(services.db, id)
    if (!message) throw notFound('Message', id)
    return message
  })

  app.post('/messages', {
    schema: {
      tags: ['messages'],
      summary: 'Send one approved template to one person (queued, paced, consent-checked)',
      body: SendBody,
      response: { 202: MessageView },
    },
  }, async (request, reply) => {
    const body = request.body as typeof SendBody.static
    const phone = phoneParam(body.to)
    const number = await findNumber(services.db, body.numberId)
    if (!number) throw notFound('WhatsApp number', body.numberId)
    if ((await consentStatus(services.db, phone)) === 'opted_out') {
      throw new AppError(409, 'RECIPIENT_OPTED_OUT', 'The recipient has opted out of WhatsApp messages; nothing was queued')
    }
    const params = body.bodyParameters ?? []
    const { id } = await enqueueMessage(services.db, {
      idempotencyKey: body.idempotencyKey ? `api:${body.idempotencyKey}` : `api:${randomUUID()}`,
      numberId: number.id,
      recipient: e164ToWaId(phone),
      kind: 'template',
      templateName: body.template.name,
      templateLanguage: body.template.language,
      content: params.length ? { components: [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }] } : {},
    })
    services.dispatcher.nudge()
    return reply.code(202).send(await findMessage(services.db, id))
  })
}
