// The HubSpot adapter against the HubSpot simulator: real HTTP, real rate limits, real shapes,
// with the contact properties and app event types the app registers in manifest.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CrmRecord, EngagementKind, MemberPage, ProvisionOutcome, SegmentSourceRef, TokenSource } from '../../crm-adapters/crm-adapter.ts'
import { HubSpotAdapter } from '../../crm-adapters/hubspot/hubspot-adapter.ts'
import type { CommunicationStore, StoredCommunication } from '../../crm-adapters/hubspot/hubspot-engagement.ts'
import { refreshAccessToken } from '../../crm-adapters/hubspot/hubspot-oauth.ts'
import { loadManifest } from '../../connector/manifest/manifest.ts'
import { appPropertiesIn, appPropertyTypes, portalProperties } from '../helpers/hubspot-properties.ts'
import { type HubSpotSimulator, startHubSpotSimulator } from '../simulators/hubspot/hubspot-simulator.ts'

const manifest = loadManifest().hubspot
const PORTAL = 44312345
const PROPERTIES = ['firstname', 'mobilephone', 'phone', 'whatsapp_opt_in']
// In the simulator an event type's fully qualified name is the name it was declared with.
const APP_EVENT_TYPES = Object.fromEntries(manifest.engagementEvents.map((e) => [e.kind, { eventTypeName: e.name, properties: e.properties }]))
// What the connector gives every adapter (services.ts providersFor).
const CONSENT = {
  consentProperty: manifest.properties.consentProperty,
  consentDateProperty: manifest.properties.consentDateProperty,
  consentSourceProperty: manifest.properties.consentSourceProperty,
}

// The app's property group and contact properties (services.ts providersFor).
const APP_PROPERTIES = { group: manifest.properties.group, contact: manifest.properties.contact }

let sim: HubSpotSimulator
let provisioned: ProvisionOutcome
let adapter: HubSpotAdapter
let list: SegmentSourceRef
let members: string[]
let tokens: TokenSource
let refreshes = 0
const stored = new Map<string, StoredCommunication>()
const communications: CommunicationStore = {
  load: async (ids) => ids.flatMap((id) => stored.get(id) ?? []),
  save: async (entries) => void entries.forEach((e) => stored.set(e.messageId, e)),
}

beforeAll(async () => {
  sim = await startHubSpotSimulator()
  const seeded = sim.seed({ portalId: PORTAL, contacts: 1_100, lists: [{ name: 'WhatsApp audience', size: 1_000 }], seed: 7 })
  list = { type: 'hubspot_list', id: seeded.lists[0]?.listId ?? '' }
  members = sim.listMembers(PORTAL, list.id).map(String)
  sim.declareEventTypes(manifest.engagementEvents.map((e) => ({ name: e.name, properties: e.properties.map((p) => ({ name: p.name, type: p.type })) })))

  const installed = sim.install({ portalId: PORTAL })
  const app = sim.apps()[0]
  if (!app) throw new Error('the simulator has no app')
  let current = installed.access_token
  tokens = {
    accessToken: async () => current,
    refreshAfterRejection: async () => {
      refreshes++
      current = (await refreshAccessToken({ apiBase: sim.url, clientId: app.clientId, clientSecret: app.clientSecret, refreshToken: installed.refresh_token })).accessToken
      return current
    },
  }
  adapter = new HubSpotAdapter({ apiBase: sim.url, tokens, communications, ...CONSENT, appProperties: APP_PROPERTIES, appEventTypes: APP_EVENT_TYPES })
  // What the install does first (install-service.ts): the app's group and contact properties.
  provisioned = await adapter.provision()
})

afterAll(async () => {
  await sim?.close()
})

async function collect(pages: AsyncIterable<MemberPage>): Promise<MemberPage[]> {
  const out: MemberPage[] = []
  for await (const page of pages) out.push(page)
  return out
}

