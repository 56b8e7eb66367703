import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SimContext } from './context.ts'
import { applyLatency, bearerToken, checkAccessToken, endpointOf, sendFault } from './rest-guard.ts'
import type { Org } from './state.ts'
import { countCall } from './stats.ts'
import {
  CODE_TTL_MS, newAccessToken, newCode, newRefreshToken, revokeRefreshToken, s256, takeRefreshFailure, tokenSignature,
  type ConnectedApp,
} from './tokens.ts'

// The login host: OAuth 2.0 web server flow with PKCE, refresh, revoke, identity and userinfo.
// OAuth errors are `{ error, error_description }` (token endpoint) or redirect parameters.

type Params = Record<string, string | undefined>

const html = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)

function oauthError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-cache,must-revalidate,max-age=0,no-store,private').send({ error, error_description: description })
}

function redirectWith(reply: FastifyReply, redirectUri: string, params: Params): FastifyReply {
  const url = new URL(redirectUri)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v)
  return reply.redirect(url.toString(), 302)
}

type AuthorizeCheck =
  | { kind: 'page'; status: number; message: string }
  | { kind: 'redirectError'; redirectUri: string; error: string; description: string; state: string | undefined }
  | { kind: 'ok'; app: ConnectedApp; redirectUri: string; scopes: string[]; challenge: string | undefined; state: string | undefined }

/** Validates an authorize request. Client and redirect errors are shown, never redirected (the URI is untrusted). */
function checkAuthorize(ctx: SimContext, q: Params): AuthorizeCheck {
  const app = q.client_id ? ctx.auth.apps.get(q.client_id) : undefined
  if (!app) return { kind: 'page', status: 400, message: 'error=invalid_client_id&error_description=client%20identifier%20invalid' }
  const redirectUri = q.redirect_uri ?? ''
  if (!app.callbackUrls.includes(redirectUri)) {
    return { kind: 'page', status: 400, message: 'error=redirect_uri_mismatch&error_description=redirect_uri%20must%20match%20configuration' }
  }
  const fail = (error: string, description: string): AuthorizeCheck => ({ kind: 'redirectError', redirectUri, error, description, state: q.state })
  if (q.response_type !== 'code') return fail('unsupported_response_type', 'response type not supported')
  const requested = (q.scope ?? '').split(/[\s+]+/).filter(Boolean)
  const scopes = requested.length > 0 ? requested : app.scopes
  if (scopes.some((s) => !app.scopes.includes(s))) return fail('invalid_scope', 'the requested scope is not allowed')
  if (q.code_challenge_method && q.code_challenge_method !== 'S256') return fail('invalid_request', 'unsupported code challenge method')
  if (!q.code_challenge && app.requirePkce) return fail('invalid_request', 'missing required code challenge')
  return { kind: 'ok', app, redirectUri, scopes, challenge: q.code_challenge, state: q.state }
}

function approve(ctx: SimContext, reply: FastifyReply, check: Extract<AuthorizeCheck, { kind: 'ok' }>, org: Org): FastifyReply {
  const code = newCode()
  ctx.auth.codes.set(code, {
    clientId: check.app.clientId, redirectUri: check.redirectUri, orgId: org.orgId, userId: org.userId,
    scopes: check.scopes, challenge: check.challenge, expiresAt: ctx.clock.now() + CODE_TTL_MS,
  })
  return redirectWith(reply, check.redirectUri, { code, state: check.state })
}

function consentPage(ctx: SimContext, q: Params, app: ConnectedApp, scopes: string[]): string {
  const hidden = Object.entries(q)
    .filter(([k, v]) => v !== undefined && k !== 'org_id' && k !== 'decision')
    .map(([k, v]) => `<input type="hidden" name="${html(k)}" value="${html(v as string)}">`)
    .join('\n      ')
  const orgs = [...ctx.orgs.values()]
  const options = orgs.map((o) => `<option value="${html(o.orgId)}">${html(o.username)} (${html(o.orgId)})</option>`).join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Allow Access?</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto}button{margin-right:.5rem;padding:.4rem 1.2rem}</style></head>
