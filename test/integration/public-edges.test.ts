import { describe, expect, test } from 'vitest'
import { buildApp } from '../../connector/app.ts'
import { WRONG_TOKENS_PER_MINUTE, INSTALL_STARTS_PER_MINUTE } from '../../connector/plugins/rate-limits.ts'
import { useTestApp } from '../helpers/test-app.ts'
import { adminHeaders, testConfig } from '../helpers/test-config.ts'

// The connector's public edges: security headers on every answer, /docs behind the admin token
// unless opened, each OpenAPI operation saying how it is secured, and rate limits on guesses.

const t = useTestApp({ HUBSPOT_CLIENT_ID: 'hs-id', HUBSPOT_CLIENT_SECRET: 'hs-secret' })

describe('security headers', () => {
  test.each(['/admin', '/healthz', '/api/v1/installations', '/oauth/hubspot/callback?error=access_denied'])('%s carries them', async (url) => {
    const res = await t.app.inject({ url, headers: adminHeaders })
    const csp = String(res.headers['content-security-policy'])
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['referrer-policy']).toBe('no-referrer')
    expect(res.headers['strict-transport-security']).toBeUndefined()
  })

  test('HSTS when the public URL is https', async () => {
    const https = await buildApp(testConfig({ PUBLIC_URL: 'https://connector.example' }), { db: t.tdb.db, workers: false })
    try {
      expect((await https.inject({ url: '/healthz' })).headers['strict-transport-security']).toMatch(/max-age=31536000/)
    } finally {
      await https.close()
    }
  })
})

describe('/metrics', () => {
  test('takes METRICS_TOKEN or the admin token', async () => {
    const scraped = await buildApp(testConfig({ METRICS_TOKEN: 'metrics-token-0123456789' }), { db: t.tdb.db, workers: false })
    try {
      expect((await scraped.inject({ url: '/metrics' })).statusCode).toBe(401)
      const res = await scraped.inject({ url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } })
      expect(res.statusCode).toBe(200)
      expect(res.body).toContain('connector_')
      expect((await scraped.inject({ url: '/metrics', headers: adminHeaders })).statusCode).toBe(200)
    } finally {
      await scraped.close()
    }
  })
})

describe('/docs', () => {
  test('takes the admin token', async () => {
    expect((await t.app.inject({ url: '/docs/json' })).statusCode).toBe(401)
    expect((await t.app.inject({ url: '/docs' })).statusCode).toBe(401)
    const res = await t.app.inject({ url: '/docs/json', headers: adminHeaders })
    expect(res.statusCode).toBe(200)
  })

  test('opens with DOCS_PUBLIC=true', async () => {
    const open = await buildApp(testConfig({ DOCS_PUBLIC: 'true' }), { db: t.tdb.db, workers: false })
    try {
      expect((await open.inject({ url: '/docs/json' })).statusCode).toBe(200)
    } finally {
      await open.close()
    }
  })

  test('every operation states its security', async () => {
    const doc = (await t.app.inject({ url: '/docs/json', headers: adminHeaders })).json()
    const ops = Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>)
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, security: op.security })))
    expect(ops.length).toBeGreaterThan(10)
    for (const op of ops) expect(op.security, `${op.method} ${op.path}`).toBeDefined()
    const of = (method: string, path: string) => ops.find((o) => o.method === method && o.path === path)?.security
    expect(of('get', '/api/v1/installations')).toEqual([{ admin: [] }])
    expect(of('post', '/webhooks/whatsapp')).toEqual([{ metaSignature: [] }])
    expect(of('post', '/webhooks/hubspot')).toEqual([{ hubspotSignature: [] }])
    expect(of('get', '/healthz')).toEqual([])
    expect(doc.components.securitySchemes.admin).toMatchObject({ type: 'http', scheme: 'bearer' })
  })
})

