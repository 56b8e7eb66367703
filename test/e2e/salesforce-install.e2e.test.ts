import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../connector/app.ts'
import { findInstallation } from '../../connector/installations/installation-repository.ts'
import { startSalesforceSimulator, type SalesforceSimulator } from '../simulators/salesforce/salesforce-simulator.ts'
import { follow } from '../helpers/browser.ts'
import { freePort } from '../helpers/free-port.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'
import { adminHeaders, testConfig } from '../helpers/test-config.ts'

// A full Salesforce install (web-server flow with PKCE) through the simulator over real HTTP,
// following the redirects as a browser would; refresh after the session expires; uninstall.

const CLIENT = { clientId: '3MVG9-connector-test', clientSecret: 'connector-test-secret' }

let sf: SalesforceSimulator
let tdb: TestDatabase
let app: FastifyInstance
let base: string
let orgId: string

beforeAll(async () => {
  sf = await startSalesforceSimulator()
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  sf.registerConnectedApp({ ...CLIENT, callbackUrls: [`${base}/oauth/salesforce/callback`] })
  orgId = sf.createOrg({ username: 'admin@acme.example' }).orgId
  sf.setAutoApprove({ orgId })
  tdb = await createTestDatabase()
  app = await buildApp(testConfig({
    PORT: String(port),
    PUBLIC_URL: base,
    SALESFORCE_CLIENT_ID: CLIENT.clientId,
    SALESFORCE_CLIENT_SECRET: CLIENT.clientSecret,
    SALESFORCE_LOGIN_URL: sf.url,
  }), { db: tdb.db, workers: false })
  await app.listen({ port, host: '127.0.0.1' })
})
afterAll(async () => {
  await app?.close()
  await sf?.close()
  await tdb?.dispose()
})

async function installations() {
  return (await (await fetch(`${base}/api/v1/installations`, { headers: adminHeaders })).json()) as Array<Record<string, any>>
}

describe('Salesforce install', () => {
  test('install with PKCE stores one installation per org, with its instance URL', async () => {
    const r = await follow(`${base}/oauth/salesforce/install?login=production`)
    expect(r.status, r.body).toBe(200)
    const authorize = new URL(r.hops[1]!)
    expect(authorize.origin).toBe(new URL(sf.url).origin)
    expect(authorize.pathname).toBe('/services/oauth2/authorize')
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256')
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(authorize.searchParams.get('scope')).toContain('refresh_token')
    const list = await installations()
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ crm: 'salesforce', accountId: orgId, status: 'active', instanceUrl: sf.url, missingScopes: [] })
  })

  test('a second install of the same org updates it', async () => {
    expect((await follow(`${base}/oauth/salesforce/install`)).status).toBe(200)
    expect(await installations()).toHaveLength(1)
  })

  test('a foreign login host is refused before anything is stored', async () => {
    const r = await follow(`${base}/oauth/salesforce/install?login=${encodeURIComponent('https://evil.example.com')}`)
    expect(r.status).toBe(400)
    expect(r.hops).toHaveLength(1)
    const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM oauth_states WHERE used_at IS NULL`)
    expect(rows[0]!.n).toBe(0)
  })

  test('a code exchanged without the right verifier fails and stores nothing', async () => {
    const start = await fetch(`${base}/oauth/salesforce/install`, { redirect: 'manual' })
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!
    const code = sf.issueAuthorizationCode({ clientId: CLIENT.clientId, redirectUri: `${base}/oauth/salesforce/callback`, orgId, codeChallenge: 'A'.repeat(43) })
    const before = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM installation_events')
    const r = await follow(`${base}/oauth/salesforce/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`)
    expect(r.status).toBe(400)
    const after = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM installation_events')
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n)
  })
})

describe('Salesforce tokens', () => {
  test('an expired session is refreshed once, even with two instances asking at once', async () => {
    const [inst] = await installations()
    const before = sf.stats().orgs[orgId]!.tokenRefreshes
    const rejected = await app.services.tokens.accessToken(inst!.id)
    sf.expireAccessTokens(orgId)
    const other = await buildApp(testConfig({ SALESFORCE_CLIENT_ID: CLIENT.clientId, SALESFORCE_CLIENT_SECRET: CLIENT.clientSecret, SALESFORCE_LOGIN_URL: sf.url }), { db: tdb.url ? await tdb.open() : tdb.db, workers: false })
    const fresh = await Promise.all([
      app.services.tokens.refresh(inst!.id, rejected),
      other.services.tokens.refresh(inst!.id, rejected),
      app.services.tokens.refresh(inst!.id, rejected),
    ])
    expect(new Set(fresh).size).toBe(1)
    expect(fresh[0]).not.toBe(rejected)
    expect(sf.stats().orgs[orgId]!.tokenRefreshes - before).toBe(1)
    const res = await fetch(`${sf.url}/services/data/v62.0/limits`, { headers: { authorization: `Bearer ${fresh[0]}` } })
    expect(res.status).toBe(200)
    await other.close()
  })

  test('the installation\'s CrmAdapter reads the org through the managed tokens', async () => {
    sf.seed({ orgId, contacts: 50, campaigns: [{ name: 'Spring webinar', size: 20 }] })
    const [inst] = await installations()
    const adapter = app.services.crm.for((await findInstallation(tdb.db, inst!.id))!)
    expect(app.services.crm.for((await findInstallation(tdb.db, inst!.id))!)).toBe(adapter)
    const campaign = (await adapter.listSegmentSources()).find((s) => s.name === 'Spring webinar')!
    expect(campaign.type).toBe('salesforce_campaign')
    sf.expireAccessTokens(orgId)
    let members = 0
    for await (const page of adapter.streamSegmentMembers(campaign, { properties: ['MobilePhone', 'FirstName'] })) members += page.records.length
    expect(members).toBe(20)
  })

  test('uninstall revokes at Salesforce and erases the tokens', async () => {
    const [inst] = await installations()
    const token = await app.services.tokens.accessToken(inst!.id)
    const res = await fetch(`${base}/api/v1/installations/${inst!.id}`, { method: 'DELETE', headers: adminHeaders })
    expect(await res.json()).toMatchObject({ revoked: true, installation: { status: 'uninstalled' } })
    const after = await fetch(`${sf.url}/services/data/v62.0/limits`, { headers: { authorization: `Bearer ${token}` } })
    expect(after.status).toBe(401)
    const { rows } = await tdb.db.query<{ a: string | null; r: string | null }>('SELECT access_token_enc AS a, refresh_token_enc AS r FROM installations WHERE id = $1', [inst!.id])
    expect(rows[0]).toEqual({ a: null, r: null })
  })
})
