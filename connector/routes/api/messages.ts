import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { randomUUID } from 'node:crypto'
import { consentStatus } from '../../consent/consent-ledger.ts'
import { AppError, notFound } from '../../errors.ts'
import { enqueueMessage, findMessage } from '../../messages/message-repository.ts'
import { findNumber } from '../../numbers/number-repository.ts'
import { e164ToWaId } from '../../phones/phone-number.ts'
import { ErrorResponses } from '../../schemas/common.ts'
import { MessageIdParams, MessageView, SendMessageBody } from '../../schemas/messages.ts'
import { phoneParam } from './phone-param.ts'
import type { RouteOptions } from '../../services.ts'

export const messageRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/messages/:id', {
    schema: {
      tags: ['messages'],
      summary: 'One message by our id or its wamid, with its status history',
      params: MessageIdParams,
      response: { 200: MessageView, ...ErrorResponses },
    },
  }, async (request) => {
    const { id } = request.params
    const message = await findMessage(services.db, id)
    if (!message) throw notFound('Message', id)
    return message
  })

  app.post('/messages', {
    schema: {
      tags: ['messages'],
      summary: 'Send one approved template to one person (queued, paced, consent-checked)',
      body: SendMessageBody,
      response: { 202: MessageView, ...ErrorResponses },
    },
  }, async (request, reply) => {
    const body = request.body

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
    // The row was inserted just above, so it is there.
    return reply.code(202).send((await findMessage(services.db, id))!)

  })
}
