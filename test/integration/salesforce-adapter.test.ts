import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { CrmRecord, EngagementEvent, MemberPage, SegmentSourceRef, TokenSource } from '../../crm-adapters/crm-adapter.ts'
import { SalesforceAdapter } from '../../crm-adapters/salesforce/salesforce-adapter.ts'
import { loadManifest, salesforceMessageIdField } from '../../connector/manifest/manifest.ts'
import {
  authorizationUrl, exchangeCode, loginHostFor, refreshAccessToken, revokeToken, type SalesforceInstallTokens,
} from '../../crm-adapters/salesforce/salesforce-oauth.ts'
import { startSalesforceSimulator, type OrgInfo, type SalesforceSimulator, type SeedResult } from '../simulators/salesforce/salesforce-simulator.ts'

// The Salesforce adapter end to end against the simulator: OAuth install with PKCE, every segment
// source streamed with call counts checked against the simulator's own, Task and consent writes
// read back, Sforce-Limit-Info, session expiry and the daily-limit guard.

const CLIENT_ID = 'wa-connector'
const CLIENT_SECRET = 'wa-connector-secret'
const REDIRECT_URI = 'http://127.0.0.1:3000/oauth/salesforce/callback'
const PROPERTIES = ['MobilePhone', 'FirstName', 'WhatsApp_Opt_In__c']
// What the connector gives the adapter (services.ts providersFor): manifest.json's API version and fields.
const manifest = loadManifest()
const FIELDS = { optIn: manifest.salesforce.consentField, optInDate: manifest.salesforce.consentDateField, messageId: salesforceMessageIdField(manifest) }

let sim: SalesforceSimulator
let org: OrgInfo
let seeded: SeedResult
let loginUrl: string
let install: SalesforceInstallTokens

beforeAll(async () => {
  sim = await startSalesforceSimulator()
  sim.registerConnectedApp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackUrls: [REDIRECT_URI] })
  org = sim.createOrg({
    dailyApiLimit: 50_000,
  })
  seeded = sim.seed({
    orgId: org.orgId,
    contacts: 1_000,
    leads: 1_500,
    campaigns: [{ name: 'Spring Promo', size: 2_300, leadShare: 0.6 }],
    listViews: [{ sobjectType: 'Contact', label: 'WhatsApp opted in', where: 'WhatsApp_Opt_In__c = true', columns: ['Name', 'Email', 'MobilePhone'] }],
    reports: [{ name: 'All WhatsApp Contacts', sobjectType: 'Contact' }],
  })
  loginUrl = loginHostFor('production', sim.url)

  // The install: authorize (auto-approved as the org's user), then exchange the code with the verifier.
  sim.setAutoApprove({ orgId: org.orgId })
  const { url, codeVerifier } = authorizationUrl({ loginUrl, clientId: CLIENT_ID, redirectUri: REDIRECT_URI, state: 'state-42' })
  const redirect = await fetch(url, { redirect: 'manual' })
  const callback = new URL(redirect.headers.get('location') ?? '')
  expect(callback.searchParams.get('state')).toBe('state-42')
  const code = callback.searchParams.get('code') ?? ''
  await expect(exchangeCode({ loginUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI, code, codeVerifier: 'not-the-verifier' }))
    .rejects.toMatchObject({ code: 'INVALID_GRANT' })
  install = await exchangeCode({ loginUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: REDIRECT_URI, code, codeVerifier })
})

afterAll(async () => {
  await sim?.close()
})

beforeEach(() => sim.resetStats())

/**
 * What the connector's token source does, minus encryption and locking: one stored access token
 * shared by every adapter, refreshed with the stored refresh token when Salesforce rejects it.
 */
let storedAccessToken = ''
const tokens: TokenSource = {
  accessToken: async () => storedAccessToken || install.accessToken,
  refreshAfterRejection: async (rejected) => {
    if (rejected === (storedAccessToken || install.accessToken)) {
      storedAccessToken = (await refreshAccessToken({ loginUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: install.refreshToken })).accessToken
    }
    return storedAccessToken
  },
}

function connect() {
  const calls: Array<{ endpoint: string; status: number | 'error' }> = []
  const usage: Array<{ used: number; max: number }> = []
  const adapter = new SalesforceAdapter({
    instanceUrl: install.instanceUrl,
    apiVersion: manifest.salesforce.apiVersion,
    fields: FIELDS,
    tokens,
    observer: { onCall: ({ endpoint, status }) => calls.push({ endpoint, status }), onApiUsage: (u) => usage.push(u) },
  })
  return { adapter, calls, usage }
}