describe('rate limits', () => {
  test('wrong admin tokens from one address are refused with 429 and Retry-After past the limit', async () => {
    const from = { remoteAddress: '203.0.113.7' }
    const codes: number[] = []
    for (let i = 0; i < WRONG_TOKENS_PER_MINUTE + 3; i++) {
      codes.push((await t.app.inject({ url: '/api/v1/installations', headers: { authorization: `Bearer wrong-${i}` }, ...from })).statusCode)
    }
    expect(codes.filter((c) => c === 401).length).toBeGreaterThanOrEqual(WRONG_TOKENS_PER_MINUTE)
    expect(codes.at(-1)).toBe(429)
    const limited = await t.app.inject({ url: '/api/v1/installations', headers: { authorization: 'Bearer wrong' }, ...from })
    expect(limited.json()).toMatchObject({ statusCode: 429, code: 'TOO_MANY_WRONG_TOKENS' })
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    // Another address is unaffected, and right tokens are never counted.
    expect((await t.app.inject({ url: '/api/v1/installations', headers: adminHeaders, remoteAddress: '203.0.113.8' })).statusCode).toBe(200)
    for (let i = 0; i < WRONG_TOKENS_PER_MINUTE + 3; i++) {
      expect((await t.app.inject({ url: '/api/v1/installations', headers: adminHeaders, remoteAddress: '203.0.113.9' })).statusCode).toBe(200)
    }
  })

  test('install starts from one address are limited, each past the limit writing no OAuth state', async () => {
    const states = async () => (await t.tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM oauth_states')).rows[0]!.n
    const before = await states()
    const codes: number[] = []
    for (let i = 0; i < INSTALL_STARTS_PER_MINUTE + 5; i++) codes.push((await t.app.inject({ url: '/oauth/hubspot/install', remoteAddress: '198.51.100.4' })).statusCode)
    expect(codes.filter((c) => c === 302).length).toBe(INSTALL_STARTS_PER_MINUTE)
    expect(codes.filter((c) => c === 429).length).toBe(5)
    expect((await states()) - before).toBe(INSTALL_STARTS_PER_MINUTE)
  })

  test('OAuth states past their 10 minutes are deleted', async () => {
    await t.tdb.db.query(`UPDATE oauth_states SET expires_at = now() - interval '1 second'`)
    expect((await t.app.inject({ url: '/oauth/hubspot/install', remoteAddress: '198.51.100.5' })).statusCode).toBe(302)
    const { rows } = await t.tdb.db.query<{ n: number; expired: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE expires_at < now())::int AS expired FROM oauth_states`)
    expect(rows[0]).toEqual({ n: 1, expired: 0 })
  })
})

describe('OAuth answers are pages', () => {
  test('an unknown CRM is a 404 page', async () => {
    for (const url of ['/oauth/pipedrive/install', '/oauth/pipedrive/callback?code=x']) {
      const res = await t.app.inject({ url, remoteAddress: '198.51.100.20' })
      expect(res.statusCode).toBe(404)
      expect(res.headers['content-type']).toMatch(/^text\/html/)
    }
  })

  test('a malformed callback is a 400 page, and parameters the CRM adds are accepted', async () => {
    const long = await t.app.inject({ url: `/oauth/hubspot/callback?code=${'x'.repeat(5000)}` })
    expect(long.statusCode).toBe(400)
    expect(long.headers['content-type']).toMatch(/^text\/html/)
    const extra = await t.app.inject({ url: '/oauth/salesforce/callback?error=access_denied&sfdc_community_url=https%3A%2F%2Fx.example' })
    expect(extra.statusCode).toBe(400)
    expect(extra.body).toContain('access was not granted')
  })

  test("the CRM's error shows only as a known code, never its description", async () => {
    const res = await t.app.inject({ url: `/oauth/hubspot/callback?error=access_denied&error_description=${encodeURIComponent('Call +1 555 0100 <b>now</b>')}` })
    expect(res.statusCode).toBe(400)
    expect(res.body).toContain('access_denied')
    expect(res.body).not.toContain('555')
    expect(res.body).not.toContain('now')
    const unknown = await t.app.inject({ url: `/oauth/hubspot/callback?error=${encodeURIComponent('visit evil.example')}` })
    expect(unknown.statusCode).toBe(400)
    expect(unknown.body).not.toContain('evil')
  })
})
