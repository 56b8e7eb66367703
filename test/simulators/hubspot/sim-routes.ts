// `/_sim/...`: the in-process control API over HTTP (JSON), for `npm run simulator -- hubspot`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { HubSpotSimulator } from './hubspot-simulator.ts'
import { isRecord, type Json } from './input.ts'

type Handler = (body: Json, params: Record<string, string>, query: Record<string, string>) => unknown

export function registerControlRoutes(server: FastifyInstance, sim: HubSpotSimulator): void {
  const route = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, handler: Handler): void => {
    server.route({
      method,
      url: `/_sim${url}`,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        try {
          const body = isRecord(request.body) ? request.body : {}
          const result = await handler(body, request.params as Record<string, string>, request.query as Record<string, string>)
          return result === undefined ? reply.code(204).send() : result
        } catch (error) {
          return reply.code(400).send({ error: error instanceof Error ? error.message : String(error) })
        }
      },
    })
  }
  const portalId = (p: Record<string, string>): number => Number(p.portalId)
  // Bodies are taken as the in-process input types: this API is for trusted local tooling.
  const as = <T>(body: unknown): T => body as T

  route('GET', '/health', () => ({ ok: true, url: sim.url }))
  route('GET', '/apps', () => ({ results: sim.apps() }))
  route('POST', '/apps', (body) => sim.registerApp(as(body)))
  route('GET', '/portals', () => ({ results: sim.portals() }))
  route('POST', '/portals', (body) => sim.createPortal(as(body)))
  route('POST', '/install', (body) => sim.install(as(body)))

  route('POST', '/seed', (body) => sim.seed(as(body)))
  route('POST', '/mutate', (body) => sim.mutate(as(body)))
  route('GET', '/portals/:portalId/contacts/:contactId', (_b, p) => {
    const contact = sim.getContact(portalId(p), Number(p.contactId))
    if (!contact) throw new Error(`contact ${p.contactId} not found`)
    return contact
  })
  route('PATCH', '/portals/:portalId/contacts/:contactId', (body, p) => {
    if (!isRecord(body.properties)) throw new Error('properties object required')
    sim.setContactProperties(portalId(p), Number(p.contactId), as(body.properties), { emitWebhooks: body.emitWebhooks !== false })
    return sim.getContact(portalId(p), Number(p.contactId))
  })
  route('GET', '/portals/:portalId/lists', (_b, p) => ({ results: sim.lists(portalId(p)) }))
  route('GET', '/portals/:portalId/lists/:listId/members', (_b, p) => ({ recordIds: sim.listMembers(portalId(p), String(p.listId)) }))
  route('GET', '/portals/:portalId/communications', (_b, p, q) => ({
    results: sim.communications(portalId(p), q.contactId === undefined ? undefined : Number(q.contactId)),
  }))
  route('GET', '/portals/:portalId/app-events', (_b, p) => ({ results: sim.appEvents(portalId(p)) }))
  route('GET', '/portals/:portalId/timeline-events', (_b, p) => ({ results: sim.timelineEvents(portalId(p)) }))
  route('GET', '/workflow-callbacks', () => ({ results: sim.workflowCallbacks() }))
  route('POST', '/event-types', (body) => {
    if (!Array.isArray(body.types)) throw new Error('types array required')
    sim.declareEventTypes(as(body.types), typeof body.appId === 'number' ? body.appId : undefined)
  })

  route('GET', '/stats', () => sim.stats())
  route('DELETE', '/stats', () => sim.resetStats())
  route('POST', '/faults', (body) => sim.failNext(as(body)))
  route('DELETE', '/faults', () => sim.clearFaults())
  route('PUT', '/latency', (body) => sim.setLatency(as(body)))
  route('PUT', '/rate-limits', (body) => sim.setRateLimits(as(body)))

  route('PUT', '/auto-consent', (body) => sim.setAutoConsent(typeof body.portalId === 'number' ? as(body) : null))
  route('PUT', '/refresh-token-rotation', (body) => sim.setRotateRefreshTokens(body.enabled === true))
  route('POST', '/tokens/expire', (body) => {
    if (typeof body.token === 'string') sim.expireAccessToken(body.token)
    else if (typeof body.portalId === 'number') sim.expireAccessTokens(body.portalId)
    else throw new Error('token or portalId required')
  })
  route('POST', '/tokens/revoke', (body) => sim.revokeToken(String(body.token)))
  route('POST', '/portals/:portalId/uninstall', (body, p) => sim.uninstall(portalId(p), typeof body.appId === 'number' ? body.appId : undefined))
  route('PUT', '/portals/:portalId/refresh-failure', (body, p) => sim.failRefresh(portalId(p), body.enabled !== false))

  route('POST', '/webhooks/send', (body) => {
    if (typeof body.portalId !== 'number' || !Array.isArray(body.events)) throw new Error('portalId and events required')
    return sim.sendContactWebhooks(body.portalId, as(body.events), typeof body.targetUrl === 'string' ? body.targetUrl : undefined, {
      ...(typeof body.appId === 'number' ? { appId: body.appId } : {}),
    })
  })
  route('POST', '/webhooks/flush', () => sim.flushWebhooks())
  route('GET', '/webhooks/deliveries', () => ({ results: sim.webhookDeliveries() }))
  route('POST', '/workflow-actions/invoke', (body) => sim.invokeWorkflowAction(as(body)))
}
