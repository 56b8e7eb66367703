import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildApp } from '../../connector/app.ts'
import { startHubSpotStack, startSalesforceStack, type CrmStack } from '../helpers/crm-stack.ts'
import { adminHeaders, testConfig } from '../helpers/test-config.ts'
import { eventually, inboxProcessed } from '../helpers/e2e-stack.ts'
import { signedHeaders } from '../helpers/webhooks.ts'
import { signatureV3, type HubSpotSimulator } from '../simulators/hubspot/hubspot-simulator.ts'
import type { SalesforceSimulator } from '../simulators/salesforce/salesforce-simulator.ts'

// Segments end to end: CRM lists synced into WhatsApp audiences through the simulators.

describe('HubSpot list → segment', () => {
  let s: CrmStack<HubSpotSimulator> & { portalId: number }
  let listId: string
  let segmentId: string

  beforeAll(async () => {
    s = await startHubSpotStack()
    const seeded = s.sim.seed({ portalId: s.portalId, contacts: 900, lists: [{ name: 'Spring customers', size: 600, processingType: 'MANUAL' }] })
    listId = seeded.lists[0]!.listId
  })
  afterAll(async () => {
    // Every HubSpot call of the whole file went to a date-versioned path (numbered ones are refused).
    expect(s.sim.stats().refusedNumbered).toEqual({})
    await s?.close()
  })

  test("the portal's own lists are offered as sources, filtered by type and name", async () => {
    const all = await s.api('GET', `/installations/${s.installationId}/sources`)
    expect(all.status).toBe(200)
    expect(all.json).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'hubspot_list', id: listId, name: 'Spring customers', processingType: 'MANUAL' })]))
    expect((await s.api('GET', `/installations/${s.installationId}/sources?type=hubspot_list&q=Spring`)).json.map((x: { id: string }) => x.id)).toContain(listId)
    const wrong = await s.api('GET', `/installations/${s.installationId}/sources?type=salesforce_campaign`)
    expect(wrong).toMatchObject({ status: 400, json: { code: 'SOURCE_CRM_MISMATCH' } })
    expect((await s.api('GET', '/installations/6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b/sources')).status).toBe(404)
  })

  const body = () => ({
    installationId: s.installationId,
    name: 'Spring customers on WhatsApp',
    source: { type: 'hubspot_list', id: listId },
    phoneProperties: ['mobilephone', 'phone'],
    defaultCountry: 'US',
    consentProperty: 'whatsapp_opt_in',
    copyProperties: ['firstname'],
  })

  test('bad definitions are refused with a clear 4xx and nothing is written', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ ...body(), defaultCountry: 'XX' }, 400, 'INVALID_COUNTRY'],
      [{ ...body(), schedule: 'every tuesday' }, 400, 'INVALID_SCHEDULE'],
      [{ ...body(), phoneProperties: [] }, 400, 'VALIDATION_ERROR'],
      [{ ...body(), installationId: '00000000-0000-4000-8000-000000000000' }, 422, 'UNKNOWN_INSTALLATION'],
      [{ ...body(), source: { type: 'salesforce_campaign', id: '701000000000001' } }, 400, 'SOURCE_CRM_MISMATCH'],
      [{ ...body(), source: { type: 'hubspot_list', id: '999999' } }, 422, 'SOURCE_NOT_FOUND'],
    ]
    for (const [payload, status, code] of cases) {
      const r = await s.api('POST', '/segments', payload)
      expect([r.status, r.json.code], JSON.stringify(payload)).toEqual([status, code])
    }
    expect((await s.api('GET', '/segments')).json).toEqual([])
  })

  test('a full sync reads every member once with the fewest calls, and counts what it found', async () => {
    const created = await s.api('POST', '/segments', body())
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({ source: { type: 'hubspot_list', id: listId, name: 'Spring customers' }, counts: { members: 0 }, lastSync: null })
    segmentId = created.json.id
    s.sim.resetStats()
    const sync = await s.api('POST', `/segments/${segmentId}/sync?wait=true`)
    expect(sync.status).toBe(200)
    expect(sync.json).toMatchObject({ status: 'succeeded', added: 600, removed: 0, unchanged: 0 })
    // 600 members: 3 membership pages of ≤250 and 6 batch reads of ≤100 (500 ids, then 100) = 9 calls.
    expect(sync.json.crmCalls).toBe(9)
    expect(s.sim.stats().total).toBe(9)
    const seg = (await s.api('GET', `/segments/${segmentId}`)).json
    expect(seg.counts.members).toBe(600)
    expect(seg.counts.invalidPhone).toBe(sync.json.invalid)
    expect(seg.counts.optedIn + seg.counts.optedOut + seg.counts.noConsent).toBeLessThanOrEqual(600 - seg.counts.invalidPhone)
    expect(seg.counts.reachable).toBe(seg.counts.optedIn)
    expect(seg.lastSync.id).toBe(sync.json.id)
    expect(seg.syncs).toHaveLength(1)
  })

  test('members page by cursor, each exactly once, with consent', async () => {
    const seen = new Set<string>()
    let cursor: string | null = null
    do {
      const r = await s.api('GET', `/segments/${segmentId}/members?limit=250${cursor ? `&cursor=${cursor}` : ''}`)
      expect(r.status).toBe(200)
      for (const m of r.json.members) {
        expect(seen.has(m.recordId)).toBe(false)
        seen.add(m.recordId)
        if (m.phoneStatus === 'ok') expect(['opted_in', 'opted_out', 'unknown']).toContain(m.consent)
        else expect(m.consent).toBeNull()
      }
      cursor = r.json.nextCursor
    } while (cursor)
    expect(seen.size).toBe(600)
    expect(new Set(s.sim.listMembers(s.portalId, listId).map(String))).toEqual(seen)
    expect((await s.api('GET', `/segments/${segmentId}/members?cursor=garbage`)).status).toBe(400)
  })

  test('records sharing a number, in any written form, are one WhatsApp recipient', async () => {
    const [a, b, c] = s.sim.listMembers(s.portalId, listId)
    s.sim.setContactProperties(s.portalId, a!, { mobilephone: '+55 11 98765-4321', whatsapp_opt_in: 'true' })
    s.sim.setContactProperties(s.portalId, b!, { mobilephone: '+551187654321', whatsapp_opt_in: 'true' })
    s.sim.setContactProperties(s.portalId, c!, { mobilephone: '0055 11 9 8765 4321', whatsapp_opt_in: 'true' })
    await s.api('POST', `/segments/${segmentId}/sync?wait=true`)
    const { rows } = await s.tdb.db.query<{ n: number; phones: string[] }>(
      `SELECT count(DISTINCT contact_id)::int AS n, array_agg(DISTINCT c.phone) AS phones FROM crm_records r JOIN contacts c ON c.id = r.contact_id
       WHERE r.record_id = ANY($1::text[])`, [[a, b, c].map(String)],
    )
    expect(rows[0]).toEqual({ n: 1, phones: ['+5511987654321'] })
    const consent = (await s.api('GET', '/consent?phone=%2B5511987654321')).json
    expect(consent.state).toBe('opted_in')
    expect(consent.events[0]).toMatchObject({ source: 'crm_hubspot', evidence: { property: 'whatsapp_opt_in', value: 'true' } })
  })

  test('a WhatsApp opt-out after the CRM opt-in wins, and re-syncs do not flip it back', async () => {
    const waBody = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
      contacts: [{ profile: { name: 'Ana' }, wa_id: '551187654321' }],
      messages: [{ from: '551187654321', id: 'wamid.seg-stop', timestamp: String(Math.floor(Date.now() / 1000) + 5), type: 'text', text: { body: 'Stop' } }],
    } }] }] })
    expect((await fetch(`${s.base}/webhooks/whatsapp`, { method: 'POST', body: waBody, headers: signedHeaders(waBody) })).status).toBe(200)
    await inboxProcessed(s.tdb.db)
    await s.api('POST', `/segments/${segmentId}/sync?wait=true`)
    expect((await s.api('GET', '/consent?phone=%2B5511987654321')).json.state).toBe('opted_out')
  })

  test('a signed HubSpot webhook changing the opt-in property changes consent; our own echo does not', async () => {
    const [, , , d] = s.sim.listMembers(s.portalId, listId)
    s.sim.setContactProperties(s.portalId, d!, { mobilephone: '+14155550199', whatsapp_opt_in: 'true' })
    await s.api('POST', `/segments/${segmentId}/sync?wait=true`)
    expect((await s.api('GET', '/consent?phone=%2B14155550199')).json.state).toBe('opted_in')
    const target = `${s.base}/webhooks/hubspot`
    const echo = await s.sim.sendContactWebhooks(s.portalId, [{ objectId: d!, propertyName: 'whatsapp_opt_in', propertyValue: 'false', changeSource: 'INTEGRATION', sourceId: String(s.sim.apps()[0]!.appId), eventId: 9001, occurredAt: Date.now() }], target)
    expect(echo.status).toBe(200)
    await inboxProcessed(s.tdb.db)
    expect((await s.api('GET', '/consent?phone=%2B14155550199')).json.state).toBe('opted_in')
    const change = await s.sim.sendContactWebhooks(s.portalId, [{ objectId: d!, propertyName: 'whatsapp_opt_in', propertyValue: 'false', changeSource: 'CRM_UI', sourceId: 'userId:45678', eventId: 9002, occurredAt: Date.now() }], target)
    expect(change.status).toBe(200)
    await inboxProcessed(s.tdb.db)
    const c = (await s.api('GET', '/consent?phone=%2B14155550199')).json
    expect(c.state).toBe('opted_out')
    expect(c.events[0]).toMatchObject({ source: 'crm_hubspot_webhook', evidence: { eventId: 9002, value: 'false', changeSource: 'CRM_UI' } })
    expect(c.installations).toEqual([{ installationId: s.installationId, crm: 'hubspot', accountId: String(s.portalId), state: 'opted_out' }])
  })

  test('HubSpot events without an eventId are told apart by their content: a redelivery counts once, a later change counts', async () => {
    const [, , , , e] = s.sim.listMembers(s.portalId, listId)
    s.sim.setContactProperties(s.portalId, e!, { mobilephone: '+14155550177', whatsapp_opt_in: 'true' })
    await s.api('POST', `/segments/${segmentId}/sync?wait=true`)
    const url = `${s.base}/webhooks/hubspot`
    const deliver = async (value: string, occurredAt: number) => {
      const body = JSON.stringify([{ portalId: s.portalId, subscriptionType: 'contact.propertyChange', objectId: Number(e), propertyName: 'whatsapp_opt_in', propertyValue: value, changeSource: 'CRM_UI', occurredAt }])
      const ts = Date.now()
      const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hubspot-request-timestamp': String(ts), 'x-hubspot-signature-v3': signatureV3(s.sim.apps()[0]!.clientSecret, 'POST', url, body, ts) } })
      expect(res.status).toBe(200)
    }
    const t = Date.now()
    await deliver('false', t)
    await deliver('true', t + 1000)
    await deliver('true', t + 1000)
    const hubspotEvents = async () => (await s.api('GET', '/consent?phone=%2B14155550177')).json.events.filter((ev: { source: string }) => ev.source === 'crm_hubspot_webhook')
    await inboxProcessed(s.tdb.db)
    const events = await hubspotEvents()
    expect(events.map((ev: { state: string }) => ev.state)).toEqual(['opted_in', 'opted_out'])
    expect((await s.api('GET', '/consent?phone=%2B14155550177')).json.state).toBe('opted_in')
  })

  test('a HubSpot change older than the opt-out it arrives after is kept as evidence, and the contact is set back', async () => {
    const [, , , , , f] = s.sim.listMembers(s.portalId, listId)
    s.sim.setContactProperties(s.portalId, f!, { mobilephone: '+14155550166', whatsapp_opt_in: 'true' })
    await s.api('POST', `/segments/${segmentId}/sync?wait=true`)
    const optIn = () => s.sim.getContact(s.portalId, Number(f))?.properties.whatsapp_opt_in
    expect((await s.api('POST', '/consent', { phone: '+14155550166', state: 'opted_out', evidence: { note: 'asked by phone' } })).status).toBe(201)
    await eventually(async () => (optIn() === 'false' ? true : undefined), 15_000, 'the opt-out written to the contact')
    // Someone ticks the box in HubSpot, but the change HubSpot reports happened before the opt-out.
    s.sim.setContactProperties(s.portalId, f!, { whatsapp_opt_in: 'true' })
    const url = `${s.base}/webhooks/hubspot`
    const body = JSON.stringify([{ eventId: 7301, portalId: s.portalId, subscriptionType: 'contact.propertyChange', objectId: Number(f), propertyName: 'whatsapp_opt_in', propertyValue: 'true', changeSource: 'CRM_UI', occurredAt: Date.now() - 60_000 }])
    const ts = Date.now()
    expect((await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hubspot-request-timestamp': String(ts), 'x-hubspot-signature-v3': signatureV3(s.sim.apps()[0]!.clientSecret, 'POST', url, body, ts) } })).status).toBe(200)
    await eventually(async () => (optIn() === 'false' ? true : undefined), 15_000, 'the contact set back to the opt-out')
    const c = (await s.api('GET', '/consent?phone=%2B14155550166')).json
    expect(c.state).toBe('opted_out')
    expect(c.events.map((e: { source: string }) => e.source)).toContain('crm_hubspot_webhook')
  })

  test("a sync is found only under its own segment", async () => {
    const sync = (await s.api('POST', `/segments/${segmentId}/sync?wait=true`)).json
    expect((await s.api('GET', `/segments/${segmentId}/syncs/${sync.id}`)).json).toMatchObject({ id: sync.id })
    const other = await s.api('GET', `/segments/6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b/syncs/${sync.id}`)
    expect(other.status).toBe(404)
    expect(other.json.code).toBe('NOT_FOUND')
  })

  test('a HubSpot webhook with a wrong or old signature is 401 and stores nothing', async () => {
    const { rows: before } = await s.tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE source = 'hubspot'`)
    const body = JSON.stringify([{ eventId: 1, portalId: s.portalId, subscriptionType: 'contact.propertyChange', objectId: 1, propertyName: 'whatsapp_opt_in', propertyValue: 'false' }])
    const unsigned = await fetch(`${s.base}/webhooks/hubspot`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    expect(unsigned.status).toBe(401)
    const old = Date.now() - 6 * 60_000
    const stale = await fetch(`${s.base}/webhooks/hubspot`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hubspot-request-timestamp': String(old), 'x-hubspot-signature-v3': signatureV3(s.sim.apps()[0]!.clientSecret, 'POST', `${s.base}/webhooks/hubspot`, body, old) } })
    expect(stale.status).toBe(401)
    const { rows: after } = await s.tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox WHERE source = 'hubspot'`)
    expect(after[0]!.n).toBe(before[0]!.n)
  })

  test('the admin page shows installations and segments, behind the admin token', async () => {
    expect((await fetch(`${s.base}/admin`)).status).toBe(401)
    const res = await fetch(`${s.base}/admin`, { headers: adminHeaders })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await res.text()
    expect(html).toContain(String(s.portalId))
    expect(html).toContain('Spring customers on WhatsApp')
  })

  test('a re-sync after changes applies exactly the additions and removals', async () => {
    const before = new Set(s.sim.listMembers(s.portalId, listId))
    const m = s.sim.mutate({ portalId: s.portalId, fraction: 0.1, kinds: ['list'] })
    const added = m.listAdded.filter((x) => x.listId === listId && !before.has(x.recordId)).length
    const removed = m.listRemoved.filter((x) => x.listId === listId).length
    const after = s.sim.listMembers(s.portalId, listId).length
    const sync = (await s.api('POST', `/segments/${segmentId}/sync?wait=true`)).json
    expect(sync).toMatchObject({ status: 'succeeded', added, removed })
    expect(sync.added + sync.unchanged).toBe(after)
    expect((await s.api('GET', `/segments/${segmentId}`)).json.counts.members).toBe(after)
  })

  test('a source that no longer exists fails the sync with that reason and keeps the last good membership', async () => {
    const members = (await s.api('GET', `/segments/${segmentId}`)).json.counts.members
    s.sim.failNext({ route: 'GET /crm/lists/2026-03/:listId/memberships', status: 404, times: 1 })
    const sync = (await s.api('POST', `/segments/${segmentId}/sync?wait=true`)).json
    expect(sync).toMatchObject({ status: 'failed', error: { code: 'NOT_FOUND' } })
    expect(sync.error.message).toMatch(/no longer exists/)
    const seg = (await s.api('GET', `/segments/${segmentId}`)).json
    expect(seg.counts.members).toBe(members)
    expect(seg.lastSync.status).toBe('failed')
  })

  test('a lost scope fails the sync with that reason and keeps the last good membership', async () => {
    const members = (await s.api('GET', `/segments/${segmentId}`)).json.counts.members
    s.sim.failNext({ route: 'GET /crm/lists/2026-03/:listId/memberships', status: 403, times: 1 })
    const sync = (await s.api('POST', `/segments/${segmentId}/sync?wait=true`)).json
    expect(sync).toMatchObject({ status: 'failed', error: { code: 'MISSING_SCOPES' } })
    expect(sync.error.message).toMatch(/permission/)
    expect((await s.api('GET', `/segments/${segmentId}`)).json.counts.members).toBe(members)
  })

  test('a sync cut short by a CRM outage resumes from its cursor without duplicating or dropping members', async () => {
    s.sim.failNext({ route: 'POST /crm/objects/2026-03/contacts/batch/read', status: 503, times: 20 })
    const first = (await s.api('POST', `/segments/${segmentId}/sync?wait=true`)).json
    expect(first.status).toBe('running')
    expect(first.error.code).toBe('SERVER_ERROR')
    s.sim.clearFaults()
    const resumed = (await s.api('POST', `/segments/${segmentId}/sync?wait=true`)).json
    expect(resumed.id).toBe(first.id)
    expect(resumed.status).toBe('succeeded')
    expect(resumed.added + resumed.unchanged).toBe(s.sim.listMembers(s.portalId, listId).length)
  })

  test('two connector instances ticking the same schedule run the sync once', async () => {
    const other = await buildApp(testConfig({ HUBSPOT_CLIENT_ID: 'x', HUBSPOT_CLIENT_SECRET: 'y', HUBSPOT_API_BASE: s.sim.url }), { db: s.tdb.url ? await s.tdb.open() : s.tdb.db, workers: false })
    s.sim.setLatency({ ms: 20 })
    const outcomes = await Promise.all([s.app.services.scheduler.tick(segmentId), other.services.scheduler.tick(segmentId)])
    expect(outcomes.sort()).toEqual(['skipped', 'started'])
    s.sim.setLatency({ ms: 0 })
    for (let i = 0; i < 200 && (await s.api('GET', `/segments/${segmentId}`)).json.lastSync.status === 'running'; i++) await new Promise((r) => setTimeout(r, 50))
    const seg = (await s.api('GET', `/segments/${segmentId}`)).json
    expect(seg.lastSync).toMatchObject({ status: 'succeeded', trigger: 'schedule' })
    await other.close()
  })

  test('a manual sync while one is running answers 409', async () => {
    s.sim.setLatency({ ms: 30 })
    const a = s.api('POST', `/segments/${segmentId}/sync`)
    const b = await s.api('POST', `/segments/${segmentId}/sync`)
    const first = await a
    expect([first.status, b.status].sort()).toEqual([202, 409])
    s.sim.setLatency({ ms: 0 })
    const running = (await s.api('GET', `/segments/${segmentId}`)).json.lastSync
    for (let i = 0; i < 100 && (await s.api('GET', `/segments/${segmentId}`)).json.lastSync.status === 'running'; i++) await new Promise((r) => setTimeout(r, 50))
    expect(running.status).toBe('running')
  })
})