async function stream(adapter: SalesforceAdapter, ref: SegmentSourceRef, cursor?: string): Promise<MemberPage[]> {
  const pages: MemberPage[] = []
  for await (const page of adapter.streamSegmentMembers(ref, { properties: PROPERTIES, ...(cursor ? { cursor } : {}) })) pages.push(page)
  return pages
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

const orgStats = () => sim.stats().orgs[org.orgId]
const countBy = (calls: Array<{ endpoint: string }>) => calls.reduce<Record<string, number>>((acc, c) => ({ ...acc, [c.endpoint]: (acc[c.endpoint] ?? 0) + 1 }), {})

/** The record as the simulator holds it, in the adapter's shape. */
function expected(id: string): CrmRecord['properties'] {
  const stored = sim.getRecord(org.orgId, id) ?? {}
  return Object.fromEntries(PROPERTIES.map((p) => [p, stored[p] === null || stored[p] === undefined ? null : String(stored[p])]))
}

function expectFaithful(records: CrmRecord[]) {
  for (const r of records) {
    expect(r.objectType).toBe(r.id.startsWith('003') ? 'contact' : 'lead')
    expect(r.properties).toEqual(expected(r.id))
  }
}

const campaignRef = () => ({ type: 'salesforce_campaign' as const, id: seeded.campaigns[0]?.id ?? '' })

describe('Salesforce adapter against the simulator', () => {
  it('installed through the web server flow with PKCE: tokens, org and user from the identity URL', () => {
    expect(install).toMatchObject({ instanceUrl: sim.url, orgId: org.orgId, userId: org.userId, identityUrl: org.identityUrl })
    expect(install.refreshToken).toBeTruthy()
    expect(install.scope.split(' ').sort()).toEqual(['api', 'id', 'refresh_token'])
  })

  it('lists and finds campaigns, list views and reports', async () => {
    const { adapter } = connect()
    const sources = await adapter.listSegmentSources()
    const campaign = seeded.campaigns[0]
    const listView = seeded.listViews[0]
    const report = seeded.reports[0]
    expect(sources).toEqual(expect.arrayContaining([
      { type: 'salesforce_campaign', id: campaign?.id, name: 'Spring Promo', size: 2_300 },
      { type: 'salesforce_list_view', id: `Contact:${listView?.id}`, name: 'WhatsApp opted in', objectType: 'Contact' },
      expect.objectContaining({ type: 'salesforce_list_view', name: 'All Open Leads', objectType: 'Lead' }),
      { type: 'salesforce_report', id: report?.id, name: 'All WhatsApp Contacts' },
    ]))
    expect(await adapter.listSegmentSources('spring')).toEqual([{ type: 'salesforce_campaign', id: campaign?.id, name: 'Spring Promo', size: 2_300 }])
    expect(await adapter.getSegmentSource({ type: 'salesforce_report', id: report?.id ?? '' })).toEqual({ type: 'salesforce_report', id: report?.id, name: 'All WhatsApp Contacts', objectType: 'Contact' })
    expect(await adapter.getSegmentSource({ type: 'salesforce_list_view', id: `Contact:${listView?.id}` })).toMatchObject({ name: 'WhatsApp opted in' })
  })

  it('streams a campaign of contacts and leads in 2,000-record pages; calls match the simulator', async () => {
    const { adapter, calls } = connect()
    const pages = await stream(adapter, campaignRef())
    const records = pages.flatMap((p) => p.records)
    expect(pages.map((p) => [p.records.length, p.calls, p.nextCursor === undefined])).toEqual([[2_000, 1, false], [300, 1, true]])
    expect(new Set(records.map((r) => r.id)).size).toBe(2_300)
    const members = sim.records(org.orgId, 'CampaignMember', (m) => m.CampaignId === campaignRef().id)
    expect(records.filter((r) => r.objectType === 'lead')).toHaveLength(members.filter((m) => m.LeadId).length)
    expectFaithful(records)
    expect(orgStats()?.byEndpoint).toEqual({ query: 1, queryMore: 1 })
    expect(countBy(calls)).toEqual({ query: 1, queryMore: 1 })
  })

  it('resumes a campaign from the first page\u2019s cursor, as after a restart', async () => {
    const { adapter } = connect()
    const all = (await stream(adapter, campaignRef())).flatMap((p) => p.records.map((r) => r.id))
    let first: MemberPage | undefined
    for await (const page of adapter.streamSegmentMembers(campaignRef(), { properties: PROPERTIES })) {
      first = page
      break
    }
    sim.resetStats()
    const rest = await stream(adapter, campaignRef(), first?.nextCursor)
    expect(rest.map((p) => p.records.length)).toEqual([300])
    expect([...(first?.records ?? []), ...rest.flatMap((p) => p.records)].map((r) => r.id)).toEqual(all)
    expect(orgStats()?.byEndpoint).toEqual({ queryMore: 1 })
  })

  it('streams a list view through its describe query', async () => {
    const { adapter } = connect()
    const pages = await stream(adapter, { type: 'salesforce_list_view', id: `Contact:${seeded.listViews[0]?.id}` })
    const records = pages.flatMap((p) => p.records)
    const optedIn = sim.records(org.orgId, 'Contact', (c) => c.WhatsApp_Opt_In__c === true)
    expect(records.map((r) => r.id).sort()).toEqual(optedIn.map((c) => String(c.Id)).sort())
    expectFaithful(records)
    expect(pages.map((p) => p.calls)).toEqual([2])
    expect(orgStats()?.byEndpoint).toEqual({ 'listview.describe': 1, query: 1 })
  })

  it('streams a report: one run, then its people read by id', async () => {
    const { adapter } = connect()
    const pages = await stream(adapter, { type: 'salesforce_report', id: seeded.reports[0]?.id ?? '' })
    const records = pages.flatMap((p) => p.records)
    expect(records).toHaveLength(1_000)
    expectFaithful(records)
    expect(pages.map((p) => p.calls)).toEqual([6])
    expect(orgStats()?.byEndpoint).toEqual({ 'report.run': 1, query: 5 })
  })

  it('refuses a report past the 2,000-row cap', async () => {
    const { adapter } = connect()
    const report = sim.addReport(org.orgId, { name: 'All Leads', sobjectType: 'Lead' })
    sim.seed({ orgId: org.orgId, leads: 600 })
    await expect(stream(adapter, { type: 'salesforce_report', id: report.id })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', platformCode: 'REPORT_ROW_LIMIT' })
    expect(orgStats()?.byEndpoint).toEqual({ 'report.run': 1 })
  })

  it('writes engagement twice for one message: one Task, updated', async () => {
    const { adapter, calls } = connect()
    const contactId = String(sim.records(org.orgId, 'Contact')[0]?.Id)
    const sent: EngagementEvent = {
      id: 'msg-7:sent', messageId: 'msg-7', recordId: contactId, objectType: 'contact', kind: 'sent', occurredAt: new Date('2025-03-01T10:00:00Z'),
      direction: 'outbound', templateName: 'spring_sale', businessNumber: '+1 555-078-3881', text: 'Hi! Our spring sale starts today.',
    }
    const read: EngagementEvent = { ...sent, id: 'msg-7:read', kind: 'read', occurredAt: new Date('2025-03-01T10:05:00Z'), text: undefined }
    expect(await adapter.writeEngagement([sent])).toEqual([{ id: 'msg-7:sent', ok: true }])
    expect(await adapter.writeEngagement([read])).toEqual([{ id: 'msg-7:read', ok: true }])
    expect(await adapter.writeEngagement([sent])).toEqual([{ id: 'msg-7:sent', ok: true }])

    const tasks = sim.tasks(org.orgId, contactId)
    expect(tasks).toHaveLength(1)
    expect(tasks[0]).toMatchObject({
      WhatsApp_Message_Id__c: 'msg-7', Subject: 'WhatsApp: read "spring_sale"', Status: 'Completed', TaskSubtype: 'Task', ActivityDate: '2025-03-01',
    })
    expect(String(tasks[0]?.Description)).toMatch(/^Status trail \(UTC\):\n2025-03-01 10:00:00 sent\n2025-03-01 10:05:00 read\n[\s\S]*Message:\nHi! Our spring sale starts today\.$/)
    expect(countBy(calls)).toEqual({ query: 3, 'collections.upsert': 3 })
  })

  it('writes consent and reads it back', async () => {
    const { adapter } = connect()
    const contact = sim.records(org.orgId, 'Contact', (c) => c.WhatsApp_Opt_In__c === true)[0]
    const lead = sim.records(org.orgId, 'Lead', (l) => l.WhatsApp_Opt_In__c === false)[0]
    const at = new Date('2025-03-02T09:30:00Z')
    const results = await adapter.writeConsent([
      { recordId: String(contact?.Id), objectType: 'contact', optedIn: false, occurredAt: at, source: 'whatsapp_keyword' },
      { recordId: String(lead?.Id), objectType: 'lead', optedIn: true, occurredAt: at, source: 'whatsapp_keyword' },
    ])
    expect(results.map((r) => r.ok)).toEqual([true, true])
    const back = await adapter.readRecords(
      [{ id: String(contact?.Id), objectType: 'contact' }, { id: String(lead?.Id), objectType: 'lead' }],
      ['WhatsApp_Opt_In__c', 'WhatsApp_Opt_In_Date__c'],
    )
    expect(back.map((r) => [r.objectType, r.properties.WhatsApp_Opt_In__c, new Date(isoDate(r.properties.WhatsApp_Opt_In_Date__c)).toISOString()])).toEqual([
      ['contact', 'false', at.toISOString()], ['lead', 'true', at.toISOString()],
    ])
    expect(orgStats()?.byEndpoint).toEqual({ 'collections.update': 1, query: 2 })
  })

  it('reports Sforce-Limit-Info usage as the simulator counts it', async () => {
    const { adapter, usage } = connect()
    await adapter.readRecords([{ id: String(sim.records(org.orgId, 'Contact')[0]?.Id), objectType: 'contact' }], ['MobilePhone'])
    expect(usage.at(-1)).toEqual(orgStats()?.apiUsage)
    expect(usage.at(-1)?.max).toBe(50_000)
  })

  it('refreshes an expired session once and carries on', async () => {
    const { adapter, calls } = connect()
    sim.expireAccessTokens(org.orgId)
    const id = String(sim.records(org.orgId, 'Lead')[0]?.Id)
    expect(await adapter.readRecords([{ id, objectType: 'lead' }], ['MobilePhone'])).toHaveLength(1)
    expect(calls.map((c) => c.status)).toEqual([401, 200])
    expect(orgStats()?.tokenRefreshes).toBe(1)
  })

  it('reads the people changed since a cursor', async () => {
    const { adapter } = connect()
    const [start] = await collect(adapter.readChangesSince(undefined, ['MobilePhone']))
    expect(start?.calls).toBe(0)
    // Records written earlier in this second would come back too (the mark is rounded down to the
    // second): move on two seconds so only the mutation below is new.
    sim.clock.advance(2_000)
    const since = new Date(sim.clock.now()).toISOString()
    const mutated = sim.mutate({ orgId: org.orgId, fraction: 0.02 })
    const pages = await collect(adapter.readChangesSince(since, ['MobilePhone']))
    const ids = pages.flatMap((p) => p.records.map((r) => r.id))
    expect(ids.length).toBeGreaterThan(0)
    expect(new Set(ids)).toEqual(new Set(mutated.changedIds))
    expect(pages.reduce((n, p) => n + p.calls, 0)).toBe(orgStats()?.calls)
    expect(Date.parse(pages.at(-1)?.nextCursor ?? '')).toBeGreaterThanOrEqual(Date.parse(since))
  })

  it('stops background calls at 90% of the daily allocation; interactive ones go on', async () => {
    const { adapter, calls } = connect()
    sim.setApiUsage(org.orgId, 45_000)
    const id = String(sim.records(org.orgId, 'Contact')[0]?.Id)
    await adapter.readRecords([{ id, objectType: 'contact' }], ['MobilePhone'])
    await expect(adapter.readRecords([{ id, objectType: 'contact' }], ['MobilePhone'])).rejects.toMatchObject({ code: 'DAILY_LIMIT_GUARD', retryable: true })
    await expect(adapter.getSegmentSource(campaignRef())).resolves.toMatchObject({ name: 'Spring Promo' })
    expect(calls).toHaveLength(2)
    sim.setApiUsage(org.orgId, 0)
  })

  it('revokes the installation', async () => {
    expect(await revokeToken({ loginUrl, token: install.refreshToken })).toBe('revoked')
    await expect(refreshAccessToken({ loginUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, refreshToken: install.refreshToken })).rejects.toMatchObject({ code: 'INVALID_GRANT' })
    expect(await revokeToken({ loginUrl, token: 'never-issued' })).toBe('already_invalid')
  })
})

/** Salesforce datetimes end in `+0000`. */
function isoDate(value: string | null | undefined): string {
  return (value ?? '').replace(/([+-]\d{2})(\d{2})$/, '$1:$2')
}