describe('HubSpotAdapter against the simulator', () => {
  it('provisions the app\'s property group and contact properties, idempotently', async () => {
    // Seeding made whatsapp_opt_in (an enumeration, as the app needs it); the rest is created.
    expect(provisioned).toEqual({ created: ['group:whatsapp', 'whatsapp_opt_in_date', 'whatsapp_opt_in_source', 'whatsapp_bsuid'], present: ['whatsapp_opt_in'], problems: [], nothingToDo: false })
    const { properties, groups } = await portalProperties(sim, PORTAL)
    expect(groups).toContain('whatsapp')
    expect(await appPropertiesIn(sim, PORTAL)).toEqual(appPropertyTypes())
    expect(properties.get('whatsapp_opt_in_source')?.groupName).toBe('whatsapp')

    // Again: nothing created, two reads (groups, properties) and no write.
    sim.resetStats()
    expect(await adapter.provision()).toEqual({ created: [], present: ['group:whatsapp', 'whatsapp_opt_in', 'whatsapp_opt_in_date', 'whatsapp_opt_in_source', 'whatsapp_bsuid'], problems: [], nothingToDo: false })
    expect(sim.stats().byEndpoint).toEqual({ 'GET /crm/properties/2026-03/:objectType/groups': 1, 'GET /crm/properties/2026-03/:objectType': 1 })
  })

  it('reports a property that exists with another type, and leaves it as it is', async () => {
    const portal = sim.createPortal().portalId
    const { access_token: token } = sim.install({ portalId: portal })
    const made = await fetch(`${sim.url}/crm/properties/2026-03/contacts`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'whatsapp_opt_in_source', label: 'Someone else\'s', type: 'number', fieldType: 'number', groupName: 'contactinformation' }),
    })
    expect(made.status).toBe(201)
    const other = new HubSpotAdapter({ apiBase: sim.url, tokens: { accessToken: async () => token, refreshAfterRejection: async () => token }, communications, ...CONSENT, appProperties: APP_PROPERTIES })
    const outcome = await other.provision()
    expect(outcome.created).toEqual(['group:whatsapp', 'whatsapp_opt_in', 'whatsapp_opt_in_date', 'whatsapp_bsuid'])
    expect(outcome.problems).toEqual([{ name: 'whatsapp_opt_in_source', message: expect.stringContaining('exists as a number property; the app needs string') }])
    expect((await appPropertiesIn(sim, portal)).whatsapp_opt_in_source).toBe('number')
  })

  it('finds the list', async () => {
    expect(await adapter.listSegmentSources('audience')).toEqual([{ type: 'hubspot_list', id: list.id, name: 'WhatsApp audience', size: 1_000, processingType: 'DYNAMIC' }])
    expect(await adapter.getSegmentSource(list)).toMatchObject({ id: list.id, size: 1_000 })
  })

  it('streams 1,000 members exactly once with the asked properties, in 2 × (2 + 5) calls', async () => {
    sim.resetStats()
    const pages = await collect(adapter.streamSegmentMembers(list, { properties: PROPERTIES }))
    const records = pages.flatMap((p) => p.records)
    expect(records.map((r) => r.id)).toEqual(members)
    for (const record of records) {
      const truth = sim.getContact(PORTAL, Number(record.id))
      expect(record.properties).toEqual(Object.fromEntries(PROPERTIES.map((p) => [p, truth?.properties[p] ?? null])))
    }
    const stats = sim.stats()
    expect(pages.reduce((sum, p) => sum + p.calls, 0)).toBe(stats.total)
    expect(stats.total).toBe(14)
    expect(stats.byEndpoint).toEqual({ 'GET /crm/lists/2026-03/:listId/memberships': 4, 'POST /crm/objects/2026-03/contacts/batch/read': 10 })
    expect(stats.rateLimited).toBe(0)

    const resumed = await collect(adapter.streamSegmentMembers(list, { properties: PROPERTIES, cursor: pages[0]?.nextCursor ?? '' }))
    expect(resumed.flatMap((p) => p.records.map((r) => r.id))).toEqual(members.slice(500))
  })

  it('stays under a tight limit the server enforces: paced, never a 429', async () => {
    const limit = { max: 5, intervalMs: 200 }
    sim.setRateLimits({ burst: limit })
    sim.resetStats()
    try {
      const paced = new HubSpotAdapter({ apiBase: sim.url, tokens, communications, ...CONSENT, rateLimit: { burst: limit } })
      const started = Date.now()
      const pages = await collect(paced.streamSegmentMembers(list, { properties: PROPERTIES }))
      expect(pages.flatMap((p) => p.records)).toHaveLength(1_000)
      expect(sim.stats()).toMatchObject({ total: 14, rateLimited: 0 })
      expect(Date.now() - started).toBeGreaterThanOrEqual(400) // 14 calls at 5 per 200 ms
    } finally {
      sim.setRateLimits({ burst: { max: 100, intervalMs: 10_000 } })
    }
  })

  it('logs a message once and updates it as it moves on; app events are not repeated', async () => {
    const contactId = members[0] ?? ''
    const base = { messageId: 'msg-int-1', recordId: contactId, objectType: 'contact' as const, direction: 'outbound' as const, templateName: 'spring_sale', businessNumber: '+1 555-078-3881' }
    const sent = { ...base, id: 'msg-int-1:sent', kind: 'sent' as const, occurredAt: new Date('2026-03-01T10:02:00Z'), text: 'Spring sale starts today' }
    const delivered = { ...base, id: 'msg-int-1:delivered', kind: 'delivered' as const, occurredAt: new Date('2026-03-01T10:02:05Z') }
    const read = { ...base, id: 'msg-int-1:read', kind: 'read' as const, occurredAt: new Date('2026-03-01T10:05:00Z') }

    sim.resetStats()
    expect((await adapter.writeEngagement([sent])).every((r) => r.ok)).toBe(true)
    const [created] = sim.communications(PORTAL, Number(contactId))
    expect(created?.properties).toMatchObject({ hs_communication_channel_type: 'WHATS_APP', hs_communication_logged_from: 'CRM', hs_timestamp: '2026-03-01T10:02:00.000Z' })

    expect((await adapter.writeEngagement([delivered, read])).every((r) => r.ok)).toBe(true)
    expect((await adapter.writeEngagement([sent, delivered, read])).every((r) => r.ok)).toBe(true) // a retry of everything

    const communications = sim.communications(PORTAL, Number(contactId))
    expect(communications).toHaveLength(1)
    expect(communications[0]?.id).toBe(created?.id)
    expect(communications[0]?.properties.hs_communication_body).toBe(
      'WhatsApp template spring_sale sent from +1 555-078-3881 — sent 2026-03-01 10:02, delivered 10:02, read 10:05 (UTC)\n\nSpring sale starts today',
    )
    // Per write: one communications call, one app events batch (the replayed occurrences answer 409).
    expect(sim.stats().byEndpoint).toEqual({
      'POST /crm/objects/2026-03/communications/batch/create': 1,
      'POST /crm/objects/2026-03/communications/batch/update': 2,
      'POST /integrators/timeline/2026-03/events/batch': 3,
    })
    expect(sim.appEvents(PORTAL).map((e) => [e.id, e.eventTypeName, e.objectId, e.properties.status])).toEqual([
      ['msg-int-1:sent', 'whatsapp_message_sent', contactId, 'sent'],
      ['msg-int-1:delivered', 'whatsapp_message_delivered', contactId, 'delivered'],
      ['msg-int-1:read', 'whatsapp_message_read', contactId, 'read'],
    ])
  })

  it('writes consent to the app properties only, and reads it back', async () => {
    const withPhone = members.map((id) => sim.getContact(PORTAL, Number(id))).find((c) => c?.phoneTruth?.e164)
    const phone = withPhone?.phoneTruth?.e164 ?? ''
    const recordId = String(withPhone?.id)
    const other = members.at(-1) ?? ''
    const cursor = (await collect(adapter.readChangesSince(undefined, ['whatsapp_opt_in'])))[0]?.nextCursor
    await new Promise((resolve) => setTimeout(resolve, 5)) // past the cursor's millisecond

    sim.resetStats()
    const changedAt = new Date('2026-03-01T10:30:00Z')
    const results = await adapter.writeConsent([
      { recordId, objectType: 'contact', optedIn: false, occurredAt: changedAt, source: 'whatsapp_keyword', phone },
      { recordId: other, objectType: 'contact', optedIn: true, occurredAt: changedAt, source: 'whatsapp_keyword' },
    ])
    expect(results).toEqual([
      { id: recordId, ok: true },
      { id: other, ok: true },
    ])
    // Only the app's own properties: WhatsApp consent has no place in HubSpot's subscription APIs.
    expect(sim.stats().byEndpoint).toEqual({ 'POST /crm/objects/2026-03/contacts/batch/update': 1 })
    const read = await adapter.readRecords([{ id: recordId, objectType: 'contact' }, { id: other, objectType: 'contact' }], ['whatsapp_opt_in', 'whatsapp_opt_in_date', 'whatsapp_opt_in_source'])
    expect(read.map((r) => [r.id, r.properties.whatsapp_opt_in, r.properties.whatsapp_opt_in_source])).toEqual([
      [recordId, 'false', 'whatsapp_keyword'],
      [other, 'true', 'whatsapp_keyword'],
    ])
    expect(Date.parse(read[0]?.properties.whatsapp_opt_in_date ?? '')).toBe(changedAt.getTime())

    const changes: CrmRecord[] = []
    for await (const page of adapter.readChangesSince(cursor, ['whatsapp_opt_in'])) changes.push(...page.records)
    expect(changes.map((r) => r.id).sort()).toEqual([recordId, other].sort())
  })

  it('refreshes once through the TokenSource when HubSpot says the token expired', async () => {
    sim.expireAccessTokens(PORTAL)
    const before = refreshes
    expect(await adapter.getSegmentSource(list)).toMatchObject({ id: list.id })
    expect(refreshes).toBe(before + 1)
    expect(sim.stats().refreshesByPortal[String(PORTAL)]).toBe(1)
  })

  it('moves an area to 2026-09 through the options; writes there fail per record on portal validation rules', async () => {
    const onNext = new HubSpotAdapter({ apiBase: sim.url, tokens, communications, ...CONSENT, apiVersions: { lists: '2026-09', objects: '2026-09' } })
    const [blocked, free] = [members[10] ?? '', members[11] ?? '']
    sim.setContactProperties(PORTAL, Number(blocked), { lifecyclestage: 'customer', company: '' }, { emitWebhooks: false })
    sim.setContactValidationRules(PORTAL, [{ property: 'company', when: { property: 'lifecyclestage', value: 'customer' } }])
    sim.resetStats()
    try {
      const pages = await collect(onNext.streamSegmentMembers(list, { properties: PROPERTIES }))
      expect(pages.flatMap((p) => p.records)).toHaveLength(members.length)
      const at = new Date('2026-03-02T09:00:00Z')
      const results = await onNext.writeConsent([
        { recordId: blocked, objectType: 'contact', optedIn: true, occurredAt: at, source: 'whatsapp_keyword' },
        { recordId: free, objectType: 'contact', optedIn: true, occurredAt: at, source: 'whatsapp_keyword' },
      ])
      expect(results).toEqual([
        { id: blocked, ok: false, error: expect.objectContaining({ code: 'VALIDATION_ERROR', platformCode: 'VALIDATION_ERROR', message: expect.stringContaining('company') }) },
        { id: free, ok: true },
      ])
      expect(sim.getContact(PORTAL, Number(free))?.properties.whatsapp_opt_in_date).toBe(at.toISOString())
      // The same write on 2026-03 ignores the rule, as HubSpot does.
      expect(await adapter.writeConsent([{ recordId: blocked, objectType: 'contact', optedIn: true, occurredAt: at, source: 'whatsapp_keyword' }])).toEqual([{ id: blocked, ok: true }])
      const endpoints = Object.keys(sim.stats().byEndpoint)
      expect(endpoints.filter((e) => e.includes('/2026-09/')).sort()).toEqual([
        'GET /crm/lists/2026-09/:listId/memberships',
        'POST /crm/objects/2026-09/contacts/batch/read',
        'POST /crm/objects/2026-09/contacts/batch/update',
      ])
    } finally {
      sim.setContactValidationRules(PORTAL, [])
    }
  })

  it('never calls a numbered path HubSpot replaced with a date-versioned one', () => {
    expect(sim.stats().refusedNumbered).toEqual({})
  })
})