describe('background work after uninstall', () => {
  test('a scheduled sync of an uninstalled installation is skipped without a sync record', async () => {
    const s = await startHubSpotStack()
    try {
      const listId = s.sim.seed({ portalId: s.portalId, contacts: 20, lists: [{ name: 'L', size: 10 }] }).lists[0]!.listId
      const seg = (await s.api('POST', '/segments', { installationId: s.installationId, name: 'L', source: { type: 'hubspot_list', id: listId }, phoneProperties: ['mobilephone'], defaultCountry: 'US', schedule: '0 3 * * *' })).json
      expect((await s.api('DELETE', `/installations/${s.installationId}`)).status).toBe(200)
      expect(await s.app.services.scheduler.tick(seg.id)).toBe('skipped')
      expect((await s.api('GET', `/segments/${seg.id}`)).json.lastSync).toBeNull()
      const manual = (await s.api('POST', `/segments/${seg.id}/sync?wait=true`)).json
      expect(manual).toMatchObject({ status: 'failed', error: { code: 'INSTALLATION_INACTIVE' } })
    } finally {
      await s.close()
    }
  })
})

describe('Salesforce campaign → segment', () => {
  let s: CrmStack<SalesforceSimulator> & { orgId: string }
  let segmentId: string
  let campaignId: string
  let memberKeys: Set<string>
  beforeAll(async () => {
    s = await startSalesforceStack()
  })
  afterAll(async () => {
    await s?.close()
  })

  test('contacts and leads of a campaign become members; phones normalised; calls counted', async () => {
    const seeded = s.sim.seed({ orgId: s.orgId, contacts: 1200, leads: 800, campaigns: [{ name: 'Webinar', size: 2100, leadShare: 0.3 }] })
    const campaign = seeded.campaigns[0]!
    const created = await s.api('POST', '/segments', {
      installationId: s.installationId, name: 'Webinar attendees', source: { type: 'salesforce_campaign', id: campaign.id },
      phoneProperties: ['MobilePhone', 'Phone'], defaultCountry: 'US', consentProperty: 'WhatsApp_Opt_In__c', copyProperties: ['FirstName'],
    })
    expect(created.status).toBe(201)
    memberKeys = new Set(s.sim.records(s.orgId, 'CampaignMember', (r) => r.CampaignId === campaign.id).map((r) => String(r.Id)))
    const sync = (await s.api('POST', `/segments/${created.json.id}/sync?wait=true`)).json
    expect(campaign.members).toBeGreaterThan(1000)
    expect(sync).toMatchObject({ status: 'succeeded', added: campaign.members, removed: 0 })
    // SOQL pages of 2,000 records with the relationship fields: one call per page, no batch reads.
    expect(sync.crmCalls).toBe(Math.ceil(campaign.members / 2000))
    const members: Array<{ objectType: string; phoneStatus: string; phone: string }> = []
    let cursor: string | null = null
    do {
      const page: { json: { members: typeof members; nextCursor: string | null } } = await s.api('GET', `/segments/${created.json.id}/members?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)
      members.push(...page.json.members)
      cursor = page.json.nextCursor
    } while (cursor)
    expect(members).toHaveLength(campaign.members)
    expect(new Set(members.map((m: { objectType: string }) => m.objectType))).toEqual(new Set(['contact', 'lead']))
    expect(members.filter((m: { phoneStatus: string }) => m.phoneStatus === 'ok').every((m: { phone: string }) => /^\+\d{8,15}$/.test(m.phone))).toBe(true)
    segmentId = created.json.id
    campaignId = campaign.id
  })

  test("the org's campaigns are offered as sources", async () => {
    const sources = await s.api('GET', `/installations/${s.installationId}/sources?type=salesforce_campaign`)
    expect(sources.status).toBe(200)
    expect(sources.json).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'salesforce_campaign', id: campaignId, name: 'Webinar' })]))
    expect(sources.json.every((x: { type: string }) => x.type === 'salesforce_campaign')).toBe(true)
  })

  test('a re-sync reads only what Salesforce reports changed, and ends where a full read would', async () => {
    // As if the last sync ran five minutes ago and the CRM changed two minutes ago: Get Deleted
    // covers whole minutes that have passed, so changes of this very minute wait for the next sync.
    await s.tdb.db.query(`UPDATE segments SET change_cursor = $2 WHERE id = $1`, [segmentId, new Date(Date.now() - 5 * 60_000).toISOString()])
    s.sim.clock.set(Date.now() - 2 * 60_000)
    const changed = s.sim.mutate({ orgId: s.orgId, fraction: 0.02 })
    s.sim.clock.set(Date.now())
    const inc = (await s.api('POST', `/segments/${segmentId}/sync?wait=true`)).json
    expect(inc).toMatchObject({ status: 'succeeded', mode: 'incremental' })
    expect(inc.crmCalls).toBe(2)
    const inCampaign = s.sim.records(s.orgId, 'CampaignMember', (r) => r.CampaignId === campaignId).length
    expect(inc.removed).toBeGreaterThan(0)
    expect(inc.removed).toBe(changed.membersRemoved.filter((id) => memberKeys.has(id)).length)
    const counts = (await s.api('GET', `/segments/${segmentId}`)).json.counts
    expect(counts.members).toBe(inCampaign)
    const full = (await s.api('POST', `/segments/${segmentId}/sync?wait=true&full=true`)).json
    expect(full).toMatchObject({ status: 'succeeded', mode: 'full', added: 0, removed: 0, unchanged: inCampaign })
  })
})
