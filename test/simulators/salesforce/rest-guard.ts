import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SimContext } from './context.ts'
import { isEndpointName, type EndpointName } from './endpoints.ts'
import { SfError, sessionInvalid } from './errors.ts'
import { defaultFaultBody } from './faults.ts'
import { apiUsed, limitInfoHeader, recordApiCall } from './limits.ts'
import type { Org } from './state.ts'
import { countCall } from './stats.ts'
import type { AccessToken } from './tokens.ts'

// What every /services/data request goes through, in Salesforce's order: session check
// (401 INVALID_SESSION_ID), daily allocation (403 REQUEST_LIMIT_EXCEEDED), then the call counts
// and Sforce-Limit-Info reports the usage. Injected faults and latency apply here too.

export interface RestRequestContext {
  org: Org
  userId: string
  /** As in the path, e.g. `v62.0`. */
  version: string
}

export interface RouteConfig {
  endpoint: EndpointName
  /** The resource only exists from this API version on (e.g. 46 for collection upsert). */
  minVersion?: number
}

const contexts = new WeakMap<FastifyRequest, RestRequestContext>()

export function rest(request: FastifyRequest): RestRequestContext {
  const context = contexts.get(request)
  if (!context) throw new Error('route registered outside the REST guard')
  return context
}

export function endpointOf(request: FastifyRequest): EndpointName | undefined {
  const endpoint = (request.routeOptions.config as Partial<RouteConfig> | undefined)?.endpoint
  return isEndpointName(endpoint) ? endpoint : undefined
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const match = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(request.headers.authorization ?? '')
  return match?.[1]
}

export function sendSfError(reply: FastifyReply, error: SfError): FastifyReply {
  return reply.code(error.status).send(error.body())
}

export async function applyLatency(ctx: SimContext, endpoint: EndpointName): Promise<void> {
  const ms = ctx.faults.latencyFor(endpoint)
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
}

export function sendFault(ctx: SimContext, reply: FastifyReply, endpoint: EndpointName, orgId: string | undefined): boolean {
  const fault = ctx.faults.take(endpoint, orgId)
  if (!fault) return false
  const body = fault.body ?? defaultFaultBody(endpoint, fault.status)
  reply.code(fault.status).headers(fault.headers ?? {})
  if (typeof body === 'string') reply.type('text/plain;charset=UTF-8')
  reply.send(body)
  return true
}

/** A usable access token, or why not (the org is known even for an expired token). */
export function checkAccessToken(ctx: SimContext, token: string | undefined): { token?: AccessToken; org?: Org; valid: boolean } {
  const info = token ? ctx.auth.access.get(token) : undefined
  const org = info ? ctx.orgs.get(info.orgId) : undefined
  const valid = !!info && !!org && !info.revoked && info.expiresAt > ctx.clock.now()
  return { ...(info ? { token: info } : {}), ...(org ? { org } : {}), valid }
}

export function registerRestGuard(app: FastifyInstance, ctx: SimContext): void {
  app.addHook('onRequest', async (request, reply) => {
    const endpoint = endpointOf(request)
    if (!endpoint) return
    const config = request.routeOptions.config as Partial<RouteConfig>
    const { token, org, valid } = checkAccessToken(ctx, bearerToken(request))
    countCall(ctx.stats, endpoint, org)
    await applyLatency(ctx, endpoint)
    const now = ctx.clock.now()
    if (org) reply.header('Sforce-Limit-Info', limitInfoHeader(org.usage, org.dailyApiLimit, now))
    if (!valid || !token || !org) return sendSfError(reply, sessionInvalid())
    if (!token.scopes.includes('api') && !token.scopes.includes('full')) {
      return sendSfError(reply, new SfError(401, 'INVALID_SESSION_ID', 'This session is not valid for use with the REST API'))
    }
    const version = (request.params as { version?: string }).version ?? ''
    const versionMatch = /^v(\d+)\.\d$/.exec(version)
    if (!versionMatch || Number(versionMatch[1]) < (config.minVersion ?? 20)) {
      return sendSfError(reply, new SfError(404, 'NOT_FOUND', 'The requested resource does not exist'))
    }
    if (apiUsed(org.usage, now) >= org.dailyApiLimit) {
      return sendSfError(reply, new SfError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'))
    }
    recordApiCall(org.usage, now)
    reply.header('Sforce-Limit-Info', limitInfoHeader(org.usage, org.dailyApiLimit, now))
    if (sendFault(ctx, reply, endpoint, org.orgId)) return reply
    contexts.set(request, { org, userId: token.userId, version })
    return undefined
  })
}
