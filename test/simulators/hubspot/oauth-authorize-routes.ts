// The app.hubspot.com side of OAuth: the authorize URL, a consent page, and the redirect back
// with a single-use code (or error=access_denied).
import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { SimContext } from './context.ts'
import { firstQueryValue, isRecord, params, query } from './input.ts'
import { parseScopeParam } from './scopes.ts'
import { findAppByClientId, type PendingConsent } from './state.ts'
import type { App } from './types.ts'

const CONSENT_TTL_MS = 10 * 60_000

export function registerAuthorizeRoutes(server: FastifyInstance, ctx: SimContext): void {
  for (const url of ['/oauth/authorize', '/oauth/:portalId/authorize']) {
    server.get(url, (request, reply) => {
      const q = query(request)
      const one = (name: string): string | undefined => firstQueryValue(q[name])
      const app = findAppByClientId(ctx.state, one('client_id'))
      if (!app) return errorPage(reply, 'Invalid client_id', 'No app with this client ID exists.')
      const redirectUri = one('redirect_uri') ?? ''
      if (!redirectAllowed(app, redirectUri)) return errorPage(reply, 'Invalid redirect_uri', `${redirectUri} is not a redirect URL configured for this app.`)
      const requiredScopes = parseScopeParam(one('scope'))
      const optionalScopes = parseScopeParam(one('optional_scope')).filter((s) => !requiredScopes.includes(s))
      if (requiredScopes.length === 0) return errorPage(reply, 'Missing scope', 'The authorize URL must include at least one scope.')
      const undeclared = app.declaredScopes ? [...requiredScopes, ...optionalScopes].filter((s) => !app.declaredScopes?.includes(s)) : []
      if (undeclared.length > 0) return errorPage(reply, 'Scope mismatch', `The app does not declare these scopes in its settings: ${undeclared.join(', ')}`)
      const challenge = one('code_challenge')
      const method = one('code_challenge_method') ?? 'plain'
      if (challenge && method !== 'S256' && method !== 'plain') return errorPage(reply, 'Invalid code_challenge_method', `${method} is not supported.`)
      const portalParam = params(request).portalId
      if (portalParam !== undefined && !ctx.state.portals.has(Number(portalParam))) return errorPage(reply, 'Unknown account', `Account ${portalParam} does not exist.`)
      const consent: PendingConsent = {
        id: randomUUID(),
        appId: app.appId,
        redirectUri,
        requiredScopes,
        optionalScopes,
        state: one('state'),
        portalId: portalParam === undefined ? null : Number(portalParam),
        codeChallenge: challenge ? { value: challenge, method: method === 'S256' ? 'S256' : 'plain' } : null,
        expiresAt: Date.now() + CONSENT_TTL_MS,
      }
      const auto = ctx.state.config.autoConsent
      if (auto) return decide(ctx, reply, consent, auto.portalId, auto.decision ?? 'grant')
      ctx.state.consents.set(consent.id, consent)
      return reply.type('text/html; charset=utf-8').send(consentPage(ctx, app, consent))
    })
  }

  // The consent page's form target (also usable as a GET link by tests that follow the page).
  server.route({
    method: ['POST', 'GET'],
    url: '/oauth/authorize/consent',
    handler: (request, reply) => {
      const input = request.method === 'POST' && isRecord(request.body) ? request.body : query(request)
      const field = (name: string): string => String(firstQueryValue(input[name] as string | string[] | undefined) ?? '')
      const consent = ctx.state.consents.get(field('consent'))
      if (!consent || consent.expiresAt <= Date.now()) return errorPage(reply, 'Session expired', 'This authorization request has expired or was already used. Start the install again.')
      ctx.state.consents.delete(consent.id)
      return decide(ctx, reply, consent, Number(field('portalId')), field('decision') === 'deny' ? 'deny' : 'grant')
    },
  })
}

function redirectAllowed(app: App, uri: string): boolean {
  if (!URL.canParse(uri)) return false
  if (app.redirectUris.includes(uri)) return true
  return app.redirectUris.includes('*') && /^https?:$/.test(new URL(uri).protocol)
}

function decide(ctx: SimContext, reply: FastifyReply, consent: PendingConsent, portalId: number, decision: 'grant' | 'deny'): FastifyReply {
  const portal = ctx.state.portals.get(portalId)
  if (!portal || (consent.portalId !== null && consent.portalId !== portalId)) {
    return errorPage(reply, 'Unknown account', `Account ${portalId} is not available for this authorization.`)
  }
  const target = new URL(consent.redirectUri)
  if (consent.state !== undefined) target.searchParams.set('state', consent.state)
  if (decision === 'deny') {
    target.searchParams.set('error', 'access_denied')
    target.searchParams.set('error_description', 'The user denied access to the app.')
    return reply.redirect(target.toString(), 302)
  }
  const missing = consent.requiredScopes.filter((s) => !portal.grantableScopes.has(s))
  if (missing.length > 0) {
    return errorPage(reply, "Couldn't complete the connection", `This app requires scopes your account ${portalId} can't grant: ${missing.join(', ')}.`)
  }
  const code = randomUUID()
  ctx.state.codes.set(code, {
    code,
    appId: consent.appId,
    portalId,
    redirectUri: consent.redirectUri,
    // Optional scopes the account can't grant are dropped silently.
    scopes: [...consent.requiredScopes, ...consent.optionalScopes.filter((s) => portal.grantableScopes.has(s))],
    expiresAt: Date.now() + ctx.state.config.authorizationCodeTtlMs,
    codeChallenge: consent.codeChallenge,
  })
  target.searchParams.set('code', code)
  return reply.redirect(target.toString(), 302)
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function consentPage(ctx: SimContext, app: App, consent: PendingConsent): string {
  const portals = [...ctx.state.portals.values()].filter((p) => consent.portalId === null || p.portalId === consent.portalId)
  const forms = portals.map((p) => {
    const missing = consent.requiredScopes.filter((s) => !p.grantableScopes.has(s))
    return `<form method="post" action="/oauth/authorize/consent" data-portal-id="${p.portalId}">
  <input type="hidden" name="consent" value="${escape(consent.id)}">
  <input type="hidden" name="portalId" value="${p.portalId}">
  <h2>${escape(p.domain)} (${p.portalId})</h2>
  ${missing.length > 0 ? `<p class="warning">This account can't grant: ${escape(missing.join(', '))}</p>` : ''}
  <button type="submit" name="decision" value="grant">Grant access</button>
  <button type="submit" name="decision" value="deny">Cancel</button>
</form>`
  })
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Connect app ${app.appId}</title></head>
<body>
<h1>Choose an account for app ${app.appId}</h1>
<p>Requested scopes: ${escape(consent.requiredScopes.join(' '))}${consent.optionalScopes.length > 0 ? `; optional: ${escape(consent.optionalScopes.join(' '))}` : ''}</p>
${forms.join('\n')}
</body></html>`
}

function errorPage(reply: FastifyReply, title: string, detail: string): FastifyReply {
  return reply
    .code(400)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(detail)}</p></body></html>`)
}
