import { createHash, createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { afterEach, describe, expect, it } from 'vitest'
import { type HubSpotSimulator, type HubSpotSimulatorOptions, startHubSpotSimulator } from './hubspot-simulator.ts'

const PORTAL = 44312345
const REDIRECT = 'http://127.0.0.1:9/hubspot/oauth/callback'
const open: { close(): Promise<void> }[] = []

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()))
})

async function start(options: HubSpotSimulatorOptions = {}): Promise<HubSpotSimulator> {
  const sim = await startHubSpotSimulator({
    apps: [{ appId: 3102938, clientId: 'client-1', clientSecret: 'secret-1', developerApiKey: 'dev-key-1', redirectUris: [REDIRECT] }],
    ...options,
  })
  open.push(sim)
  return sim
}

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
})

async function api(sim: HubSpotSimulator, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; json: any }> {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : null }
}

/** A target that records what HubSpot would POST to the connector. */
async function recorder(): Promise<{ url: string; requests: { headers: IncomingMessage['headers']; body: string }[]; close(): Promise<void> }> {
  const requests: { headers: IncomingMessage['headers']; body: string }[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
    req.on('end', () => {
      requests.push({ headers: req.headers, body })
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ outputFields: { hs_execution_state: 'BLOCK' } }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const handle = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/hubspot?source=test`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
  open.push(handle)
  return handle
}

describe('OAuth', () => {
  const authorizeUrl = (sim: HubSpotSimulator, extra: Record<string, string> = {}): string =>
    `${sim.url}/oauth/authorize?${new URLSearchParams({
      client_id: 'client-1',
      redirect_uri: REDIRECT,
      scope: 'oauth crm.objects.contacts.read crm.lists.read',
      optional_scope: 'timeline automation',
      state: 'st-123',
      ...extra,
    })}`

  it('runs the code flow like a browser: consent page, redirect with code, single-use exchange', async () => {
    const sim = await start({ portals: [{ portalId: PORTAL, scopes: ['oauth', 'crm.objects.contacts.read', 'crm.lists.read', 'timeline'] }] })
    const page = await fetch(authorizeUrl(sim), { redirect: 'manual' })
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('Grant access')
    const consent = /name="consent" value="([^"]+)"/.exec(html)?.[1]
    expect(consent).toBeDefined()

    const granted = await fetch(`${sim.url}/oauth/authorize/consent`, { ...form({ consent: consent ?? '', portalId: String(PORTAL), decision: 'grant' }), redirect: 'manual' })
    expect(granted.status).toBe(302)
    const location = new URL(granted.headers.get('location') ?? '')
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT)
    expect(location.searchParams.get('state')).toBe('st-123')
    const code = location.searchParams.get('code') ?? ''

    const replayed = await fetch(`${sim.url}/oauth/authorize/consent`, { ...form({ consent: consent ?? '', portalId: String(PORTAL), decision: 'grant' }), redirect: 'manual' })
    expect(replayed.status).toBe(400)

    const exchange = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'client-1', client_secret: 'secret-1' }
    const tokenRes = await fetch(`${sim.url}/oauth/2026-03/token`, form(exchange))
    expect(tokenRes.status).toBe(200)
    const tokens = (await tokenRes.json()) as Record<string, unknown>
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 1800, hub_id: PORTAL })
    // Optional scopes the account can't grant (automation) are dropped silently.
    expect(tokens.scopes).toEqual(['oauth', 'crm.objects.contacts.read', 'crm.lists.read', 'timeline'])

    const again = await fetch(`${sim.url}/oauth/2026-03/token`, form(exchange))
    expect(again.status).toBe(400)
    expect(await again.json()).toMatchObject({ error: 'invalid_grant', status: 'BAD_AUTH_CODE' })

    const lists = await api(sim, String(tokens.access_token), 'POST', '/crm/lists/2026-03/search', {})
    expect(lists.status).toBe(200)
  })

  it('denies, rejects unknown redirect URIs and ungrantable required scopes, and auto-consents', async () => {
    const sim = await start({ portals: [{ portalId: PORTAL }, { portalId: 555, scopes: ['oauth'] }] })
    const html = await (await fetch(authorizeUrl(sim))).text()
    const consent = /name="consent" value="([^"]+)"/.exec(html)?.[1] ?? ''
    const denied = await fetch(`${sim.url}/oauth/authorize/consent`, { ...form({ consent, portalId: String(PORTAL), decision: 'deny' }), redirect: 'manual' })
    const deniedAt = new URL(denied.headers.get('location') ?? '')
    expect(deniedAt.searchParams.get('error')).toBe('access_denied')
    expect(deniedAt.searchParams.get('state')).toBe('st-123')

    expect((await fetch(authorizeUrl(sim, { redirect_uri: 'https://evil.example.com/cb' }))).status).toBe(400)

    sim.setAutoConsent({ portalId: 555 })
    expect((await fetch(authorizeUrl(sim), { redirect: 'manual' })).status).toBe(400)

    sim.setAutoConsent({ portalId: PORTAL })
    const auto = await fetch(authorizeUrl(sim), { redirect: 'manual' })
    expect(auto.status).toBe(302)
    expect(new URL(auto.headers.get('location') ?? '').searchParams.get('code')).toMatch(/\S+/)
  })

  it('refreshes (same refresh token by default, rotated when enabled) and counts refreshes per portal', async () => {
    const sim = await start()
    const tokens = sim.install({ portalId: PORTAL })
    const refresh = (refreshToken: string): Promise<Response> =>
      fetch(`${sim.url}/oauth/2026-03/token`, form({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'client-1', client_secret: 'secret-1' }))

    const first = (await (await refresh(tokens.refresh_token)).json()) as Record<string, unknown>
    expect(first.refresh_token).toBe(tokens.refresh_token)
    expect(first.access_token).not.toBe(tokens.access_token)
    expect(first).toMatchObject({ hub_id: PORTAL, expires_in: 1800 })
    expect((await api(sim, tokens.access_token, 'POST', '/crm/lists/2026-03/search', {})).status).toBe(200)

    sim.setRotateRefreshTokens(true)
    const rotated = (await (await refresh(tokens.refresh_token)).json()) as Record<string, unknown>
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token)
    const stale = await refresh(tokens.refresh_token)
    expect(stale.status).toBe(400)
    expect(await stale.json()).toMatchObject({ error: 'invalid_grant', status: 'BAD_REFRESH_TOKEN' })
    expect(sim.stats().refreshesByPortal).toEqual({ [PORTAL]: 2 })

    sim.failRefresh(PORTAL)
    expect((await refresh(String(rotated.refresh_token))).status).toBe(400)
    sim.failRefresh(PORTAL, false)
    expect((await refresh(String(rotated.refresh_token))).status).toBe(200)

    const json = await fetch(`${sim.url}/oauth/2026-03/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: rotated.refresh_token, client_id: 'client-1', client_secret: 'secret-1' }),
    })
    expect(json.status).toBe(400)
  })

  it('introspects, revokes, and then refresh answers invalid_grant; expired tokens get 401', async () => {
    const sim = await start()
    const tokens = sim.install({ portalId: PORTAL, scopes: ['oauth', 'crm.lists.read'] })
    const creds = { client_id: 'client-1', client_secret: 'secret-1' }
    const introspect = async (token: string): Promise<Record<string, unknown>> =>
      (await (await fetch(`${sim.url}/oauth/2026-03/token/introspect`, form({ token, ...creds }))).json()) as Record<string, unknown>

    const info = await introspect(tokens.access_token)
    expect(info).toMatchObject({ active: true, hub_id: PORTAL, scopes: ['oauth', 'crm.lists.read'], token_type: 'access', client_id: 'client-1' })
    expect(Number(info.exp)).toBeGreaterThan(Date.now() / 1000)
    expect(await introspect(tokens.refresh_token)).toMatchObject({ active: true, token_type: 'refresh', hub_id: PORTAL })

    const revoked = await fetch(`${sim.url}/oauth/2026-03/token/revoke`, form({ token: tokens.refresh_token, ...creds }))
    expect(revoked.status).toBe(200)
    expect(await introspect(tokens.refresh_token)).toEqual({ active: false })
    const refresh = await fetch(`${sim.url}/oauth/2026-03/token`, form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...creds }))
    expect(refresh.status).toBe(400)
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.any(String), status: 'BAD_REFRESH_TOKEN', message: expect.any(String) })

    // Revoking the refresh token leaves issued access tokens working, as on HubSpot.
    expect((await api(sim, tokens.access_token, 'POST', '/crm/lists/2026-03/search', {})).status).toBe(200)
    const missingScope = await api(sim, tokens.access_token, 'POST', '/crm/objects/2026-03/contacts/batch/read', { inputs: [] })
    expect(missingScope.status).toBe(403)
    expect(missingScope.json.category).toBe('MISSING_SCOPES')

    sim.expireAccessTokens(PORTAL)
    const expired = await api(sim, tokens.access_token, 'POST', '/crm/lists/2026-03/search', {})
    expect(expired.status).toBe(401)
    expect(expired.json).toMatchObject({ status: 'error', category: 'EXPIRED_AUTHENTICATION', correlationId: expect.any(String) })
    expect((await api(sim, 'not-a-token', 'POST', '/crm/lists/2026-03/search', {})).json.category).toBe('INVALID_AUTHENTICATION')
  })
})

