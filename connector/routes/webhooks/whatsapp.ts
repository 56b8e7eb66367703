import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isConnectionError } from '../../db/database.ts'
import { AppError } from '../../errors.ts'
import { boundIntake } from '../../plugins/intake-budget.ts'
import { ErrorResponses } from '../../schemas/common.ts'
import { WebhookAck, WhatsAppChallenge, WhatsAppSignatureHeaders, WhatsAppVerifyQuery } from '../../schemas/webhooks.ts'
import type { RouteOptions } from '../../services.ts'
import { verifyWebhookSignature } from '../../whatsapp/signature.ts'

// Meta's webhook endpoint. The signature is checked on the raw bytes; a signed body is stored in
// the inbox and acknowledged only after the commit, so nothing Meta delivered can be lost. A
// signed body that is not JSON is kept too (as unprocessable) and acknowledged, so Meta stops
// retrying something that will never parse.

/** Meta does not publish a payload cap; 3 MB is far above real batches and bounds memory. */
export const WEBHOOK_BODY_LIMIT = 3 * 1024 * 1024
/** Bodies being received at once (about ten of the largest); Meta retries a 503. */
const IN_FLIGHT_LIMIT = 32 * 1024 * 1024


export const whatsappWebhookRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  const { config, metrics, inboxWriter } = services

  // Encapsulated: only this plugin's routes see bodies as raw Buffers.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body))
  boundIntake(app, {
    source: 'whatsapp', maxInFlightBytes: IN_FLIGHT_LIMIT, bodyLimit: WEBHOOK_BODY_LIMIT, signatureHeaders: ['x-hub-signature-256'],
    onRefused: (reason) => metrics.webhooks.inc({ source: 'whatsapp', outcome: reason }),
  })

  app.get('/webhooks/whatsapp', {
    schema: {
      tags: ['webhooks'],
      summary: 'Meta verification handshake',
      querystring: WhatsAppVerifyQuery,
      response: { 200: WhatsAppChallenge, ...ErrorResponses },
    },
  }, async (request, reply) => {
    const q = request.query
    const expected = config.whatsapp.verifyToken
    if (!expected) throw new AppError(403, 'VERIFY_TOKEN_NOT_CONFIGURED', 'WHATSAPP_VERIFY_TOKEN is not set, so no verification can succeed')
    if (q['hub.mode'] !== 'subscribe' || q['hub.verify_token'] !== expected || q['hub.challenge'] === undefined) {
      throw new AppError(403, 'VERIFICATION_FAILED', 'hub.mode must be "subscribe" and hub.verify_token must match WHATSAPP_VERIFY_TOKEN')
    }
    return reply.type('text/plain').send(q['hub.challenge'])
  })

  app.post('/webhooks/whatsapp', {
    bodyLimit: WEBHOOK_BODY_LIMIT,
    schema: {
      tags: ['webhooks'],
      summary: 'Message and status events from Meta, signed with X-Hub-Signature-256',
      headers: WhatsAppSignatureHeaders,
      response: { 200: WebhookAck, ...ErrorResponses },
    },
  }, async (request) => {
    const secret = config.whatsapp.appSecret
    if (!secret) {
      metrics.webhooks.inc({ source: 'whatsapp', outcome: 'not_configured' })
      throw new AppError(503, 'WHATSAPP_NOT_CONFIGURED', 'WHATSAPP_APP_SECRET is not set, so webhook signatures cannot be checked')
    }
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    if (!verifyWebhookSignature(raw, request.headers['x-hub-signature-256'], secret)) {
      metrics.webhooks.inc({ source: 'whatsapp', outcome: 'bad_signature' })
      throw new AppError(401, 'BAD_SIGNATURE', 'X-Hub-Signature-256 is missing or does not match the body')
    }
    let parsable = true
    try {
      JSON.parse(raw.toString('utf8'))
    } catch {
      parsable = false
    }
    try {
      await inboxWriter.write('whatsapp', raw, parsable ? 'pending' : 'unprocessable')
    } catch (error) {
      metrics.webhooks.inc({ source: 'whatsapp', outcome: 'store_failed' })
      if (isConnectionError(error)) throw new AppError(503, 'DATABASE_UNAVAILABLE', 'The webhook could not be stored; retry later')
      throw error
    }
    metrics.webhooks.inc({ source: 'whatsapp', outcome: parsable ? 'stored' : 'unprocessable' })
    if (!parsable) request.log.warn({ bytes: raw.length }, 'stored a signed webhook body that is not JSON')
    return { status: 'stored' as const }
  })
}
