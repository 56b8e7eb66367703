import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isConnectionError } from '../../db/database.ts'
import { AppError } from '../../errors.ts'
import { boundIntake } from '../../plugins/intake-budget.ts'
import { ErrorResponses } from '../../schemas/common.ts'
import { HubSpotSignatureHeaders, WebhookAck } from '../../schemas/webhooks.ts'
import type { RouteOptions } from '../../services.ts'

// HubSpot's webhook deliveries for installed portals: the v3 signature is checked on the raw body
// against the URL HubSpot called (rebuilt from PUBLIC_URL, since a proxy may sit in front), the
// body is stored in the inbox, and only then is the delivery acknowledged.

const BODY_LIMIT = 1024 * 1024
/** Bodies being received at once; HubSpot retries a 503. */
const IN_FLIGHT_LIMIT = 8 * 1024 * 1024

export const hubspotWebhookRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  const { config, metrics, inboxWriter, providers } = services
  const hubspot = providers.get('hubspot')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body))
  boundIntake(app, {
    source: 'hubspot', maxInFlightBytes: IN_FLIGHT_LIMIT, bodyLimit: BODY_LIMIT, signatureHeaders: [...hubspot.signatureHeaders],
    onRefused: (reason) => metrics.webhooks.inc({ source: 'hubspot', outcome: reason }),
  })

  app.post(services.manifest.hubspot.webhooks.path, {
    bodyLimit: BODY_LIMIT,
    schema: {
      tags: ['webhooks'],
      summary: 'Contact events of installed HubSpot portals, signed with X-HubSpot-Signature-v3',
      headers: HubSpotSignatureHeaders,
      response: { 200: WebhookAck, ...ErrorResponses },
    },
  }, async (request) => {
    if (!hubspot.verifyRequest) throw new AppError(503, 'HUBSPOT_NOT_CONFIGURED', `HubSpot signatures cannot be checked: ${hubspot.setupHint}`)
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const problem = hubspot.verifyRequest({ method: 'POST', url: `${config.publicUrl}${request.url}`, rawBody: raw, headers: request.headers })
    if (problem) {
      metrics.webhooks.inc({ source: 'hubspot', outcome: `signature_${problem}` })
      throw new AppError(401, 'BAD_SIGNATURE', problem === 'stale' ? 'X-HubSpot-Request-Timestamp is more than 5 minutes old' : 'X-HubSpot-Signature-v3 is missing or does not match')
    }
    let events: unknown
    try {
      events = JSON.parse(raw.toString('utf8'))
    } catch {
      events = undefined
    }
    if (!Array.isArray(events)) {
      metrics.webhooks.inc({ source: 'hubspot', outcome: 'invalid_body' })
      throw new AppError(400, 'INVALID_BODY', 'A HubSpot webhook delivery is a JSON array of events')
    }
    try {
      await inboxWriter.write('hubspot', raw)
    } catch (error) {
      metrics.webhooks.inc({ source: 'hubspot', outcome: 'store_failed' })
      if (isConnectionError(error)) throw new AppError(503, 'DATABASE_UNAVAILABLE', 'The webhook could not be stored; retry later')
      throw error
    }
    metrics.webhooks.inc({ source: 'hubspot', outcome: 'stored' })
    return { status: 'stored' as const }
  })
}