describe('rate limits', () => {
  it('returns the real 429 once the ten-second budget is spent, with headers on every response', async () => {
    const sim = await start({ rateLimits: { burst: { max: 5, intervalMs: 10_000 } } })
    const { access_token: token } = sim.install({ portalId: PORTAL })
    for (let i = 0; i < 5; i++) {
      const ok = await api(sim, token, 'POST', '/crm/lists/2026-03/search', {})
      expect(ok.status).toBe(200)
      expect(ok.headers.get('x-hubspot-ratelimit-max')).toBe('5')
      expect(ok.headers.get('x-hubspot-ratelimit-remaining')).toBe(String(4 - i))
      expect(ok.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000')
    }
    const limited = await api(sim, token, 'POST', '/crm/lists/2026-03/search', {})
    expect(limited.status).toBe(429)
    expect(Object.keys(limited.json).sort()).toEqual(['correlationId', 'errorType', 'groupName', 'message', 'policyName', 'status'])
    expect(limited.json).toMatchObject({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
    })
    expect(limited.headers.get('x-hubspot-ratelimit-remaining')).toBe('0')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(sim.stats()).toMatchObject({ total: 6, rateLimited: 1 })

    // Budgets are per app per portal.
    sim.createPortal({ portalId: 777 })
    const other = sim.install({ portalId: 777 })
    expect((await api(sim, other.access_token, 'POST', '/crm/lists/2026-03/search', {})).status).toBe(200)
  })

  it('limits CRM search to 4 requests per second per token with the "secondly" 429', async () => {
    const sim = await start()
    const { access_token: token } = sim.install({ portalId: PORTAL })
    const statuses: number[] = []
    let last: any = null
    for (let i = 0; i < 5; i++) {
      const res = await api(sim, token, 'POST', '/crm/objects/2026-03/contacts/search', { limit: 1 })
      statuses.push(res.status)
      last = res.json
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429])
    expect(last).toMatchObject({ message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT' })
  })
})

describe('CRM data', () => {
  it('pages a seeded list: every member exactly once, recordId ascending, limit max 250', async () => {
    const sim = await start({ rateLimits: { burst: false } })
    const seeded = sim.seed({ portalId: PORTAL, contacts: 3000, lists: [{ name: 'Opted in', memberFraction: 0.5 }, { name: 'VIP', size: 120, processingType: 'MANUAL' }] })
    const { access_token: token } = sim.install({ portalId: PORTAL })
    const listId = seeded.lists[0]?.listId ?? ''

    const seen: string[] = []
    let after: string | undefined
    do {
      const page = await api(sim, token, 'GET', `/crm/lists/2026-03/${listId}/memberships?limit=250${after ? `&after=${encodeURIComponent(after)}` : ''}`)
      expect(page.status).toBe(200)
      expect(page.json.results.length).toBeLessThanOrEqual(250)
      seen.push(...page.json.results.map((r: { recordId: string }) => r.recordId))
      after = page.json.paging?.next?.after
    } while (after)
    expect(seen).toEqual(sim.listMembers(PORTAL, listId).map(String))
    expect(new Set(seen).size).toBe(seeded.lists[0]?.size)

    const joinOrder: number[] = []
    after = undefined
    do {
      const page = await api(sim, token, 'GET', `/crm/lists/2026-03/${listId}/memberships/join-order?limit=250${after ? `&after=${encodeURIComponent(after)}` : ''}`)
      joinOrder.push(...page.json.results.map((r: { membershipTimestamp: string }) => Date.parse(r.membershipTimestamp)))
      after = page.json.paging?.next?.after
    } while (after)
    expect(joinOrder.length).toBe(seen.length)
    expect(joinOrder).toEqual([...joinOrder].sort((a, b) => a - b))

    expect((await api(sim, token, 'GET', `/crm/lists/2026-03/${listId}/memberships?limit=251`)).status).toBe(400)
    const list = await api(sim, token, 'GET', `/crm/lists/2026-03/${listId}`)
    expect(list.json.list).toMatchObject({ listId, name: 'Opted in', objectTypeId: '0-1', processingType: 'DYNAMIC', size: seen.length })
    const missing = await api(sim, token, 'GET', '/crm/lists/2026-03/999999')
    expect(missing.status).toBe(404)
    expect(missing.json).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND', correlationId: expect.any(String) })
  })

  it('batch read: ≤100 inputs, requested properties only, missing ids as a 207 error', async () => {
    const sim = await start({ rateLimits: { burst: false } })
    const seeded = sim.seed({ portalId: PORTAL, contacts: 150 })
    const { access_token: token } = sim.install({ portalId: PORTAL })
    const first = seeded.contacts.firstId ?? 0
    const tooMany = await api(sim, token, 'POST', '/crm/objects/2026-03/contacts/batch/read', { inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(first + i) })), properties: [] })
    expect(tooMany.status).toBe(400)
    expect(tooMany.json.category).toBe('VALIDATION_ERROR')

    const read = await api(sim, token, 'POST', '/crm/objects/2026-03/contacts/batch/read', { inputs: [{ id: String(first) }, { id: '1' }], properties: ['firstname', 'whatsapp_opt_in'] })
    expect(read.status).toBe(207)
    expect(Object.keys(read.json.results[0].properties).sort()).toEqual(['createdate', 'firstname', 'hs_object_id', 'lastmodifieddate', 'whatsapp_opt_in'])
    expect(read.json.errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['1'] } })

    const unknown = await api(sim, token, 'POST', '/crm/objects/2026-03/contacts/batch/update', { inputs: [{ id: String(first), properties: { not_a_property: 'x' } }] })
    expect(unknown.status).toBe(400)
    expect(unknown.json).toMatchObject({ category: 'VALIDATION_ERROR', message: expect.stringContaining('PROPERTY_DOESNT_EXIST') })
    const before = sim.getContact(PORTAL, first)?.updatedAt ?? 0
    const updated = await api(sim, token, 'POST', '/crm/objects/2026-03/contacts/batch/update', { inputs: [{ id: String(first), properties: { whatsapp_opt_in: 'true', firstname: 'Zed' } }] })
    expect(updated.status).toBe(200)
    expect(sim.getContact(PORTAL, first)?.properties).toMatchObject({ whatsapp_opt_in: 'true', firstname: 'Zed' })
    expect(sim.getContact(PORTAL, first)?.updatedAt).toBeGreaterThan(before)
  })

  it('search: filters and totals match the data, limit > 100 and offsets past 10,000 are 400', async () => {
    const sim = await start({ rateLimits: { burst: false, search: false } })
    sim.seed({ portalId: PORTAL, contacts: 12_000 })
    const { access_token: token } = sim.install({ portalId: PORTAL })
    expect((await api(sim, token, 'POST', '/crm/objects/2026-03/contacts/search', { limit: 101 })).status).toBe(400)

    const optedIn = await api(sim, token, 'POST', '/crm/objects/2026-03/contacts/search', {
      filterGroups: [{ filters: [{ propertyName: 'whatsapp_opt_in', operator: 'EQ', value: 'true' }] }],
      sorts: [{ propertyName: 'hs_object_id', direction: 'DESCENDING' }],
      properties: ['mobilephone'],
      limit: 100,
    })
    let expected = 0
    for (let id = 0; id < 200_000; id++) if (sim.getContact(PORTAL, id)?.properties.whatsapp_opt_in === 'true') expected++
    expect(optedIn.json.total).toBe(expected)
    const ids = optedIn.json.results.map((r: { id: string }) => Number(r.id))
    expect(ids).toEqual([...ids].sort((a, b) => b - a))
    expect(optedIn.json.paging.next.after).toBe('100')

    const all = await api(sim, token, 'POST', '/crm/objects/2026-03/contacts/search', { limit: 100, after: '9900' })
    expect(all.json.total).toBe(12_000)
    expect(all.json.paging.next.after).toBe('10000')
    const pastCap = await api(sim, token, 'POST', '/crm/objects/2026-03/contacts/search', { limit: 100, after: '10000' })
    expect(pastCap.status).toBe(400)
  })

  it('seeds deterministically with realistic, parseable phone numbers', async () => {
    const a = await start({ rateLimits: { burst: false } })
    const b = await start({ rateLimits: { burst: false } })
    a.seed({ portalId: PORTAL, contacts: 2000, seed: 7 })
    b.seed({ portalId: PORTAL, contacts: 2000, seed: 7 })
    const first = 1001
    expect(a.getContact(PORTAL, first + 10)).toEqual(b.getContact(PORTAL, first + 10))
    const formats = new Set<string>()
    let checked = 0
    for (let id = first; id < first + 2500; id++) {
      const contact = a.getContact(PORTAL, id)
      if (!contact?.phoneTruth) continue
      formats.add(contact.phoneTruth.format)
      const { format, country, e164 } = contact.phoneTruth
      if (!['e164', 'international', 'national', 'idd00'].includes(format)) continue
      const raw = contact.properties.mobilephone ?? contact.properties.phone ?? ''
      const parsed = parsePhoneNumberFromString(raw.startsWith('00') ? `+${raw.slice(2)}` : raw, country)
      expect(parsed?.number, `${raw} (${country}, ${format})`).toBe(e164)
      expect(parsed?.isValid()).toBe(true)
      checked++
    }
    expect(checked).toBeGreaterThan(1000)
    expect(formats).toEqual(new Set(['e164', 'international', 'national', 'idd00', 'landline', 'legacy_mobile', 'invalid', 'missing']))

    const mutated = a.mutate({ portalId: PORTAL, fraction: 0.1 })
    expect(mutated.changed).toBe(200)
  })

  it('injects failures for a route a given number of times', async () => {
    const sim = await start()
    const { access_token: token } = sim.install({ portalId: PORTAL })
    sim.failNext({ route: 'POST /crm/lists/2026-03/search', status: 503, times: 2 })
    expect((await api(sim, token, 'POST', '/crm/lists/2026-03/search', {})).status).toBe(503)
    expect((await api(sim, token, 'POST', '/crm/lists/2026-03/search', {})).status).toBe(503)
    expect((await api(sim, token, 'POST', '/crm/lists/2026-03/search', {})).status).toBe(200)
  })
})

