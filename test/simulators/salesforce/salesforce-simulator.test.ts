import { Connection, OAuth2 } from 'jsforce'
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js'
import { createHash, createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSalesforceSimulator, type OrgInfo, type SalesforceSimulator, type SeedResult } from './salesforce-simulator.ts'

const CLIENT_ID = 'connector-client-id'
const CLIENT_SECRET = 'connector-client-secret'
const REDIRECT_URI = 'http://127.0.0.1:3000/oauth/salesforce/callback'
const START = new Date('2025-03-10T12:00:00Z')

let sim: SalesforceSimulator
let org: OrgInfo
let seeded: SeedResult
let token: string

interface TokenResponse {
  access_token: string
  refresh_token?: string
  instance_url: string
  id: string
  signature: string
  scope: string
  token_type: string
  issued_at: string
}

async function tokenFor(orgId: string, scopes = ['api', 'refresh_token']): Promise<TokenResponse> {
  const code = sim.issueAuthorizationCode({ clientId: CLIENT_ID, redirectUri: REDIRECT_URI, orgId, scopes })
  const res = await fetch(`${sim.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: REDIRECT_URI }),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as TokenResponse
}

function api(path: string, accessToken = token, init: RequestInit = {}): Promise<Response> {
  return fetch(`${sim.url}/services/data/v62.0${path}`, {
    ...init,
    headers: { authorization: `Bearer ${accessToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
  })
}

const q = (soql: string) => `/query?q=${encodeURIComponent(soql)}`

async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T
}

function connection(accessToken = token): Connection {
  return new Connection({ instanceUrl: sim.url, accessToken, version: '62.0' })
}

beforeAll(async () => {
  sim = await startSalesforceSimulator({ now: START })
  sim.registerConnectedApp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackUrls: [REDIRECT_URI] })
  org = sim.createOrg({ dailyApiLimit: 100_000 })
  seeded = sim.seed({
    orgId: org.orgId,
    contacts: 5000,
    leads: 1000,
    campaigns: [{ name: 'Spring Promo', size: 1200, leadShare: 0.25 }],
    listViews: [{ sobjectType: 'Contact', label: 'WhatsApp Opted In', columns: ['Name', 'MobilePhone', 'Email'], where: 'WhatsApp_Opt_In__c = true' }],
    reports: [{ name: 'All Contacts', sobjectType: 'Contact' }],
    seed: 7,
  })
  token = (await tokenFor(org.orgId)).access_token
})

afterAll(async () => {
  await sim.close()
})

