import { createHash } from 'node:crypto'
import nock from 'nock'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CrmError } from '../../../crm-adapters/crm-adapter.ts'
import {
  authorizationUrl, exchangeCode, loginHostFor, parseIdentityUrl, refreshAccessToken, revokeToken, SALESFORCE_SCOPES,
} from '../../../crm-adapters/salesforce/salesforce-oauth.ts'
import { rejection } from './helpers.ts'

const LOGIN = 'https://login.salesforce.com'
const ORG_ID = '00DDn000000ABCDMA4'
const USER_ID = '005Dn000000WXYZIA2'
const REDIRECT = 'https://connector.example.com/oauth/salesforce/callback'

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())
afterAll(() => nock.enableNetConnect())

describe('loginHostFor', () => {
  it('production is the configured default login URL', () => {
    expect(loginHostFor('production', 'https://login.salesforce.com/')).toBe('https://login.salesforce.com')
    expect(loginHostFor('production', 'http://127.0.0.1:4010')).toBe('http://127.0.0.1:4010')
  })

  it('sandbox is test.salesforce.com, unless the default is not Salesforce (a simulator serves both)', () => {
    expect(loginHostFor('sandbox', LOGIN)).toBe('https://test.salesforce.com')
    expect(loginHostFor('sandbox', 'http://127.0.0.1:4010')).toBe('http://127.0.0.1:4010')
  })

  it('accepts My Domain hosts, with or without the scheme, including sandbox and developer ones', () => {
    expect(loginHostFor('https://acme.my.salesforce.com', LOGIN)).toBe('https://acme.my.salesforce.com')
    expect(loginHostFor('acme.my.salesforce.com/', LOGIN)).toBe('https://acme.my.salesforce.com')
    expect(loginHostFor('https://acme--uat.sandbox.my.salesforce.com', LOGIN)).toBe('https://acme--uat.sandbox.my.salesforce.com')
    expect(loginHostFor('https://acme-dev-ed.develop.my.salesforce.com', LOGIN)).toBe('https://acme-dev-ed.develop.my.salesforce.com')
  })

  it('accepts the configured default host given as a URL (tests against the simulator)', () => {
    expect(loginHostFor('http://127.0.0.1:4010', 'http://127.0.0.1:4010')).toBe('http://127.0.0.1:4010')
  })

  it.each([
    'https://evil.example.com',
    'https://acme.my.salesforce.com.evil.example.com',
    'https://acme.my.salesforce.com@evil.example.com',
    'http://acme.my.salesforce.com',
    'https://acme.my.salesforce.com:8443',
    'https://acme.my.salesforce.com/services/oauth2/authorize',
    'https://acme.my.salesforce.com?next=https://evil.example.com',
    'https://my.salesforce.com',
    'https://login.salesforce.com.evil.example.com',
    'http://127.0.0.1:4011',
    'javascript:alert(1)',
    '',
  ])('refuses %j', (login) => {
    expect(() => loginHostFor(login, 'http://127.0.0.1:4010')).toThrow(/is not a Salesforce login/)
    expect(() => loginHostFor(login, LOGIN)).toThrow(expect.objectContaining({ name: 'CrmError', code: 'VALIDATION_ERROR' }))
  })
})

describe('authorizationUrl', () => {
  it('asks for a code with PKCE S256, and the returned verifier matches the challenge', () => {
    const { url, codeVerifier } = authorizationUrl({ loginUrl: LOGIN, clientId: 'cid', redirectUri: REDIRECT, state: 'st-123' })
    const parsed = new URL(url)
    expect(parsed.origin + parsed.pathname).toBe('https://login.salesforce.com/services/oauth2/authorize')
    const q = parsed.searchParams
    expect(q.get('response_type')).toBe('code')
    expect(q.get('client_id')).toBe('cid')
    expect(q.get('redirect_uri')).toBe(REDIRECT)
    expect(q.get('state')).toBe('st-123')
    expect(q.get('scope')).toBe(SALESFORCE_SCOPES)
    expect(q.get('code_challenge_method')).toBe('S256')
    expect(codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,}$/)
    expect(q.get('code_challenge')).toBe(createHash('sha256').update(codeVerifier).digest('base64url'))
  })

  it('makes a new verifier for every authorization', () => {
    const a = authorizationUrl({ loginUrl: LOGIN, clientId: 'cid', redirectUri: REDIRECT, state: 's' })
    const b = authorizationUrl({ loginUrl: LOGIN, clientId: 'cid', redirectUri: REDIRECT, state: 's' })
    expect(a.codeVerifier).not.toBe(b.codeVerifier)
  })
})

describe('parseIdentityUrl', () => {
  it('takes the org and user ids from the last two path segments', () => {
    expect(parseIdentityUrl(`https://login.salesforce.com/id/${ORG_ID}/${USER_ID}`)).toEqual({ orgId: ORG_ID, userId: USER_ID })
    expect(parseIdentityUrl(`https://test.salesforce.com/id/00DDn000000ABCD/005Dn000000WXYZ`)).toEqual({ orgId: '00DDn000000ABCD', userId: '005Dn000000WXYZ' })
  })

  it.each(['https://login.salesforce.com/id/005Dn000000WXYZIA2/00DDn000000ABCDMA4', 'https://login.salesforce.com/', 'not a url'])('refuses %j', (url) => {
    expect(() => parseIdentityUrl(url)).toThrow(/identity URL/)
  })
})