describe('engagement writes', () => {
  it('validates app events against the declared schema; duplicate ids conflict', async () => {
    const sim = await start()
    const seeded = sim.seed({ portalId: PORTAL, contacts: 5 })
    const objectId = String(seeded.contacts.firstId)
    sim.declareEventTypes([
      {
        name: 'whatsapp_message_delivered',
        properties: [
          { name: 'template_name', type: 'string', required: true },
          { name: 'status', type: 'enumeration', options: ['sent', 'delivered', 'read'] },
          { name: 'sent_at', type: 'datetime' },
        ],
      },
    ])
    const { access_token: token } = sim.install({ portalId: PORTAL })
    const event = { eventTypeName: 'whatsapp_message_delivered', objectId, id: 'wamid.1', properties: { template_name: 'order_update', status: 'delivered', sent_at: Date.now() } }
    expect((await api(sim, token, 'POST', '/integrators/timeline/2026-03/events', event)).status).toBe(201)
    expect((await api(sim, token, 'POST', '/integrators/timeline/2026-03/events', event)).status).toBe(409)
    expect((await api(sim, token, 'POST', '/integrators/timeline/2026-03/events', { ...event, id: 'x', eventTypeName: 'nope' })).status).toBe(400)
    expect((await api(sim, token, 'POST', '/integrators/timeline/2026-03/events', { ...event, id: 'y', properties: { template_name: 'a', status: 'bounced' } })).status).toBe(400)
    expect((await api(sim, token, 'POST', '/integrators/timeline/2026-03/events', { ...event, id: 'z', properties: { template_name: 'a', extra: 1 } })).status).toBe(400)
    expect((await api(sim, token, 'POST', '/integrators/timeline/2026-03/events', { ...event, id: 'w', properties: { status: 'read' } })).status).toBe(400)
    const batch = await api(sim, token, 'POST', '/integrators/timeline/2026-03/events/batch', { inputs: [event, { ...event, id: 'wamid.2' }] })
    expect(batch.status).toBe(207)
    expect(batch.json.numErrors).toBe(1)
    expect(sim.appEvents(PORTAL).map((e) => e.id)).toEqual(['wamid.1', 'wamid.2'])
    const oversize = await api(sim, token, 'POST', '/integrators/timeline/2026-03/events/batch', { inputs: Array.from({ length: 501 }, (_, i) => ({ ...event, id: `b${i}` })) })
    expect(oversize.status).toBe(400)
  })

  it('creates WhatsApp communications associated to existing contacts', async () => {
    const sim = await start()
    const seeded = sim.seed({ portalId: PORTAL, contacts: 3 })
    const contactId = seeded.contacts.firstId ?? 0
    const { access_token: token } = sim.install({ portalId: PORTAL })
    const input = (to: number, channel = 'WHATS_APP'): unknown => ({
      properties: { hs_communication_channel_type: channel, hs_communication_logged_from: 'CRM', hs_communication_body: 'Your order shipped', hs_timestamp: Date.now() },
      associations: [{ to: { id: String(to) }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 81 }] }],
    })
    const created = await api(sim, token, 'POST', '/crm/objects/2026-03/communications/batch/create', { inputs: [input(contactId)] })
    expect(created.status).toBe(201)
    const stored = sim.communications(PORTAL, contactId)
    expect(stored).toHaveLength(1)
    expect(stored[0]?.properties).toMatchObject({ hs_communication_channel_type: 'WHATS_APP', hs_communication_body: 'Your order shipped' })

    expect((await api(sim, token, 'POST', '/crm/objects/2026-03/communications/batch/create', { inputs: [input(contactId, 'FAX')] })).status).toBe(400)
    expect((await api(sim, token, 'POST', '/crm/objects/2026-03/communications/batch/create', { inputs: [input(1)] })).status).toBe(400)
    expect((await api(sim, token, 'POST', '/crm/objects/2026-03/communications/batch/create', { inputs: Array.from({ length: 101 }, () => input(contactId)) })).status).toBe(400)
    expect(sim.communications(PORTAL)).toHaveLength(1)

    const id = created.json.results[0].id
    const update = await api(sim, token, 'POST', '/crm/objects/2026-03/communications/batch/update', { inputs: [{ id, properties: { hs_communication_body: 'Read' } }] })
    expect(update.status).toBe(200)
    expect((await api(sim, token, 'GET', `/crm/objects/2026-03/communications/${id}?associations=contacts`)).json).toMatchObject({
      properties: { hs_communication_body: 'Read' },
      associations: { contacts: { results: [{ id: String(contactId) }] } },
    })
  })
  it('refuses numbered paths that have a date-versioned successor, as HubSpot answers a removed API, and counts them', async () => {
    const sim = await start()
    const { access_token: token } = sim.install({ portalId: PORTAL })
    const refused = await api(sim, token, 'GET', '/crm/v3/lists/1/memberships?limit=10')
    expect(refused.status).toBe(404)
    expect(refused.json).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND', message: expect.stringContaining('date-versioned') })
    expect((await api(sim, token, 'POST', '/automation/v4/actions/callbacks/complete', { inputs: [] })).status).toBe(404)
    expect((await api(sim, token, 'POST', '/communication-preferences/v4/statuses/batch/read', { inputs: [] })).status).toBe(404)
    expect((await fetch(`${sim.url}/oauth/v1/token`, form({ grant_type: 'refresh_token' }))).status).toBe(404)
    expect(sim.stats().refusedNumbered).toEqual({
      'GET /crm/v3/lists/1/memberships': 1,
      'POST /automation/v4/actions/callbacks/complete': 1,
      'POST /communication-preferences/v4/statuses/batch/read': 1,
      'POST /oauth/v1/token': 1,
    })
    // An unknown date-versioned path is an ordinary 404, not a refused numbered one.
    expect((await api(sim, token, 'GET', '/crm/lists/2026-03/nothing/here/at/all')).status).toBe(404)
    expect(Object.keys(sim.stats().refusedNumbered)).toHaveLength(4)
    // The legacy v3 timeline has no date-versioned successor, so it is still served.
    expect((await fetch(`${sim.url}/integrators/timeline/v3/${sim.apps()[0]?.appId}/event-templates?hapikey=${sim.apps()[0]?.developerApiKey}`)).status).toBe(200)
  })

  it('enforces admin validation rules on 2026-09 contact writes only, per record', async () => {
    const sim = await start()
    const { access_token: token } = sim.install({ portalId: PORTAL })
    const first = sim.seed({ portalId: PORTAL, contacts: 2 }).contacts.firstId ?? 0
    const second = first + 1
    sim.setContactProperties(PORTAL, second, { lifecyclestage: 'customer' }, { emitWebhooks: false })
    sim.setContactValidationRules(PORTAL, [{ property: 'company', when: { property: 'lifecyclestage', value: 'customer' } }])
    const inputs = [first, second].map((id) => ({ id: String(id), objectWriteTraceId: `t${id}`, properties: { firstname: 'Ana' } }))

    const current = await api(sim, token, 'POST', '/crm/objects/2026-03/contacts/batch/update', { inputs })
    expect(current.status).toBe(200)
    const enforced = await api(sim, token, 'POST', '/crm/objects/2026-09/contacts/batch/update', { inputs })
    expect(enforced.status).toBe(207)
    expect(enforced.json.results.map((r: { id: string }) => r.id)).toEqual([String(first)])
    expect(enforced.json.errors).toEqual([
      expect.objectContaining({ category: 'VALIDATION_ERROR', context: { ids: [String(second)] }, objectWriteTraceId: `t${second}` }),
    ])
  })
})

