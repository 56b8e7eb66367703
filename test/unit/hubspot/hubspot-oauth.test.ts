import nock from 'nock'
import { describe, expect, it } from 'vitest'
import { CrmError } from '../../../crm-adapters/crm-adapter.ts'
import { exchangeCode, introspectToken, refreshAccessToken, revokeToken } from '../../../crm-adapters/hubspot/hubspot-oauth.ts'
import { API, rejection, useNock } from './helpers.ts'

useNock()

const client = { apiBase: API, clientId: 'client-id', clientSecret: 'client-secret-value' }
// The token response as the 2026-03 endpoint sends it (reference hubspot.md §1).
const TOKEN_RESPONSE = {
  token_type: 'bearer',
  access_token: 'CJSP5qf1KhICAQEYs-gDIIGOBii1',
  refresh_token: 'na1-6fd0-4a5b-9e1c-2a3b4c5d6e7f',
  expires_in: 1800,
  hub_id: 44312345,
  scopes: ['oauth', 'crm.objects.contacts.read', 'crm.lists.read'],
}

function form(body: unknown): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(String(body)))
}

describe('exchangeCode', () => {
  it('posts a form to the 2026-03 token endpoint, with nothing secret in the URL', async () => {
    let sent: Record<string, string> = {}
    // nock matches the path exactly: a query string would not match this interceptor.
    nock(API)
      .matchHeader('content-type', /^application\/x-www-form-urlencoded/)
      .post('/oauth/2026-03/token', (body) => ((sent = form(new URLSearchParams(body).toString())), true))
      .reply(200, TOKEN_RESPONSE)
    const tokens = await exchangeCode({ ...client, redirectUri: 'https://connector.example/oauth/hubspot/callback', code: 'code-123' })
    expect(sent).toEqual({
      grant_type: 'authorization_code',
      code: 'code-123',
      redirect_uri: 'https://connector.example/oauth/hubspot/callback',
      client_id: 'client-id',
      client_secret: 'client-secret-value',
    })
    expect(tokens).toEqual({
      accessToken: TOKEN_RESPONSE.access_token,
      refreshToken: TOKEN_RESPONSE.refresh_token,
      expiresIn: 1800,
      hubId: 44312345,
      scopes: TOKEN_RESPONSE.scopes,
      tokenType: 'bearer',
    })
  })

  it('accepts camelCase fields and a space-separated scope', async () => {
    nock(API)
      .post('/oauth/2026-03/token')
      .reply(200, { accessToken: 'a', refreshToken: 'r', expiresIn: '1800', hubId: '99', scope: 'oauth crm.lists.read', tokenType: 'bearer' })
    const tokens = await exchangeCode({ ...client, redirectUri: 'https://x.example/cb', code: 'c' })
    expect(tokens).toMatchObject({ accessToken: 'a', refreshToken: 'r', expiresIn: 1800, hubId: 99, scopes: ['oauth', 'crm.lists.read'] })
  })

  it('sends the PKCE verifier when given', async () => {
    let sent: Record<string, string> = {}
    nock(API)
      .post('/oauth/2026-03/token', (body) => ((sent = form(new URLSearchParams(body).toString())), true))
      .reply(200, TOKEN_RESPONSE)
    await exchangeCode({ ...client, redirectUri: 'https://x.example/cb', code: 'c', codeVerifier: 'verifier-1' })
    expect(sent.code_verifier).toBe('verifier-1')
  })
})