<body>
  <h1>Allow Access?</h1>
  <p><strong>${html(app.clientId)}</strong> is asking to: ${scopes.map((s) => `<code>${html(s)}</code>`).join(', ')}</p>
  ${orgs.length === 0 ? '<p>No org exists yet: create one with <code>POST /_sim/orgs</code>.</p>' : ''}
  <form method="post" action="/services/oauth2/authorize">
      ${hidden}
      <label>Log in as <select name="org_id">${options}</select></label>
      <p><button type="submit" name="decision" value="allow">Allow</button>
      <button type="submit" name="decision" value="deny">Deny</button></p>
  </form>
</body></html>`
}

/** Client credentials may also come as HTTP Basic auth (client_secret_basic), as many OAuth libraries send them. */
function basicClientCredentials(request: FastifyRequest): Params {
  const match = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '')
  if (!match) return {}
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return {}
  return { client_id: decodeURIComponent(decoded.slice(0, colon)), client_secret: decodeURIComponent(decoded.slice(colon + 1)) }
}

function identityUrls(base: string, org: Org): Record<string, string> {
  const data = `${base}/services/data/v{version}`
  return {
    enterprise: `${base}/services/Soap/c/{version}/${org.orgId}`,
    metadata: `${base}/services/Soap/m/{version}/${org.orgId}`,
    partner: `${base}/services/Soap/u/{version}/${org.orgId}`,
    rest: `${data}/`,
    sobjects: `${data}/sobjects/`,
    search: `${data}/search/`,
    query: `${data}/query/`,
    recent: `${data}/recent/`,
    tooling_soap: `${base}/services/Soap/T/{version}/${org.orgId}`,
    tooling_rest: `${data}/tooling/`,
    profile: `${base}/${org.userId}`,
    feeds: `${data}/chatter/feeds`,
    groups: `${data}/chatter/groups`,
    users: `${data}/chatter/users`,
    feed_items: `${data}/chatter/feed-items`,
    feed_elements: `${data}/chatter/feed-elements`,
    custom_domain: base,
  }
}

export function identityUrl(base: string, org: Org): string {
  return `${base}/id/${org.orgId}/${org.userId}`
}

function nameParts(org: Org): { first: string | null; last: string } {
  const [first, ...rest] = org.displayName.split(' ')
  return rest.length ? { first: first ?? null, last: rest.join(' ') } : { first: null, last: org.displayName }
}

export function registerOAuthRoutes(app: FastifyInstance, ctx: SimContext): void {
  app.addHook('onRequest', async (request, reply) => {
    const endpoint = endpointOf(request)
    if (!endpoint) return undefined
    countCall(ctx.stats, endpoint, undefined)
    await applyLatency(ctx, endpoint)
    return sendFault(ctx, reply, endpoint, undefined) ? reply : undefined
  })

  const authorize = (request: FastifyRequest, reply: FastifyReply, q: Params) => {
    const check = checkAuthorize(ctx, q)
    if (check.kind === 'page') return reply.code(check.status).type('text/html;charset=UTF-8').send(`<!doctype html><p>${html(check.message)}</p>`)
    if (check.kind === 'redirectError') {
      return redirectWith(reply, check.redirectUri, { error: check.error, error_description: check.description, state: check.state })
    }
    if (request.method === 'POST') {
      if (q.decision !== 'allow') {
        return redirectWith(reply, check.redirectUri, { error: 'access_denied', error_description: 'end-user denied authorization', state: check.state })
      }
      const org = q.org_id ? ctx.orgs.get(q.org_id) : undefined
      if (!org) return reply.code(400).type('text/html;charset=UTF-8').send('<!doctype html><p>Unknown org</p>')
      return approve(ctx, reply, check, org)
    }
    const auto = ctx.auth.autoApprove ? ctx.orgs.get(ctx.auth.autoApprove.orgId) : undefined
    if (auto) return approve(ctx, reply, check, auto)
    return reply.type('text/html;charset=UTF-8').send(consentPage(ctx, q, check.app, check.scopes))
  }
  app.get('/services/oauth2/authorize', { config: { endpoint: 'oauth.authorize' } }, (request, reply) => authorize(request, reply, request.query as Params))
  app.post('/services/oauth2/authorize', { config: { endpoint: 'oauth.authorize' } }, (request, reply) => authorize(request, reply, (request.body ?? {}) as Params))

  app.post('/services/oauth2/token', { config: { endpoint: 'oauth.token' } }, (request, reply) => {
    const p = { ...basicClientCredentials(request), ...((request.body ?? {}) as Params) }
    const clientApp = p.client_id ? ctx.auth.apps.get(p.client_id) : undefined
    if (p.grant_type !== 'authorization_code' && p.grant_type !== 'refresh_token') {
      return oauthError(reply, 400, 'unsupported_grant_type', 'grant type not supported')
    }
    if (!clientApp) return oauthError(reply, 400, 'invalid_client_id', 'client identifier invalid')
    if ((clientApp.requireSecret || p.client_secret !== undefined) && p.client_secret !== clientApp.clientSecret) {
      return oauthError(reply, 400, 'invalid_client', 'invalid client credentials')
    }
    const now = ctx.clock.now()
    const base = ctx.baseUrl()

    const issue = (org: Org, userId: string, scopes: string[], refreshToken: string | undefined) => {
      const accessToken = newAccessToken(org.orgId)
      ctx.auth.access.set(accessToken, {
        orgId: org.orgId, userId, clientId: clientApp.clientId, scopes,
        expiresAt: now + ctx.options.accessTokenTtlMs, revoked: false, refreshToken,
      })
      const id = `${base}/id/${org.orgId}/${userId}`
      const issuedAt = String(now)
      return {
        access_token: accessToken,
        signature: tokenSignature(clientApp.clientSecret, id, issuedAt),
        scope: scopes.join(' '),
        instance_url: base,
        id,
        token_type: 'Bearer',
        issued_at: issuedAt,
      }
    }

    if (p.grant_type === 'authorization_code') {
      const code = p.code ? ctx.auth.codes.get(p.code) : undefined
      if (!code || code.clientId !== clientApp.clientId) return oauthError(reply, 400, 'invalid_grant', 'invalid authorization code')
      if (code.expiresAt <= now) {
        ctx.auth.codes.delete(p.code as string)
        return oauthError(reply, 400, 'invalid_grant', 'expired authorization code')
      }
      if (p.redirect_uri !== code.redirectUri) return oauthError(reply, 400, 'redirect_uri_mismatch', 'redirect_uri must match configuration')
      if (code.challenge !== undefined && (!p.code_verifier || s256(p.code_verifier) !== code.challenge)) {
        return oauthError(reply, 400, 'invalid_grant', 'invalid code verifier')
      }
      const org = ctx.orgs.get(code.orgId)
      if (!org) return oauthError(reply, 400, 'invalid_grant', 'invalid authorization code')
      ctx.auth.codes.delete(p.code as string)
      const offline = code.scopes.includes('refresh_token') || code.scopes.includes('offline_access')
      const refreshToken = offline ? newRefreshToken() : undefined
      if (refreshToken) {
        ctx.auth.refresh.set(refreshToken, { orgId: org.orgId, userId: code.userId, clientId: clientApp.clientId, scopes: code.scopes, revoked: false })
      }
      org.stats.tokensIssued += 1
      const body = issue(org, code.userId, code.scopes, refreshToken)
      return reply.header('Cache-Control', 'no-cache,must-revalidate,max-age=0,no-store,private')
        .send(refreshToken ? { ...body, refresh_token: refreshToken } : body)
    }

    const stored = p.refresh_token ? ctx.auth.refresh.get(p.refresh_token) : undefined
    const org = stored ? ctx.orgs.get(stored.orgId) : undefined
    if (!stored || !org || stored.revoked || stored.clientId !== clientApp.clientId) {
      return oauthError(reply, 400, 'invalid_grant', 'expired access/refresh token')
    }
    org.stats.tokenRefreshes += 1
    if (takeRefreshFailure(ctx.auth, org.orgId)) return oauthError(reply, 400, 'invalid_grant', 'expired access/refresh token')
    let refreshToken = p.refresh_token as string
    if (ctx.options.rotateRefreshTokens) {
      revokeRefreshToken(ctx.auth, refreshToken)
      refreshToken = newRefreshToken()
      ctx.auth.refresh.set(refreshToken, { ...stored, revoked: false })
    }
    const body = issue(org, stored.userId, stored.scopes, refreshToken)
    return reply.header('Cache-Control', 'no-cache,must-revalidate,max-age=0,no-store,private')
      .send(ctx.options.rotateRefreshTokens ? { ...body, refresh_token: refreshToken } : body)
  })

  const revoke = (reply: FastifyReply, token: string | undefined) => {
    const access = token ? ctx.auth.access.get(token) : undefined
    if (access) {
      access.revoked = true
      return reply.code(200).send()
    }
    if (token && ctx.auth.refresh.has(token)) {
      revokeRefreshToken(ctx.auth, token)
      return reply.code(200).send()
    }
    return oauthError(reply, 400, 'unsupported_token_type', 'this token type is not supported')
  }
  app.post('/services/oauth2/revoke', { config: { endpoint: 'oauth.revoke' } }, (request, reply) =>
    revoke(reply, ((request.body ?? {}) as Params).token ?? (request.query as Params).token))
  app.get('/services/oauth2/revoke', { config: { endpoint: 'oauth.revoke' } }, (request, reply) => revoke(reply, (request.query as Params).token))

  // Identity and userinfo answer 403 Bad_OAuth_Token (not the REST 401) for a bad token.
  const badToken = (reply: FastifyReply) => reply.code(403).type('text/plain;charset=UTF-8').send('Bad_OAuth_Token')

  app.get('/id/:orgId/:userId', { config: { endpoint: 'identity' } }, (request, reply) => {
    const { orgId, userId } = request.params as { orgId: string; userId: string }
    const { org, valid } = checkAccessToken(ctx, bearerToken(request) ?? (request.query as Params).oauth_token)
    if (!valid || !org || org.orgId !== orgId || org.userId !== userId) return badToken(reply)
    const base = ctx.baseUrl()
    const { first, last } = nameParts(org)
    return reply.send({
      id: identityUrl(base, org),
      asserted_user: true,
      user_id: org.userId,
      organization_id: org.orgId,
      username: org.username,
      nick_name: org.username.split('@')[0],
      display_name: org.displayName,
      email: org.email,
      email_verified: true,
      first_name: first,
      last_name: last,
      timezone: 'GMT',
      photos: { picture: `${base}/profilephoto/005/F`, thumbnail: `${base}/profilephoto/005/T` },
      addr_street: null, addr_city: null, addr_state: null, addr_country: null, addr_zip: null,
      mobile_phone: null,
      mobile_phone_verified: false,
      is_lightning_login_user: false,
      status: { created_date: null, body: null },
      urls: identityUrls(base, org),
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      last_modified_date: '2024-01-01T00:00:00Z',
      is_app_installed: true,
    })
  })

  app.get('/services/oauth2/userinfo', { config: { endpoint: 'oauth.userinfo' } }, (request, reply) => {
    const { org, valid } = checkAccessToken(ctx, bearerToken(request))
    if (!valid || !org) return badToken(reply)
    const base = ctx.baseUrl()
    const { first, last } = nameParts(org)
    return reply.send({
      sub: identityUrl(base, org),
      user_id: org.userId,
      organization_id: org.orgId,
      preferred_username: org.username,
      nickname: org.username.split('@')[0],
      name: org.displayName,
      email: org.email,
      email_verified: true,
      given_name: first,
      family_name: last,
      zoneinfo: 'GMT',
      photos: { picture: `${base}/profilephoto/005/F`, thumbnail: `${base}/profilephoto/005/T` },
      profile: `${base}/${org.userId}`,
      picture: `${base}/profilephoto/005/F`,
      address: {},
      urls: identityUrls(base, org),
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      updated_at: '2024-01-01T00:00:00Z',
      is_app_installed: true,
    })
  })
}