describe('OAuth 2.0 web server flow with PKCE', () => {
  it('authorizes end to end with jsforce (useVerifier) and rejects a wrong verifier', async () => {
    const oauth2 = new OAuth2({ loginUrl: sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI, useVerifier: true })
    const authorizeUrl = oauth2.getAuthorizationUrl({ scope: 'api refresh_token', state: 'st-123' })
    sim.setAutoApprove({ orgId: org.orgId })
    const redirect = await fetch(authorizeUrl, { redirect: 'manual' })
    sim.setAutoApprove(null)
    expect(redirect.status).toBe(302)
    const back = new URL(redirect.headers.get('location') as string)
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI)
    expect(back.searchParams.get('state')).toBe('st-123')
    const code = back.searchParams.get('code') as string
    expect(code).toMatch(/==$/)

    // A different OAuth2 instance has a different verifier: the challenge does not match.
    const wrong = new Connection({ oauth2: new OAuth2({ loginUrl: sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI, useVerifier: true }) })
    await expect(wrong.authorize(code)).rejects.toMatchObject({ name: 'invalid_grant', message: 'invalid code verifier' })

    const conn = new Connection({ oauth2, version: '62.0' })
    const userInfo = await conn.authorize(code)
    expect(userInfo).toMatchObject({ organizationId: org.orgId, id: org.userId })
    expect(conn.instanceUrl).toBe(sim.url)
    expect(conn.accessToken).toMatch(new RegExp(`^${org.orgId.slice(0, 15)}!`))
    expect(conn.refreshToken).toBeTruthy()
    const result = await conn.query<{ Id: string }>('SELECT Id FROM Contact LIMIT 3')
    expect(result.records).toHaveLength(3)

    // Codes are single-use.
    await expect(new Connection({ oauth2 }).authorize(code)).rejects.toMatchObject({ name: 'invalid_grant' })
  })

  it('returns the Salesforce token response fields, with a refresh token only when asked for', async () => {
    const withRefresh = await tokenFor(org.orgId, ['api', 'refresh_token'])
    expect(withRefresh).toMatchObject({ token_type: 'Bearer', scope: 'api refresh_token', instance_url: sim.url, id: org.identityUrl })
    expect(withRefresh.issued_at).toMatch(/^\d{13}$/)
    expect(withRefresh.signature).toBe(createHmac('sha256', CLIENT_SECRET).update(withRefresh.id + withRefresh.issued_at).digest('base64'))
    expect(withRefresh.refresh_token).toMatch(/^5Aep861/)
    const apiOnly = await tokenFor(org.orgId, ['api'])
    expect(apiOnly.refresh_token).toBeUndefined()

    // Client credentials in an HTTP Basic header work too; a wrong secret does not.
    const viaBasic = (secret: string) => fetch(`${sim.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: withRefresh.refresh_token as string }),
    })
    expect((await viaBasic(CLIENT_SECRET)).status).toBe(200)
    const wrongSecret = await viaBasic('nope')
    expect(wrongSecret.status).toBe(400)
    expect(await wrongSecret.json()).toEqual({ error: 'invalid_client', error_description: 'invalid client credentials' })
  })

  it('shows an Allow page and redirects with a code (or access_denied) on the decision', async () => {
    const challenge = createHash('sha256').update('v'.repeat(50)).digest('base64url')
    const params = new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'api refresh_token', state: 's1', code_challenge: challenge })
    const page = await fetch(`${sim.url}/services/oauth2/authorize?${params}`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Allow')

    const decide = (decision: string) => fetch(`${sim.url}/services/oauth2/authorize`, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...Object.fromEntries(params), org_id: org.orgId, decision }),
    })
    const allowed = new URL((await decide('allow')).headers.get('location') as string)
    const code = allowed.searchParams.get('code') as string
    expect(allowed.searchParams.get('state')).toBe('s1')
    const denied = new URL((await decide('deny')).headers.get('location') as string)
    expect(denied.searchParams.get('error')).toBe('access_denied')

    const exchange = (verifier: string) => fetch(`${sim.url}/services/oauth2/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
    })
    const bad = await exchange('w'.repeat(50))
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: 'invalid_grant', error_description: 'invalid code verifier' })
    expect((await exchange('v'.repeat(50))).status).toBe(200)
  })

  it('rejects bad authorize requests like Salesforce', async () => {
    const base = { response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, code_challenge: 'x'.repeat(43) }
    const get = (p: Record<string, string>) => fetch(`${sim.url}/services/oauth2/authorize?${new URLSearchParams(p)}`, { redirect: 'manual' })
    expect((await get({ ...base, client_id: 'nope' })).status).toBe(400)
    const mismatch = await get({ ...base, redirect_uri: 'https://evil.example/cb' })
    expect(mismatch.status).toBe(400)
    expect(await mismatch.text()).toContain('redirect_uri_mismatch')
    const { code_challenge: _omit, ...noPkce } = base
    const missing = new URL((await get(noPkce)).headers.get('location') as string)
    expect(missing.searchParams.get('error')).toBe('invalid_request')
    const scope = new URL((await get({ ...base, scope: 'full' })).headers.get('location') as string)
    expect(scope.searchParams.get('error')).toBe('invalid_scope')
  })

  it('refreshes an expired session transparently in jsforce, and counts the refresh', async () => {
    const t = await tokenFor(org.orgId)
    const conn = new Connection({
      oauth2: { loginUrl: sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI },
      instanceUrl: sim.url, accessToken: t.access_token, refreshToken: t.refresh_token as string, version: '62.0',
    })
    const refreshed: string[] = []
    conn.on('refresh', (accessToken: string) => refreshed.push(accessToken))
    const before = sim.stats().orgs[org.orgId]?.tokenRefreshes ?? 0

    sim.expireAccessTokens(org.orgId)
    const expired = await api('/limits', t.access_token)
    expect(expired.status).toBe(401)
    expect(await expired.json()).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }])
    expect(expired.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/100000$/)

    const result = await conn.query('SELECT Id FROM Lead LIMIT 1')
    expect(result.totalSize).toBe(1)
    expect(refreshed).toHaveLength(1)
    expect(conn.accessToken).toBe(refreshed[0])
    expect(conn.refreshToken).toBe(t.refresh_token) // not rotated by default
    expect(sim.stats().orgs[org.orgId]?.tokenRefreshes).toBe(before + 1)
    token = conn.accessToken as string // every session of the org was expired, the shared one too
  })

  it('answers invalid_grant when refresh is made to fail, and after revoke', async () => {
    const oauth2 = new OAuth2({ loginUrl: sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI })
    const t = await tokenFor(org.orgId)
    sim.failRefresh({ orgId: org.orgId, times: 1 })
    await expect(oauth2.refreshToken(t.refresh_token as string)).rejects.toMatchObject({ name: 'invalid_grant', message: 'expired access/refresh token' })
    const renewed = await oauth2.refreshToken(t.refresh_token as string)
    expect(renewed.access_token).toBeTruthy()
    expect(renewed.refresh_token).toBeUndefined()

    await oauth2.revokeToken(t.refresh_token as string)
    await expect(oauth2.refreshToken(t.refresh_token as string)).rejects.toMatchObject({ name: 'invalid_grant' })
    expect((await api('/limits', renewed.access_token)).status).toBe(401) // sessions of a revoked refresh token die too
    const unknown = await fetch(`${sim.url}/services/oauth2/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=nope' })
    expect(unknown.status).toBe(400)
  })

  it('rotates refresh tokens when configured to', async () => {
    const oauth2 = new OAuth2({ loginUrl: sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI })
    const t = await tokenFor(org.orgId)
    sim.setRotateRefreshTokens(true)
    try {
      const rotated = await oauth2.refreshToken(t.refresh_token as string)
      expect(rotated.refresh_token).toBeTruthy()
      expect(rotated.refresh_token).not.toBe(t.refresh_token)
      await expect(oauth2.refreshToken(t.refresh_token as string)).rejects.toMatchObject({ name: 'invalid_grant' })
    } finally {
      sim.setRotateRefreshTokens(false)
    }
  })

  it('serves the identity URL (Bearer or oauth_token) and userinfo, and 403 Bad_OAuth_Token for a bad token', async () => {
    const identity = await fetch(org.identityUrl, { headers: { authorization: `Bearer ${token}` } })
    expect(identity.status).toBe(200)
    const doc = await json(identity)
    expect(doc).toMatchObject({ id: org.identityUrl, organization_id: org.orgId, user_id: org.userId, username: org.username })
    expect(doc.urls.rest).toBe(`${sim.url}/services/data/v{version}/`)
    expect(doc.urls.query).toBe(`${sim.url}/services/data/v{version}/query/`)

    const viaJsforce = await connection().identity()
    expect(viaJsforce.organization_id).toBe(org.orgId)

    const bad = await fetch(org.identityUrl, { headers: { authorization: 'Bearer nope' } })
    expect(bad.status).toBe(403)
    expect(await bad.text()).toBe('Bad_OAuth_Token')

    const userinfo = await json(await fetch(`${sim.url}/services/oauth2/userinfo`, { headers: { authorization: `Bearer ${token}` } }))
    expect(userinfo).toMatchObject({ organization_id: org.orgId, user_id: org.userId, preferred_username: org.username })
  })
})

describe('SOQL query', () => {
  it('pages every record exactly once through nextRecordsUrl (jsforce queryMore)', async () => {
    const conn = connection()
    let page = await conn.query<{ Id: string }>('SELECT Id, MobilePhone FROM Contact')
    expect(page.totalSize).toBe(5000)
    expect(page.records).toHaveLength(2000)
    expect(page.done).toBe(false)
    expect(page.nextRecordsUrl).toMatch(/\/services\/data\/v62\.0\/query\/01g[A-Za-z0-9]{15}-2000$/) // jsforce makes it absolute
    const ids = page.records.map((r) => r.Id)
    while (!page.done) {
      page = await conn.queryMore<{ Id: string }>(page.nextRecordsUrl as string)
      ids.push(...page.records.map((r) => r.Id))
    }
    expect(ids).toHaveLength(5000)
    expect(new Set(ids).size).toBe(5000)
    expect(new Set(ids)).toEqual(new Set(sim.records(org.orgId, 'Contact').map((c) => c.Id)))
  })

  it('honours Sforce-Query-Options batchSize within 200..2000', async () => {
    const page = await json(await api(q('SELECT Id FROM Contact'), token, { headers: { 'Sforce-Query-Options': 'batchSize=500' } }))
    expect(page.records).toHaveLength(500)
    expect(page.nextRecordsUrl).toMatch(/-500$/)
    const clamped = await json(await api(q('SELECT Id FROM Contact'), token, { headers: { 'Sforce-Query-Options': 'batchSize=10' } }))
    expect(clamped.records).toHaveLength(200)
    const next = await json(await api(page.nextRecordsUrl.replace('/services/data/v62.0', '')))
    expect(next.records).toHaveLength(500)
    expect(next.records[0].Id).not.toBe(page.records[0].Id)
    const bogus = await api('/query/01gXXXXXXXXXXXXXXX-2000')
    expect(bogus.status).toBe(400)
    expect((await json(bogus))[0].errorCode).toBe('INVALID_QUERY_LOCATOR')
  })

  it('filters, sorts and limits (WHERE / ORDER BY / LIMIT)', async () => {
    const soql = "SELECT Id, LastName, MobilePhone, WhatsApp_Opt_In__c, SystemModstamp FROM Contact WHERE MobilePhone != null AND WhatsApp_Opt_In__c = true AND (LastName LIKE 'S%' OR LastName IN ('Müller', 'Patel')) ORDER BY LastName DESC, Id LIMIT 150"
    const res = await json(await api(q(soql)))
    const expected = sim.records(org.orgId, 'Contact', (c) =>
      c.MobilePhone !== null && c.WhatsApp_Opt_In__c === true && (/^s/i.test(String(c.LastName)) || ['müller', 'patel'].includes(String(c.LastName).toLowerCase())))
    expect(expected.length).toBeGreaterThan(150)
    expect(res.totalSize).toBe(150)
    expect(res.done).toBe(true)
    const names = res.records.map((r: { LastName: string }) => r.LastName.toLowerCase())
    expect(names).toEqual([...names].sort().reverse())
    for (const r of res.records) {
      expect(r.MobilePhone).not.toBeNull()
      expect(r.WhatsApp_Opt_In__c).toBe(true)
      expect(r.SystemModstamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/)
      expect(Object.keys(r)).toEqual(['attributes', 'Id', 'LastName', 'MobilePhone', 'WhatsApp_Opt_In__c', 'SystemModstamp'])
    }
    const count = await json(await api(q('SELECT COUNT() FROM Contact WHERE WhatsApp_Opt_In__c = true')))
    expect(count).toEqual({ totalSize: sim.records(org.orgId, 'Contact', (c) => c.WhatsApp_Opt_In__c === true).length, done: true, records: [] })
  })

  it('compares datetimes with unquoted literals only', async () => {
    const cutoff = new Date(START.getTime() - 10 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    const res = await json(await api(q(`SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp > ${cutoff} ORDER BY SystemModstamp`)))
    const expected = sim.records(org.orgId, 'Contact', (c) => Date.parse(String(c.SystemModstamp).replace('+0000', 'Z')) > Date.parse(cutoff))
    expect(res.totalSize).toBe(expected.length)
    expect(res.totalSize).toBeGreaterThan(0)
    const quoted = await api(q(`SELECT Id FROM Contact WHERE SystemModstamp > '${cutoff}'`))
    expect(quoted.status).toBe(400)
    const [error] = await json(quoted)
    expect(error.errorCode).toBe('INVALID_FIELD')
    expect(error.message).toContain("must be of type dateTime and should not be enclosed in quotes")
  })

  it('returns CampaignMember relationship fields nested like Salesforce', async () => {
    const campaign = seeded.campaigns[0] as { id: string; members: number }
    const conn = connection()
    const res = await conn.query<any>(`SELECT Id, CampaignId, ContactId, LeadId, Status, Contact.MobilePhone, Contact.Phone, Lead.MobilePhone FROM CampaignMember WHERE CampaignId = '${campaign.id}'`)
    expect(res.totalSize).toBe(1200)
    const contactMember = res.records.find((r) => r.ContactId)
    const leadMember = res.records.find((r) => r.LeadId)
    const contact = sim.getRecord(org.orgId, contactMember.ContactId) as Record<string, unknown>
    expect(contactMember.Contact).toEqual({
      attributes: { type: 'Contact', url: `/services/data/v62.0/sobjects/Contact/${contactMember.ContactId}` },
      MobilePhone: contact.MobilePhone,
      Phone: contact.Phone,
    })
    expect(contactMember.Lead).toBeNull()
    expect(leadMember.Contact).toBeNull()
    expect(leadMember.Lead.attributes.type).toBe('Lead')
    expect(res.records.filter((r) => r.LeadId)).toHaveLength(300)

    const semiJoin = await conn.query(`SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM CampaignMember WHERE CampaignId = '${campaign.id}')`)
    expect(semiJoin.totalSize).toBe(900)
    const byRelationship = await conn.query(`SELECT Id FROM CampaignMember WHERE CampaignId = '${campaign.id}' AND Contact.MobilePhone != null`)
    expect(byRelationship.totalSize).toBe(res.records.filter((r) => r.Contact?.MobilePhone).length)
  })

  it('rejects unknown fields and objects and malformed SOQL with Salesforce error codes', async () => {
    const unknown = await api(q('SELECT Id, Foo__c FROM Contact'))
    expect(unknown.status).toBe(400)
    const [error] = await json(unknown)
    expect(error.errorCode).toBe('INVALID_FIELD')
    expect(error.message).toContain("No such column 'Foo__c' on entity 'Contact'")
    expect(error.message).toContain('ERROR at Row:1:Column:12')
    await expect(connection().query('SELECT Id, Contact.Nope FROM CampaignMember')).rejects.toMatchObject({ errorCode: 'INVALID_FIELD' })
    expect((await json(await api(q('SELECT Id FROM Contacts'))))[0].errorCode).toBe('INVALID_TYPE')
    expect((await json(await api(q('SELECT Id FROM Contact WHERE LastName = 1 AND FirstName = 2 OR Id = null'))))[0].errorCode).toBe('MALFORMED_QUERY')
    expect((await json(await api(q('SELECT Id FROM Contact WHERE'))))[0].errorCode).toBe('MALFORMED_QUERY')
    expect((await json(await api(q("SELECT Id FROM Contact WHERE Id = 'abc'"))))[0].errorCode).toBe('INVALID_QUERY_FILTER_OPERATOR')
  })
})

describe('API limits', () => {
  it('sends Sforce-Limit-Info on every REST response and counts each call', async () => {
    const first = await api('/limits')
    const second = await api(q('SELECT Id FROM Contact LIMIT 1'))
    const used = (r: Response) => Number(/api-usage=(\d+)\/100000/.exec(r.headers.get('sforce-limit-info') ?? '')?.[1])
    expect(used(second)).toBe(used(first) + 1)
    const limits = await json(first)
    expect(limits.DailyApiRequests).toEqual({ Max: 100_000, Remaining: 100_000 - used(first) })
    const failed = await api(q('SELECT Nope FROM Contact'))
    expect(used(failed)).toBe(used(second) + 1)
    const conn = connection()
    await conn.query('SELECT Id FROM Contact LIMIT 1')
    expect(conn.limitInfo.apiUsage?.used).toBe(used(failed) + 1)
  })

  it('answers 403 REQUEST_LIMIT_EXCEEDED at the daily limit, until the rolling window frees capacity', async () => {
    const small = sim.createOrg({ dailyApiLimit: 5 })
    const t = (await tokenFor(small.orgId)).access_token
    for (let i = 0; i < 5; i++) expect((await api('/limits', t)).status).toBe(200)
    const refused = await api('/limits', t)
    expect(refused.status).toBe(403)
    expect(await refused.json()).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }])
    expect(refused.headers.get('sforce-limit-info')).toBe('api-usage=5/5')
    sim.clock.advance(25 * 3_600_000)
    try {
      expect((await api('/limits', (await tokenFor(small.orgId)).access_token)).status).toBe(200)
    } finally {
      sim.clock.advance(-25 * 3_600_000)
    }
    sim.setApiUsage(small.orgId, 5)
    expect((await api('/limits', t)).status).toBe(403)
  })
})

describe('sObject Collections and Tasks', () => {
  const task = (n: number, whoId: string, extra: Record<string, unknown> = {}) => ({
    WhatsApp_Message_Id__c: `wamid.HBgLMTU1NTAwMDAwMDAVAgARGBI${n}==`, WhoId: whoId, Subject: `WhatsApp: delivered "Spring promo" #${n}`,
    Status: 'Completed', Priority: 'Normal', TaskSubtype: 'Task', ...extra,
  })

  it('upserts Tasks by external id idempotently with jsforce', async () => {
    const contacts = sim.records(org.orgId, 'Contact').slice(0, 3).map((c) => c.Id as string)
    const conn = connection()
    const records = contacts.map((id, i) => task(i, id))
    const first = await conn.sobject('Task').upsert(records, 'WhatsApp_Message_Id__c')
    expect(first.map((r) => [r.success, (r as { created?: boolean }).created])).toEqual([[true, true], [true, true], [true, true]])
    const again = await conn.sobject('Task').upsert(records.map((r) => ({ ...r, Description: 'read at 12:01' })), 'WhatsApp_Message_Id__c')
    expect(again.map((r) => (r as { created?: boolean }).created)).toEqual([false, false, false])
    expect(again.map((r) => r.id)).toEqual(first.map((r) => r.id))
    const written = sim.tasks(org.orgId, contacts[0])
    expect(written).toHaveLength(1)
    expect(written[0]).toMatchObject({ Description: 'read at 12:01', IsClosed: true, Status: 'Completed', WhoId: contacts[0] })
    expect(written[0]?.CompletedDateTime).toMatch(/\+0000$/)
  })

  it('reports per-record validation errors in request order', async () => {
    const contact = sim.records(org.orgId, 'Contact')[10]?.Id as string
    const lead = sim.records(org.orgId, 'Lead')[0]?.Id as string
    const results = await connection().sobject('Task').upsert([
      task(100, contact),
      task(101, '003000000000000AAA'),
      task(102, lead, { Subject: 'x'.repeat(256) }),
      task(103, lead, { Status: 'Bogus' }),
      task(104, seeded.campaigns[0]?.id as string),
      task(105, lead),
    ], 'WhatsApp_Message_Id__c')
    expect(results.map((r) => r.success)).toEqual([true, false, false, false, false, true])
    const codes = results.map((r) => (r as { errors: { statusCode: string }[] }).errors[0]?.statusCode)
    expect(codes).toEqual([undefined, 'INVALID_CROSS_REFERENCE_KEY', 'STRING_TOO_LONG', 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', 'FIELD_INTEGRITY_EXCEPTION', undefined])
    expect(sim.tasks(org.orgId, lead)).toHaveLength(1)

    // The external id is unique: a plain insert reusing it fails, and so do duplicates within one upsert.
    const insert = await json(await api('/composite/sobjects', token, {
      method: 'POST', body: JSON.stringify({ records: [{ attributes: { type: 'Task' }, ...task(100, contact) }] }),
    }))
    expect(insert[0]).toMatchObject({ success: false, errors: [{ statusCode: 'DUPLICATE_VALUE' }] })
    const twice = await connection().sobject('Task').upsert([task(300, lead), task(300, lead)], 'WhatsApp_Message_Id__c')
    expect(twice.map((r) => (r as { errors: { statusCode: string }[] }).errors[0]?.statusCode)).toEqual(['DUPLICATE_EXTERNAL_ID', 'DUPLICATE_EXTERNAL_ID'])
  })

  it('rolls back everything with allOrNone', async () => {
    const contact = sim.records(org.orgId, 'Contact')[20]?.Id as string
    const res = await api('/composite/sobjects/Task/WhatsApp_Message_Id__c', token, {
      method: 'PATCH',
      body: JSON.stringify({ allOrNone: true, records: [{ attributes: { type: 'Task' }, ...task(200, contact) }, { attributes: { type: 'Task' }, ...task(201, contact, { Status: 'Nope' }) }] }),
    })
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body[0].errors[0].statusCode).toBe('ALL_OR_NONE_OPERATION_ROLLED_BACK')
    expect(body[1].errors[0].statusCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST')
    expect(sim.tasks(org.orgId, contact)).toHaveLength(0)
  })

  it('rejects more than 200 records per collection request', async () => {
    const contact = sim.records(org.orgId, 'Contact')[30]?.Id as string
    const records = Array.from({ length: 201 }, (_, i) => ({ attributes: { type: 'Task' }, ...task(1000 + i, contact) }))
    const res = await api('/composite/sobjects/Task/WhatsApp_Message_Id__c', token, { method: 'PATCH', body: JSON.stringify({ allOrNone: false, records }) })
    expect(res.status).toBe(400)
    expect((await json(res))[0].errorCode).toBe('EXCEEDED_ID_LIMIT')
    await expect(connection().sobject('Task').upsert(records, 'WhatsApp_Message_Id__c')).rejects.toMatchObject({ errorCode: 'EXCEEDED_ID_LIMIT' })
    expect(sim.tasks(org.orgId, contact)).toHaveLength(0)
    const created = await connection().sobject('Task').upsert(records, 'WhatsApp_Message_Id__c', { allowRecursive: true })
    expect(created).toHaveLength(201)
    expect(sim.tasks(org.orgId, contact)).toHaveLength(201)
  })

  it('updates records by id with jsforce and bumps SystemModstamp', async () => {
    const [a, b] = sim.records(org.orgId, 'Contact').slice(40, 42)
    sim.clock.advance(60_000)
    const results = await connection().sobject('Contact').update([
      { Id: a?.Id as string, WhatsApp_Opt_In__c: false, HasOptedOutOfEmail: true },
      { Id: b?.Id as string, MobilePhone: '+14155550123' },
    ])
    expect(results.every((r) => r.success)).toBe(true)
    const after = sim.getRecord(org.orgId, a?.Id as string) as Record<string, unknown>
    expect(after).toMatchObject({ WhatsApp_Opt_In__c: false, HasOptedOutOfEmail: true })
    expect(Date.parse(String(after.SystemModstamp).replace('+0000', 'Z'))).toBeGreaterThan(Date.parse(String(a?.SystemModstamp).replace('+0000', 'Z')))
    const bad = await connection().sobject('Contact').update([{ Id: a?.Id as string, Email: 'not-an-email' }])
    expect(bad[0]).toMatchObject({ success: false, errors: [{ statusCode: 'INVALID_EMAIL_ADDRESS' }] })
    await expect(connection().sobject('Contact').update([{ Id: a?.Id as string, Nope__c: 1 }])).rejects.toMatchObject({ errorCode: 'INVALID_FIELD' })
  })

  it('supports single-record create, read, update, upsert and delete', async () => {
    const created = await api('/sobjects/Contact', token, { method: 'POST', body: JSON.stringify({ LastName: 'Ng', MobilePhone: '+447700900123' }) })
    expect(created.status).toBe(201)
    const { id } = await json(created)
    const read = await json(await api(`/sobjects/Contact/${id}`))
    expect(read).toMatchObject({ attributes: { type: 'Contact' }, Id: id, LastName: 'Ng', Name: 'Ng', WhatsApp_Opt_In__c: false, OwnerId: org.userId })
    expect((await api(`/sobjects/Contact/${id}`, token, { method: 'PATCH', body: JSON.stringify({ FirstName: 'Li' }) })).status).toBe(204)
    expect((await json(await api(`/sobjects/Contact/${id}?fields=Name`))).Name).toBe('Li Ng')
    const missingName = await api('/sobjects/Contact', token, { method: 'POST', body: JSON.stringify({ FirstName: 'X' }) })
    expect(missingName.status).toBe(400)
    expect(await json(missingName)).toEqual([{ message: 'Required fields are missing: [LastName]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['LastName'] }])

    const upsert = (status: string) => api('/sobjects/Task/WhatsApp_Message_Id__c/wamid.single-1', token, { method: 'PATCH', body: JSON.stringify({ WhoId: id, Subject: 'hi', Status: status }) })
    const u1 = await upsert('In Progress')
    expect(u1.status).toBe(201)
    const u2 = await upsert('Completed')
    expect(u2.status).toBe(200)
    expect(await json(u2)).toMatchObject({ success: true, created: false, id: (await json(u1)).id })

    expect((await api(`/sobjects/Contact/${id}`, token, { method: 'DELETE' })).status).toBe(204)
    const gone = await api(`/sobjects/Contact/${id}`)
    expect(gone.status).toBe(404)
    expect(await json(gone)).toEqual([{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }])
    expect(sim.tasks(org.orgId, id)).toHaveLength(0) // activities go with the contact
  })

  it('describes objects including custom fields', async () => {
    const contact = await json(await api('/sobjects/Contact/describe'))
    expect(contact.fields.find((f: { name: string }) => f.name === 'WhatsApp_Opt_In__c')).toMatchObject({ type: 'boolean', custom: true, updateable: true })
    const taskDescribe = await connection().describe('Task')
    expect(taskDescribe.fields.find((f) => f.name === 'WhatsApp_Message_Id__c')).toMatchObject({ externalId: true, unique: true, length: 255 })
    expect(taskDescribe.fields.find((f) => f.name === 'WhoId')?.referenceTo).toEqual(['Contact', 'Lead'])
  })
})

describe('list views and reports', () => {
  it('lists, describes and runs list views', async () => {
    const list = await json(await api('/sobjects/Contact/listviews'))
    expect(list.listviews.map((lv: { developerName: string }) => lv.developerName)).toEqual(['AllContacts', 'MyContacts', 'WhatsApp_Opted_In'])
    const view = list.listviews[2]
    expect(view).toMatchObject({ label: 'WhatsApp Opted In', soqlCompatible: true, describeUrl: `/services/data/v62.0/sobjects/Contact/listviews/${view.id}/describe` })
    const described = await json(await api(`/sobjects/Contact/listviews/${view.id}/describe`))
    expect(described.query).toBe('SELECT Name, MobilePhone, Email, Id, CreatedDate, LastModifiedDate, SystemModstamp FROM Contact WHERE WhatsApp_Opt_In__c = true ORDER BY Name ASC NULLS FIRST, Id ASC NULLS FIRST')
    expect(described.columns.map((c: { fieldNameOrPath: string; hidden: boolean }) => [c.fieldNameOrPath, c.hidden])).toEqual([
      ['Name', false], ['MobilePhone', false], ['Email', false], ['Id', true], ['CreatedDate', true], ['LastModifiedDate', true], ['SystemModstamp', true],
    ])
    const viaQuery = await connection().query<{ Id: string }>(described.query)
    const optedIn = sim.records(org.orgId, 'Contact', (c) => c.WhatsApp_Opt_In__c === true).length
    expect(viaQuery.totalSize).toBe(optedIn)

    const results = await json(await api(`/sobjects/Contact/listviews/${view.id}/results?limit=10&offset=5`))
    expect(results.size).toBe(10)
    expect(results.done).toBe(false)
    expect(results.records[0].columns.map((c: { fieldNameOrPath: string }) => c.fieldNameOrPath)).toEqual(described.columns.map((c: { fieldNameOrPath: string }) => c.fieldNameOrPath))
    const sixthId = results.records[0].columns.find((c: { fieldNameOrPath: string }) => c.fieldNameOrPath === 'Id').value
    expect(sixthId).toBe(viaQuery.records[5]?.Id)
    expect((await api('/sobjects/Contact/listviews/00B000000000000AAA/describe')).status).toBe(404)
  })

  it('runs reports capped at 2,000 rows, with filters and describe', async () => {
    const reportId = seeded.reports[0]?.id as string
    const run = await connection().analytics.report(reportId).execute({ details: true })
    const fact = run.factMap['T!T'] as { rows: { dataCells: { label: string; value: unknown }[] }[]; aggregates: { value: number }[] }
    expect(run.allData).toBe(false)
    expect(fact.rows).toHaveLength(2000)
    expect(fact.aggregates[0]?.value).toBe(sim.records(org.orgId, 'Contact').length)
    expect(run.reportMetadata.detailColumns).toEqual(['CONTACT_ID', 'FIRST_NAME', 'LAST_NAME', 'EMAIL', 'PHONE1', 'PHONE3', 'Contact.WhatsApp_Opt_In__c'])
    const firstRow = fact.rows[0]?.dataCells.map((c) => c.value)
    const firstContact = sim.getRecord(org.orgId, firstRow?.[0] as string)
    expect(firstRow?.[5]).toBe(firstContact?.MobilePhone)

    const filtered = await api(`/analytics/reports/${reportId}?includeDetails=true`, token, {
      method: 'POST',
      body: JSON.stringify({ reportMetadata: { reportFilters: [{ column: 'Contact.WhatsApp_Opt_In__c', operator: 'equals', value: 'true' }, { column: 'LAST_NAME', operator: 'startsWith', value: 'S' }] } }),
    })
    const body = await json(filtered)
    const expected = sim.records(org.orgId, 'Contact', (c) => c.WhatsApp_Opt_In__c === true && /^s/i.test(String(c.LastName))).length
    expect(body.allData).toBe(true)
    expect(body.factMap['T!T'].rows).toHaveLength(expected)

    const summaryOnly = await json(await api(`/analytics/reports/${reportId}?includeDetails=false`))
    expect(summaryOnly.factMap['T!T'].rows).toBeUndefined()
    const describe = await json(await api(`/analytics/reports/${reportId}/describe`))
    expect(describe.reportMetadata.reportFormat).toBe('TABULAR')
    expect((await api('/analytics/reports/00O000000000000AAA')).status).toBe(404)
  })
})

describe('change tracking and data', () => {
  it('reports mutated records through Get Updated and removed members through Get Deleted', async () => {
    const other = sim.createOrg({})
    sim.seed({ orgId: other.orgId, contacts: 2000, campaigns: [{ name: 'C', size: 800, leadShare: 0 }], seed: 3 })
    const t = (await tokenFor(other.orgId)).access_token
    sim.clock.advance(10 * 60_000)
    const start = new Date(sim.clock.now())
    const changes = sim.mutate({ orgId: other.orgId, fraction: 0.1 })
    expect(changes.changedIds.length).toBeGreaterThan(100)
    sim.clock.advance(2 * 60_000)
    const end = new Date(sim.clock.now())

    const updated = await connection(t).sobject('Contact').updated(start, end)
    expect(new Set(updated.ids)).toEqual(new Set(changes.changedIds.filter((id) => id.startsWith('003'))))
    expect(updated.latestDateCovered).toBe(new Date(Math.floor(end.getTime() / 60_000) * 60_000).toISOString().replace('Z', '+0000'))
    const deleted = await json(await api(`/sobjects/CampaignMember/deleted/?start=${encodeURIComponent(start.toISOString())}&end=${encodeURIComponent(end.toISOString())}`, t))
    expect(deleted.deletedRecords.map((d: { id: string }) => d.id).sort()).toEqual([...changes.membersRemoved].sort())
    const tooOld = await api(`/sobjects/Contact/updated/?start=${encodeURIComponent(new Date(start.getTime() - 40 * 86_400_000).toISOString())}&end=${encodeURIComponent(end.toISOString())}`, t)
    expect(tooOld.status).toBe(400)
    expect((await json(tooOld))[0].errorCode).toBe('INVALID_REPLICATION_DATE')
  })

  it('seeds deterministically with realistic, mixed phone formats', () => {
    const a = sim.createOrg({})
    const b = sim.createOrg({})
    sim.seed({ orgId: a.orgId, contacts: 3000, seed: 99 })
    sim.seed({ orgId: b.orgId, contacts: 3000, seed: 99 })
    const pick = (orgId: string) => sim.records(orgId, 'Contact').map((c) => [c.FirstName, c.LastName, c.Email, c.MobilePhone, c.Phone, c.WhatsApp_Opt_In__c])
    expect(pick(a.orgId)).toEqual(pick(b.orgId))

    const contacts = sim.records(a.orgId, 'Contact')
    const mobiles = contacts.map((c) => c.MobilePhone as string | null)
    const share = (test: (m: string) => boolean) => mobiles.filter((m) => m !== null && test(m)).length / mobiles.length
    expect(mobiles.filter((m) => m === null).length / mobiles.length).toBeGreaterThan(0.05)
    expect(share((m) => /^\+\d{8,15}$/.test(m))).toBeGreaterThan(0.15)
    expect(share((m) => m.startsWith('00'))).toBeGreaterThan(0.05)
    expect(share((m) => /[()]/.test(m))).toBeGreaterThan(0.01)
    expect(share((m) => /^0[1-9]/.test(m))).toBeGreaterThan(0.02)
    expect(mobiles.some((m) => m === '555-CALL-NOW' || m === '12345')).toBe(true)
    expect(mobiles.some((m) => m?.startsWith('+52 1 '))).toBe(true)

    const countryCodes: Record<string, CountryCode> = { 'United States': 'US', 'United Kingdom': 'GB', Germany: 'DE', Brazil: 'BR', Mexico: 'MX', Argentina: 'AR', India: 'IN' }
    const withCountry = contacts.filter((c) => c.MobilePhone && countryCodes[String(c.MailingCountry)])
    const valid = withCountry.filter((c) => parsePhoneNumberFromString(String(c.MobilePhone), countryCodes[String(c.MailingCountry)])?.isValid())
    expect(valid.length / withCountry.length).toBeGreaterThan(0.65)
    expect(valid.length / withCountry.length).toBeLessThan(0.95)
    expect(new Set(contacts.map((c) => c.MailingCountry)).size).toBeGreaterThanOrEqual(8)
  })

  it('seeds 100,000 contacts in a couple of seconds and queries them fast', async () => {
    const big = sim.createOrg({})
    const started = performance.now()
    sim.seed({ orgId: big.orgId, contacts: 100_000 })
    expect(performance.now() - started).toBeLessThan(2500)
    const t = (await tokenFor(big.orgId)).access_token
    const queryStart = performance.now()
    const page = await json(await api(q('SELECT Id, FirstName, MobilePhone, WhatsApp_Opt_In__c FROM Contact WHERE MobilePhone != null ORDER BY SystemModstamp'), t))
    expect(performance.now() - queryStart).toBeLessThan(1000)
    expect(page.records).toHaveLength(2000)
    expect(page.totalSize).toBeGreaterThan(80_000)
  })
})

describe('fault injection, stats and /_sim control', () => {
  it('fails the next matching requests, per record too, and adds latency', async () => {
    sim.failNext({ route: 'query', status: 503, times: 2 })
    expect((await api(q('SELECT Id FROM Contact LIMIT 1'))).status).toBe(503)
    const second = await api(q('SELECT Id FROM Contact LIMIT 1'))
    expect(second.status).toBe(503)
    expect((await json(second))[0].errorCode).toBe('SERVER_UNAVAILABLE')
    expect(second.headers.get('sforce-limit-info')).toBeTruthy()
    expect((await api(q('SELECT Id FROM Contact LIMIT 1'))).status).toBe(200)

    const contact = sim.records(org.orgId, 'Contact')[50]?.Id as string
    sim.failNextRecords({ statusCode: 'UNABLE_TO_LOCK_ROW' })
    const results = await connection().sobject('Task').upsert([1, 2].map((n) => ({ WhatsApp_Message_Id__c: `wamid.lock-${n}`, WhoId: contact, Status: 'Completed' })), 'WhatsApp_Message_Id__c')
    expect(results.map((r) => r.success)).toEqual([false, true])
    expect((results[0] as { errors: { statusCode: string }[] }).errors[0]?.statusCode).toBe('UNABLE_TO_LOCK_ROW')

    sim.failNext({ route: 'oauth.token', status: 400 })
    await expect(new OAuth2({ loginUrl: sim.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI }).refreshToken('whatever')).rejects.toMatchObject({ name: 'invalid_grant' })

    sim.setLatency({ route: 'limits', ms: 120 })
    const started = performance.now()
    await api('/limits')
    expect(performance.now() - started).toBeGreaterThanOrEqual(110)
    sim.clearFaults()
  })

  it('counts calls per endpoint', async () => {
    sim.resetStats()
    await api('/limits')
    await api(q('SELECT Id FROM Contact LIMIT 1'))
    await api('/limits', 'bad-token')
    const stats = sim.stats()
    expect(stats.total).toBe(3)
    expect(stats.byEndpoint).toEqual({ limits: 2, query: 1 })
    expect(stats.orgs[org.orgId]).toMatchObject({ calls: 2, byEndpoint: { limits: 1, query: 1 } })
    expect(stats.orgs[org.orgId]?.apiUsage.max).toBe(100_000)
  })

  it('exposes the control API over HTTP under /_sim', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${sim.url}/_sim${path}`, { method, ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) })
      return { status: res.status, body: await res.json() as any }
    }
    expect((await call('GET', '/health')).body).toEqual({ ok: true, url: sim.url })
    const created = await call('POST', '/orgs', { dailyApiLimit: 1000 })
    expect(created.status).toBe(201)
    const orgId = created.body.orgId as string
    const seededHttp = await call('POST', `/orgs/${orgId}/seed`, { contacts: 50, campaigns: [{ name: 'HTTP', size: 10 }] })
    expect(seededHttp.body).toMatchObject({ contacts: 50, campaigns: [{ name: 'HTTP', members: 10 }] })
    const { body: { code } } = await call('POST', '/authorization-codes', { clientId: CLIENT_ID, redirectUri: REDIRECT_URI, orgId })
    expect(code).toBeTruthy()
    expect((await call('POST', '/faults', { route: 'limits', status: 500 })).status).toBe(201)
    expect((await call('POST', '/faults', { route: 'nope', status: 500 })).status).toBe(400)
    expect((await call('DELETE', '/faults')).body).toEqual({ ok: true })
    expect((await call('POST', `/orgs/${orgId}/mutate`, { fraction: 0.2 })).body.changedIds.length).toBeGreaterThan(0)
    expect((await call('GET', `/orgs/${orgId}/records/contact?limit=5`)).body).toHaveLength(5)
    expect((await call('GET', '/stats')).body.orgs[orgId].records.Contact).toBe(50)
    expect((await call('POST', '/orgs/00D000000000000AAA/seed', { contacts: 1 })).status).toBe(404)
  })
})