describe('refreshAccessToken', () => {
  it('uses the refresh_token grant and keeps the refresh token when the response omits it', async () => {
    let sent: Record<string, string> = {}
    const { refresh_token: _omitted, ...withoutRefresh } = TOKEN_RESPONSE
    nock(API)
      .post('/oauth/2026-03/token', (body) => ((sent = form(new URLSearchParams(body).toString())), true))
      .reply(200, withoutRefresh)
    const tokens = await refreshAccessToken({ ...client, refreshToken: 'na1-old' })
    expect(sent).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'na1-old', client_id: 'client-id' })
    expect(tokens.refreshToken).toBe('na1-old')
    expect(tokens.accessToken).toBe(TOKEN_RESPONSE.access_token)
  })

  it('maps invalid_grant to INVALID_GRANT, not retryable, without the token in the message', async () => {
    nock(API).post('/oauth/2026-03/token').reply(400, {
      error: 'invalid_grant',
      error_description: 'missing or invalid refresh token na1-revoked',
      status: 'BAD_REFRESH_TOKEN',
      message: 'missing or invalid refresh token',
      correlationId: 'c0ffee',
    })
    const error = await rejection(refreshAccessToken({ ...client, refreshToken: 'na1-revoked' }))
    expect(error).toBeInstanceOf(CrmError)
    expect(error).toMatchObject({ code: 'INVALID_GRANT', platformCode: 'BAD_REFRESH_TOKEN', httpStatus: 400, retryable: false })
    expect((error as Error).message).not.toContain('na1-revoked')
    expect((error as Error).message).not.toContain('client-secret-value')
  })

  it('maps a 5xx to a retryable SERVER_ERROR', async () => {
    nock(API).post('/oauth/2026-03/token').reply(502, 'Bad Gateway')
    expect(await rejection(refreshAccessToken({ ...client, refreshToken: 'r' }))).toMatchObject({ code: 'SERVER_ERROR', retryable: true, httpStatus: 502 })
  })

  it('maps a network failure to a retryable NETWORK_ERROR', async () => {
    nock(API).post('/oauth/2026-03/token').replyWithError('socket hang up')
    expect(await rejection(refreshAccessToken({ ...client, refreshToken: 'r' }))).toMatchObject({ code: 'NETWORK_ERROR', retryable: true })
  })

  it('maps invalid_client to UNAUTHORIZED and reports the call', async () => {
    const calls: unknown[] = []
    nock(API).post('/oauth/2026-03/token').reply(400, { error: 'invalid_client', error_description: 'client secret does not match', status: 'BAD_CLIENT_SECRET' })
    const error = await rejection(refreshAccessToken({ ...client, refreshToken: 'r', observer: { onCall: (c) => calls.push(c) } }))
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', platformCode: 'BAD_CLIENT_SECRET' })
    expect(calls).toEqual([expect.objectContaining({ crm: 'hubspot', endpoint: 'POST /oauth/2026-03/token', status: 400 })])
  })
})

describe('introspectToken and revokeToken', () => {
  it('introspects an active token', async () => {
    let sent: Record<string, string> = {}
    nock(API)
      .post('/oauth/2026-03/token/introspect', (body) => ((sent = form(new URLSearchParams(body).toString())), true))
      .reply(200, {
        active: true,
        token_type: 'access',
        client_id: 'client-id',
        app_id: 3102938,
        hub_id: 44312345,
        hub_domain: 'portal.example',
        user_id: 7,
        scopes: ['oauth'],
        expires_in: 1200,
      })
    const info = await introspectToken({ ...client, token: 'tok' })
    expect(sent).toEqual({ token: 'tok', client_id: 'client-id', client_secret: 'client-secret-value' })
    expect(info).toEqual({ active: true, tokenType: 'access', hubId: 44312345, appId: 3102938, userId: 7, hubDomain: 'portal.example', scopes: ['oauth'], expiresIn: 1200 })
  })

  it('introspects an inactive token', async () => {
    nock(API).post('/oauth/2026-03/token/introspect').reply(200, { active: false })
    expect(await introspectToken({ ...client, token: 'gone' })).toEqual({ active: false, scopes: [] })
  })

  it('revokes with a form body', async () => {
    let sent: Record<string, string> = {}
    nock(API)
      .post('/oauth/2026-03/token/revoke', (body) => ((sent = form(new URLSearchParams(body).toString())), true))
      .reply(200)
    await revokeToken({ ...client, token: 'na1-x', tokenTypeHint: 'refresh_token' })
    expect(sent).toEqual({ token: 'na1-x', token_type_hint: 'refresh_token', client_id: 'client-id', client_secret: 'client-secret-value' })
  })
})