const tokenResponse = {
  access_token: '00DDn000000ABCD!AQ0AQ.access',
  refresh_token: '5Aep861.refresh',
  signature: 'HfBAsig=',
  scope: 'refresh_token api id',
  instance_url: 'https://acme.my.salesforce.com',
  id: `https://login.salesforce.com/id/${ORG_ID}/${USER_ID}`,
  token_type: 'Bearer',
  issued_at: '1708058728442',
}

describe('exchangeCode', () => {
  it('posts the code with the PKCE verifier and returns the installation tokens', async () => {
    let form: URLSearchParams | undefined
    const scope = nock(LOGIN).post('/services/oauth2/token', (body: string) => {
      form = new URLSearchParams(body)
      return true
    }).reply(200, tokenResponse)
    const tokens = await exchangeCode({ loginUrl: LOGIN, clientId: 'cid', clientSecret: 'secret', redirectUri: REDIRECT, code: 'aPrx.code', codeVerifier: 'verifier-1' })
    scope.done()
    expect(Object.fromEntries(form ?? [])).toEqual({
      grant_type: 'authorization_code', code: 'aPrx.code', client_id: 'cid', client_secret: 'secret', redirect_uri: REDIRECT, code_verifier: 'verifier-1',
    })
    expect(tokens).toEqual({
      accessToken: tokenResponse.access_token,
      refreshToken: tokenResponse.refresh_token,
      instanceUrl: 'https://acme.my.salesforce.com',
      orgId: ORG_ID,
      userId: USER_ID,
      identityUrl: tokenResponse.id,
      issuedAt: new Date(1708058728442),
      scope: 'refresh_token api id',
    })
  })

  it('invalid_grant is INVALID_GRANT, and the error carries no token', async () => {
    nock(LOGIN).post('/services/oauth2/token').reply(400, { error: 'invalid_grant', error_description: 'invalid code verifier' })
    const error = await rejection(exchangeCode({ loginUrl: LOGIN, clientId: 'cid', clientSecret: 'secret', redirectUri: REDIRECT, code: 'c', codeVerifier: 'v' }))
    expect(error.code).toBe('INVALID_GRANT')
    expect(error.platformCode).toBe('invalid_grant')
    expect(error.retryable).toBe(false)
    expect(error.message).toContain('invalid code verifier')
  })

  it('refuses an authorization without a refresh token', async () => {
    const { refresh_token: _, ...withoutRefresh } = tokenResponse
    nock(LOGIN).post('/services/oauth2/token').reply(200, withoutRefresh)
    const error = await rejection(exchangeCode({ loginUrl: LOGIN, clientId: 'cid', redirectUri: REDIRECT, code: 'c', codeVerifier: 'v' }))
    expect(error.code).toBe('MISSING_SCOPES')
    expect(error.message).not.toContain(tokenResponse.access_token)
  })
})

describe('refreshAccessToken', () => {
  it('posts the refresh grant and returns the new access token and instance', async () => {
    let form: URLSearchParams | undefined
    nock(LOGIN).post('/services/oauth2/token', (body: string) => {
      form = new URLSearchParams(body)
      return true
    }).reply(200, { ...tokenResponse, refresh_token: undefined, access_token: 'new-access' })
    const refreshed = await refreshAccessToken({ loginUrl: LOGIN, clientId: 'cid', clientSecret: 'secret', refreshToken: 'rt-1' })
    expect(Object.fromEntries(form ?? [])).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt-1', client_id: 'cid', client_secret: 'secret' })
    expect(refreshed).toEqual({ accessToken: 'new-access', instanceUrl: 'https://acme.my.salesforce.com' })
  })

  it('returns a rotated refresh token when Salesforce sends one', async () => {
    nock(LOGIN).post('/services/oauth2/token').reply(200, { ...tokenResponse, access_token: 'a2', refresh_token: 'rt-2' })
    expect(await refreshAccessToken({ loginUrl: LOGIN, clientId: 'cid', refreshToken: 'rt-1' })).toEqual({ accessToken: 'a2', refreshToken: 'rt-2', instanceUrl: tokenResponse.instance_url })
  })

  it('a revoked refresh token is INVALID_GRANT', async () => {
    nock(LOGIN).post('/services/oauth2/token').reply(400, { error: 'invalid_grant', error_description: 'expired access/refresh token' })
    const error = await rejection(refreshAccessToken({ loginUrl: LOGIN, clientId: 'cid', clientSecret: 'secret', refreshToken: 'rt-secret-value' }))
    expect(error.code).toBe('INVALID_GRANT')
    expect(error.message).not.toContain('rt-secret-value')
  })

  it('a 503 from the token endpoint is a retryable SERVER_ERROR', async () => {
    nock(LOGIN).post('/services/oauth2/token').reply(503, '<html>Maintenance</html>')
    const error = await rejection(refreshAccessToken({ loginUrl: LOGIN, clientId: 'cid', refreshToken: 'rt' }))
    expect(error.code).toBe('SERVER_ERROR')
    expect(error.retryable).toBe(true)
  })
})

describe('revokeToken', () => {
  it('posts the token to the revoke endpoint', async () => {
    const scope = nock(LOGIN).post('/services/oauth2/revoke', 'token=rt-1').reply(200, '')
    expect(await revokeToken({ loginUrl: LOGIN, token: 'rt-1' })).toBe('revoked')
    scope.done()
  })

  it('a token Salesforce no longer knows is already_invalid', async () => {
    nock(LOGIN).post('/services/oauth2/revoke').reply(400, { error: 'unsupported_token_type', error_description: 'this token type is not supported' })
    expect(await revokeToken({ loginUrl: LOGIN, token: 'gone' })).toBe('already_invalid')
  })
})
