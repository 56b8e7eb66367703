import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { randomUUID } from 'node:crypto'
import { consentStatus } from '../../consent/consent-ledger.ts'
import { resolvePerson } from '../../consent/consent-record.ts'
import { consentRefusal, REFUSAL_MESSAGES } from '../../consent/send-policy.ts'
import { AppError, notFound } from '../../errors.ts'
import { enqueueMessage, findMessage, IdempotencyKeyReusedError, messageForKey } from '../../messages/message-repository.ts'
import { findNumber } from '../../numbers/number-repository.ts'
import { e164ToWaId } from '../../phones/phone-number.ts'
import { templateCategory } from '../../templates/template-repository.ts'
import { ErrorResponses } from '../../schemas/common.ts'
import { IdempotencyHeaders, MessageIdParams, MessageView, SendMessageBody } from '../../schemas/messages.ts'
import { requestDigest } from '../../security/request-digest.ts'
import { personParam } from './person-param.ts'
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
      headers: IdempotencyHeaders,
      response: { 202: MessageView, ...ErrorResponses },
    },
  }, async (request, reply) => {
    const { idempotencyKey: bodyKey, ...body } = request.body
    const headerKey = request.headers['idempotency-key']
    if (headerKey && bodyKey && headerKey !== bodyKey) throw new AppError(400, 'IDEMPOTENCY_KEY_MISMATCH', 'The Idempotency-Key header and the body\'s idempotencyKey differ; send one')
    const key = headerKey ?? bodyKey
    const requestHash = key ? requestDigest(body) : undefined
    const reused = (error: unknown) => {
      if (error instanceof IdempotencyKeyReusedError) throw new AppError(409, error.code, error.message)
      throw error
    }
    // A retry answers the first message as it is now, whatever changed since (consent included).
    const prior = key ? await messageForKey(services.db, `api:${key}`, requestHash).catch(reused) : undefined
    if (prior) return reply.code(202).send((await findMessage(services.db, prior))!)

    const who = personParam({ phone: body.to, userId: body.userId }, 'to')
    const number = await findNumber(services.db, body.numberId)
    if (!number) throw notFound('WhatsApp number', body.numberId)
    const { person, userId } = await resolvePerson(services.db, who)
    if (!person.phone && !person.whatsappUserId) throw new AppError(422, 'UNKNOWN_WHATSAPP_USER', `No WhatsApp user ${who.userId} has written to a connected number yet; nothing was queued`)
    const category = await templateCategory(services.db, number.wabaId, body.template.name, body.template.language)
    // Meta takes authentication templates only to a phone (error 131062, reference §2.2).
    if (!person.phone && category?.toUpperCase() === 'AUTHENTICATION') throw new AppError(422, 'NEEDS_PHONE', 'Authentication templates cannot be sent to a WhatsApp user id; send to the phone; nothing was queued')
    const refusal = consentRefusal(category, await consentStatus(services.db, person))
    if (refusal) throw new AppError(409, refusal, `${REFUSAL_MESSAGES[refusal]}; nothing was queued`)
    const params = body.bodyParameters ?? []
    const enqueued = enqueueMessage(services.db, {
      idempotencyKey: key ? `api:${key}` : `api:${randomUUID()}`,
      ...(requestHash ? { requestHash } : {}),
      numberId: number.id,
      // The phone when known, else the user id (sent as `recipient`).
      recipient: person.phone ? e164ToWaId(person.phone) : userId!,
      kind: 'template',
      templateName: body.template.name,
      templateLanguage: body.template.language,
      content: params.length ? { components: [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }] } : {},
    })
    const { id } = await enqueued.catch(reused)
    services.dispatcher.nudge()
    // The row was inserted just above, so it is there.
    return reply.code(202).send((await findMessage(services.db, id))!)

  })
}
