// OAuth token endpoints on 2026-03 (token, introspect, revoke). The v1 ones they replace are
// refused like every numbered path with a date-versioned successor (versions.ts).
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { sendOAuthError } from './api-error.ts'
import type { SimContext } from './context.ts'
import { isRecord } from './input.ts'
import { findAppByClientId } from './state.ts'
import { activeRefreshToken, checkAccessToken, issueAccessToken, issueRefreshToken, tokenResponse } from './tokens.ts'
import type { App, AuthorizationCode } from './types.ts'

type Form = Record<string, string>

export function registerTokenRoutes(server: FastifyInstance, ctx: SimContext): void {
  server.post('/oauth/2026-03/token', (request, reply) => {
    const form = formBody(request, reply)
    if (!form) return reply
    const app = authenticateClient(ctx, form, request, reply)
    if (!app) return reply
    if (form.grant_type === 'authorization_code') return exchangeCode(ctx, app, form, reply)
    if (form.grant_type === 'refresh_token') return refresh(ctx, app, form, reply)
    return sendOAuthError(reply, 'unsupported_grant_type', `grant_type must be authorization_code or refresh_token, got ${form.grant_type ?? 'nothing'}.`, 'BAD_GRANT_TYPE')
  })

  server.post('/oauth/2026-03/token/introspect', (request, reply) => {
    const form = formBody(request, reply)
    if (!form) return reply
    const app = authenticateClient(ctx, form, request, reply)
    if (!app) return reply
    const access = checkAccessToken(ctx.state, form.token ?? '')
    if (access.ok && access.token.appId === app.appId) {
      const t = access.token
      return {
        active: true,
        token_type: 'access',
        client_id: app.clientId,
        app_id: app.appId,
        hub_id: t.portalId,
        hub_domain: ctx.state.portals.get(t.portalId)?.domain,
        user_id: t.userId,
        user: ctx.state.portals.get(t.portalId)?.userEmail,
        scopes: t.scopes,
        scope: t.scopes.join(' '),
        iat: Math.floor(t.issuedAt / 1000),
        exp: Math.floor(t.expiresAt / 1000),
        expires_in: Math.max(0, Math.round((t.expiresAt - Date.now()) / 1000)),
      }
    }
    const refreshToken = activeRefreshToken(ctx.state, form.token)
    if (refreshToken && refreshToken.appId === app.appId) {
      return {
        active: true,
        token_type: 'refresh',
        client_id: app.clientId,
        app_id: app.appId,
        hub_id: refreshToken.portalId,
        hub_domain: ctx.state.portals.get(refreshToken.portalId)?.domain,
        user_id: refreshToken.userId,
        user: ctx.state.portals.get(refreshToken.portalId)?.userEmail,
        scopes: refreshToken.scopes,
        scope: refreshToken.scopes.join(' '),
      }
    }
    return { active: false }
  })

  // RFC 7009: unknown tokens also get 200, so a client can't probe which tokens exist.
  server.post('/oauth/2026-03/token/revoke', (request, reply) => {
    const form = formBody(request, reply)
    if (!form) return reply
    const app = authenticateClient(ctx, form, request, reply)
    if (!app) return reply
    const token = form.token ?? ''
    const refreshToken = ctx.state.refreshTokens.get(token)
    const accessToken = ctx.state.accessTokens.get(token)
    if (refreshToken?.appId === app.appId) refreshToken.revoked = true
    if (accessToken?.appId === app.appId) accessToken.revoked = true
    return reply.code(200).send()
  })
}

/** The token endpoints take application/x-www-form-urlencoded only, like HubSpot's. */
function formBody(request: FastifyRequest, reply: FastifyReply): Form | null {
  const type = request.headers['content-type'] ?? ''
  if (!type.startsWith('application/x-www-form-urlencoded') || !isRecord(request.body)) {
    sendOAuthError(reply, 'invalid_request', 'The request body must be application/x-www-form-urlencoded.', 'BAD_REQUEST')
    return null
  }
  return request.body as Form
}

/** Client credentials from the form, or HTTP Basic as RFC 6749 also allows. */
function authenticateClient(ctx: SimContext, form: Form, request: FastifyRequest, reply: FastifyReply): App | null {
  let clientId = form.client_id
  let clientSecret = form.client_secret
  const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '')
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    clientId = decodeURIComponent(colon < 0 ? decoded : decoded.slice(0, colon))
    clientSecret = colon < 0 ? undefined : decodeURIComponent(decoded.slice(colon + 1))
  }
  const app = findAppByClientId(ctx.state, clientId)
  if (!app) {
    sendOAuthError(reply, 'invalid_client', 'missing or unknown client id', 'BAD_CLIENT_ID')
    return null
  }
  if (!clientSecret || !sameSecret(clientSecret, app.clientSecret)) {
    sendOAuthError(reply, 'invalid_client', 'client secret does not match the client id', 'BAD_CLIENT_SECRET')
    return null
  }
  return app
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

function exchangeCode(ctx: SimContext, app: App, form: Form, reply: FastifyReply): unknown {
  const code = ctx.state.codes.get(form.code ?? '')
  // Codes are single-use: any attempt consumes them.
  if (code) ctx.state.codes.delete(code.code)
  if (!code || code.appId !== app.appId || code.expiresAt <= Date.now()) {
    return sendOAuthError(reply, 'invalid_grant', 'missing or invalid authorization code (expired, already used or issued to another app)', 'BAD_AUTH_CODE')
  }
  if (form.redirect_uri !== code.redirectUri) {
    return sendOAuthError(reply, 'invalid_grant', 'redirect_uri does not match the one used in the authorization request', 'BAD_REDIRECT_URI')
  }
  if (!pkceOk(code, form.code_verifier)) return sendOAuthError(reply, 'invalid_grant', 'code_verifier does not match the code_challenge', 'BAD_CODE_VERIFIER')
  const portal = ctx.state.portals.get(code.portalId)
  const grant = { appId: app.appId, portalId: code.portalId, scopes: code.scopes, userId: portal?.userId ?? 0 }
  ctx.state.installs.set(`${app.appId}:${code.portalId}`, code.scopes)
  return tokenResponse(ctx.state, issueAccessToken(ctx.state, grant), issueRefreshToken(ctx.state, grant))
}

function pkceOk(code: AuthorizationCode, verifier: string | undefined): boolean {
  if (!code.codeChallenge) return true
  if (!verifier) return false
  const expected = code.codeChallenge.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier
  return expected === code.codeChallenge.value
}

function refresh(ctx: SimContext, app: App, form: Form, reply: FastifyReply): unknown {
  const current = activeRefreshToken(ctx.state, form.refresh_token)
  if (!current || current.appId !== app.appId || ctx.state.config.failingRefreshPortals.has(current.portalId)) {
    return sendOAuthError(reply, 'invalid_grant', 'missing or invalid refresh token', 'BAD_REFRESH_TOKEN')
  }
  const grant = { appId: current.appId, portalId: current.portalId, scopes: current.scopes, userId: current.userId }
  let refreshToken = current
  if (ctx.state.config.rotateRefreshTokens) {
    current.revoked = true
    refreshToken = issueRefreshToken(ctx.state, grant)
  }
  ctx.controls.recordRefresh(current.portalId)
  return tokenResponse(ctx.state, issueAccessToken(ctx.state, grant), refreshToken)
}