describe('signed requests to the connector', () => {
  it('signs webhook deliveries with v1 and v3, and emits propertyChange for API writes', async () => {
    const sim = await start()
    const target = await recorder()
    const seeded = sim.seed({ portalId: PORTAL, contacts: 2 })
    const contactId = seeded.contacts.firstId ?? 0

    const delivery = await sim.sendContactWebhooks(PORTAL, [{ objectId: contactId, propertyName: 'whatsapp_opt_in', propertyValue: 'true' }], target.url)
    expect(delivery.status).toBe(200)
    const [received] = target.requests
    const body = received?.body ?? ''
    const timestamp = String(received?.headers['x-hubspot-request-timestamp'])
    expect(received?.headers['x-hubspot-signature-v3']).toBe(createHmac('sha256', 'secret-1').update(`POST${target.url}${body}${timestamp}`).digest('base64'))
    expect(received?.headers['x-hubspot-signature']).toBe(createHash('sha256').update(`secret-1${body}`).digest('hex'))
    expect(received?.headers['x-hubspot-signature-version']).toBe('v1')
    expect(JSON.parse(body)[0]).toMatchObject({ portalId: PORTAL, appId: 3102938, subscriptionType: 'contact.propertyChange', objectId: contactId, propertyValue: 'true', attemptNumber: 0 })

    // Configure the app like the connector would (developer API key), then write through the API.
    const dev = (method: string, path: string, payload: unknown): Promise<Response> =>
      fetch(`${sim.url}${path}?hapikey=dev-key-1`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) })
    expect((await dev('PUT', '/webhooks/2026-03/3102938/settings', { targetUrl: target.url, throttling: { maxConcurrentRequests: 10 } })).status).toBe(200)
    expect((await dev('POST', '/webhooks/2026-03/3102938/subscriptions', { eventType: 'contact.propertyChange', propertyName: 'whatsapp_opt_in', active: true })).status).toBe(201)
    expect((await fetch(`${sim.url}/webhooks/2026-03/3102938/settings?hapikey=wrong`)).status).toBe(401)
    const { access_token: token } = sim.install({ portalId: PORTAL })
    const current = sim.getContact(PORTAL, contactId)?.properties.whatsapp_opt_in
    const next = current === 'true' ? 'false' : 'true'
    await api(sim, token, 'PATCH', `/crm/objects/2026-03/contacts/${contactId}`, { properties: { whatsapp_opt_in: next, firstname: 'Ana' } })
    await sim.flushWebhooks()
    expect(target.requests).toHaveLength(2)
    expect(JSON.parse(target.requests[1]?.body ?? '[]')).toEqual([
      expect.objectContaining({ objectId: contactId, propertyName: 'whatsapp_opt_in', propertyValue: next, changeSource: 'INTEGRATION', sourceId: '3102938' }),
    ])
  })

  it('invokes a workflow action with v2 + v3 signatures and records callback completions', async () => {
    const sim = await start()
    const target = await recorder()
    const seeded = sim.seed({ portalId: PORTAL, contacts: 1 })
    const objectId = seeded.contacts.firstId ?? 0
    const created = await fetch(`${sim.url}/automation/actions/2026-03/3102938?hapikey=dev-key-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        actionUrl: target.url,
        published: true,
        objectTypes: ['CONTACT'],
        functions: [],
        inputFields: [{ typeDefinition: { name: 'template_name', type: 'string', fieldType: 'text' }, supportedValueTypes: ['STATIC_VALUE'], isRequired: true }],
        labels: { en: { actionName: 'Send WhatsApp template' } },
        objectRequestOptions: { properties: ['firstname'] },
      }),
    })
    expect(created.status).toBe(201)
    const definition = (await created.json()) as { id: string }

    const invocation = await sim.invokeWorkflowAction({ portalId: PORTAL, definitionId: definition.id, objectId, inputFields: { template_name: 'order_update' } })
    expect(invocation.response).toEqual({ outputFields: { hs_execution_state: 'BLOCK' } })
    const [received] = target.requests
    const body = received?.body ?? ''
    expect(received?.headers['x-hubspot-signature-version']).toBe('v2')
    expect(received?.headers['x-hubspot-signature']).toBe(createHash('sha256').update(`secret-1POST${target.url}${body}`).digest('hex'))
    const timestamp = String(received?.headers['x-hubspot-request-timestamp'])
    expect(received?.headers['x-hubspot-signature-v3']).toBe(createHmac('sha256', 'secret-1').update(`POST${target.url}${body}${timestamp}`).digest('base64'))
    expect(JSON.parse(body)).toMatchObject({
      callbackId: invocation.callbackId,
      origin: { portalId: PORTAL, actionDefinitionId: Number(definition.id), actionDefinitionVersion: 1 },
      context: { source: 'WORKFLOWS' },
      object: { objectId, objectType: 'CONTACT', properties: { firstname: expect.any(String) } },
      inputFields: { template_name: 'order_update' },
    })

    const { access_token: token } = sim.install({ portalId: PORTAL })
    const complete = await api(sim, token, 'POST', `/automation/actions/callbacks/2026-03/${invocation.callbackId}/complete`, { outputFields: { hs_execution_state: 'SUCCESS' } })
    expect(complete.status).toBe(204)
    expect(sim.workflowCallbacks()[0]?.completions.map((c) => c.outputFields)).toEqual([{ hs_execution_state: 'SUCCESS' }])
    expect((await api(sim, token, 'POST', '/automation/actions/callbacks/2026-03/unknown/complete', { outputFields: { hs_execution_state: 'SUCCESS' } })).status).toBe(404)
  })
})

describe('/_sim control API', () => {
  it('seeds, reads stats and injects faults over HTTP', async () => {
    const sim = await start()
    const post = (path: string, body: unknown): Promise<Response> => fetch(`${sim.url}/_sim${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const seeded = (await (await post('/seed', { portalId: PORTAL, contacts: 10, lists: [{ name: 'All', memberFraction: 1 }] })).json()) as { lists: { size: number }[] }
    expect(seeded.lists[0]?.size).toBe(10)
    const tokens = (await (await post('/install', { portalId: PORTAL })).json()) as { access_token: string }
    expect((await post('/faults', { route: '/crm/lists/2026-03/search', status: 500 })).status).toBe(204)
    expect((await api(sim, tokens.access_token, 'POST', '/crm/lists/2026-03/search', {})).status).toBe(500)
    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as { total: number; byEndpoint: Record<string, number> }
    expect(stats).toMatchObject({ total: 1, byEndpoint: { 'POST /crm/lists/2026-03/search': 1 } })
    expect((await post('/seed', { portalId: 1, contacts: 1 })).status).toBe(400)
  })
})
