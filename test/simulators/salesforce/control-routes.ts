import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SimContext } from './context.ts'
import { isEndpointName } from './endpoints.ts'
import type { FaultSpec, LatencySpec, RecordFaultSpec } from './faults.ts'
import type { SalesforceSimulator } from './salesforce-simulator.ts'
import { canonicalSObject } from './schema.ts'
import type { ListViewSeed, ReportSeed, SeedInput } from './seed.ts'
import type { CreateOrgInput } from './state.ts'
import type { ConnectedAppInput } from './tokens.ts'

// /_sim: the in-process control API over HTTP (JSON), for `npm run simulator -- salesforce` and
// the sandbox. Not part of Salesforce; never counted, never authenticated (bind it to localhost).

type Body = Record<string, unknown>

export function registerControlRoutes(app: FastifyInstance, sim: SalesforceSimulator, ctx: SimContext): void {
  app.setErrorHandler((error, _request, reply) => {
    const message = error instanceof Error ? error.message : String(error)
    return reply.code(/^unknown org/.test(message) ? 404 : 400).send({ error: message })
  })
  const body = (request: FastifyRequest): Body => (request.body ?? {}) as Body
  const orgId = (request: FastifyRequest): string => (request.params as { orgId: string }).orgId
  const route = (value: unknown): FaultSpec['route'] => {
    if (value === '*' || isEndpointName(value)) return value
    throw new Error(`route must be '*' or an endpoint name, got ${JSON.stringify(value)}`)
  }

  app.get('/health', () => ({ ok: true, url: sim.url }))

  app.post('/apps', (request, reply) => reply.code(201).send(sim.registerConnectedApp(body(request) as unknown as ConnectedAppInput)))

  app.get('/orgs', () => sim.orgs())
  app.post('/orgs', (request, reply) => reply.code(201).send(sim.createOrg(body(request) as CreateOrgInput)))
  app.post('/orgs/:orgId/seed', (request) => sim.seed({ ...(body(request) as SeedInput), orgId: orgId(request) }))
  app.post('/orgs/:orgId/mutate', (request) => sim.mutate({ orgId: orgId(request), fraction: Number(body(request).fraction) }))
  app.post('/orgs/:orgId/list-views', (request, reply) => reply.code(201).send(sim.addListView(orgId(request), body(request) as unknown as ListViewSeed)))
  app.post('/orgs/:orgId/reports', (request, reply) => reply.code(201).send(sim.addReport(orgId(request), body(request) as unknown as ReportSeed)))
  app.put('/orgs/:orgId/api-usage', (request) => {
    const used = Number(body(request).used ?? 0)
    sim.setApiUsage(orgId(request), used)
    return { used }
  })
  app.get('/orgs/:orgId/records/:type', (request) => {
    const type = canonicalSObject((request.params as { type: string }).type)
    if (!type) throw new Error('unknown sObject type')
    const limit = Number((request.query as { limit?: string }).limit ?? 1000)
    return sim.records(orgId(request), type).slice(0, limit)
  })
  app.get('/orgs/:orgId/tasks', (request) => sim.tasks(orgId(request), (request.query as { whoId?: string }).whoId))

  app.post('/auto-approve', (request) => {
    const target = body(request).orgId
    sim.setAutoApprove(typeof target === 'string' ? { orgId: target } : null)
    return { autoApprove: ctx.auth.autoApprove ?? null }
  })
  app.post('/authorization-codes', (request, reply) => {
    const b = body(request) as { clientId: string; redirectUri: string; orgId: string; scopes?: string[]; codeChallenge?: string }
    return reply.code(201).send({ code: sim.issueAuthorizationCode(b) })
  })
  app.post('/tokens/expire', (request) => {
    sim.expireAccessTokens(body(request).orgId as string | undefined)
    return { ok: true }
  })
  app.post('/tokens/revoke', (request) => {
    sim.revokeTokens(body(request).orgId as string | undefined)
    return { ok: true }
  })
  app.post('/tokens/fail-refresh', (request) => {
    const b = body(request) as { orgId?: string; times?: number }
    sim.failRefresh(b)
    return { ok: true }
  })
  app.put('/options', (request) => {
    const b = body(request) as { rotateRefreshTokens?: boolean; accessTokenTtlMs?: number }
    if (typeof b.rotateRefreshTokens === 'boolean') sim.setRotateRefreshTokens(b.rotateRefreshTokens)
    if (typeof b.accessTokenTtlMs === 'number') ctx.options.accessTokenTtlMs = b.accessTokenTtlMs
    return { ...ctx.options }
  })

  app.post('/faults', (request, reply) => {
    const b = body(request) as unknown as FaultSpec
    sim.failNext({ ...b, route: route(b.route), status: Number(b.status) })
    return reply.code(201).send({ ok: true })
  })
  app.post('/faults/records', (request, reply) => {
    sim.failNextRecords(body(request) as unknown as RecordFaultSpec)
    return reply.code(201).send({ ok: true })
  })
  app.post('/latency', (request) => {
    const b = body(request) as unknown as LatencySpec
    sim.setLatency({ route: route(b.route ?? '*'), ms: Number(b.ms) })
    return { ok: true }
  })
  app.delete('/faults', () => {
    sim.clearFaults()
    return { ok: true }
  })

  app.get('/stats', () => sim.stats())
  app.delete('/stats', () => {
    sim.resetStats()
    return { ok: true }
  })

  app.get('/clock', () => ({ now: new Date(sim.clock.now()).toISOString() }))
  app.post('/clock', (request) => {
    const b = body(request) as { advanceMs?: number; set?: string }
    if (typeof b.advanceMs === 'number') sim.clock.advance(b.advanceMs)
    if (typeof b.set === 'string') sim.clock.set(new Date(b.set))
    return { now: new Date(sim.clock.now()).toISOString() }
  })
}
