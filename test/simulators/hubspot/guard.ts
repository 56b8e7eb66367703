// Route registration with HubSpot's authentication, scope checks and rate limits in front.
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify'
import { ApiError } from './api-error.ts'
import type { SimContext } from './context.ts'
import { firstQueryValue, params, query } from './input.ts'
import { secondlyBody, tenSecondlyBody } from './rate-limit-errors.ts'
import { findAppByDeveloperKey } from './state.ts'
import { checkAccessToken } from './tokens.ts'
import type { AccessToken, App, Portal } from './types.ts'

interface OAuthCaller {
  token: AccessToken
  app: App
  portal: Portal
}

interface DeveloperCaller {
  app: App
}

type Handler<C> = (request: FastifyRequest, reply: FastifyReply, caller: C) => unknown

const NO_CREDENTIALS =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview'

/** An API called with an installed account's access token (`Authorization: Bearer`). */
export function oauthRoute(
  server: FastifyInstance,
  ctx: SimContext,
  method: HTTPMethods,
  url: string,
  scopes: readonly string[],
  handler: Handler<OAuthCaller>,
  options: { search?: boolean } = {},
): void {
  server.route({
    method,
    url,
    handler: async (request, reply) => {
      const caller = authenticate(ctx, request)
      if (rateLimited(ctx, caller, reply, options.search ?? false)) return reply
      requireScopes(ctx, caller.token, scopes)
      return handler(request, reply, caller)
    },
  })
}

/** An app-level API called with the developer API key (`?hapikey=`) for the `{appId}` in the path. */
export function developerRoute(server: FastifyInstance, ctx: SimContext, method: HTTPMethods, url: string, handler: Handler<DeveloperCaller>): void {
  server.route({
    method,
    url,
    handler: async (request, reply) => {
      const app = findAppByDeveloperKey(ctx.state, firstQueryValue(query(request).hapikey))
      if (!app) throw new ApiError(401, 'INVALID_AUTHENTICATION', 'The API key provided is invalid. View or manage your API key here: https://app.hubspot.com/l/api-key/')
      const appId = params(request).appId
      if (appId !== undefined && appId !== String(app.appId)) {
        throw new ApiError(403, 'FORBIDDEN', `The developer API key does not belong to the developer account that owns app ${appId}.`)
      }
      return handler(request, reply, { app })
    },
  })
}

function authenticate(ctx: SimContext, request: FastifyRequest): OAuthCaller {
  const header = request.headers.authorization
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null
  if (!match?.[1]) throw new ApiError(401, 'INVALID_AUTHENTICATION', NO_CREDENTIALS)
  const status = checkAccessToken(ctx.state, match[1])
  if (!status.ok) {
    if (status.reason === 'expired' && status.token) {
      const agoSeconds = Math.max(0, Math.round((Date.now() - status.token.expiresAt) / 1000))
      throw new ApiError(401, 'EXPIRED_AUTHENTICATION', `The OAuth token used to make this call expired ${agoSeconds} second(s) ago.`, {
        context: { expiredAt: [new Date(status.token.expiresAt).toISOString()] },
      })
    }
    throw new ApiError(401, 'INVALID_AUTHENTICATION', 'The OAuth token used to make this call is invalid or has been revoked.')
  }
  const token = status.token
  const app = ctx.state.apps.get(token.appId)
  const portal = ctx.state.portals.get(token.portalId)
  if (!app || !portal) throw new ApiError(401, 'INVALID_AUTHENTICATION', NO_CREDENTIALS)
  return { token, app, portal }
}

function requireScopes(ctx: SimContext, token: AccessToken, anyOf: readonly string[]): void {
  if (!ctx.state.config.enforceScopes || anyOf.length === 0 || anyOf.some((s) => token.scopes.includes(s))) return
  throw new ApiError(
    403,
    'MISSING_SCOPES',
    "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
    {
      errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: [...anyOf] } }],
      links: { scopes: 'https://developers.hubspot.com/scopes' },
    },
  )
}

/** Sends the 429 itself and returns true when a limit is hit; otherwise charges both windows. */
function rateLimited(ctx: SimContext, caller: OAuthCaller, reply: FastifyReply, search: boolean): boolean {
  const now = Date.now()
  const { burst, search: searchLimit } = ctx.limits
  const burstKey = `${caller.app.appId}:${caller.portal.portalId}`
  const burstDecision = burst?.peek(burstKey, now)
  const searchDecision = search ? searchLimit?.peek(caller.token.token, now) : undefined
  if (burst && burstDecision) {
    // A request refused by the search limit is not charged to the burst window.
    const remaining = burstDecision.allowed && searchDecision?.allowed === false ? burstDecision.remaining + 1 : burstDecision.remaining
    reply.headers({
      'x-hubspot-ratelimit-max': String(burst.limit.max),
      'x-hubspot-ratelimit-remaining': String(remaining),
      'x-hubspot-ratelimit-interval-milliseconds': String(burst.limit.intervalMs),
    })
  }
  if (burstDecision?.allowed === false) {
    reply.code(429).header('retry-after', String(Math.ceil(burstDecision.retryAfterMs / 1000))).send(tenSecondlyBody(caller.app.appId, caller.portal.portalId))
    return true
  }
  if (searchDecision?.allowed === false) {
    reply.code(429).header('retry-after', String(Math.ceil(searchDecision.retryAfterMs / 1000))).send(secondlyBody(caller.portal.portalId))
    return true
  }
  if (searchDecision) searchLimit?.charge(caller.token.token, now)
  burst?.charge(burstKey, now)
  return false
}
