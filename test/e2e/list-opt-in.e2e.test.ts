import { afterAll, beforeAll, expect, test } from 'vitest'
import { startHubSpotStack, type CrmStack } from '../helpers/crm-stack.ts'
import type { HubSpotSimulator } from '../simulators/hubspot/hubspot-simulator.ts'

// POST /api/v1/segments with listIsOptIn through the HubSpot simulator: stored and shown with the
// segment, and its members opted in by the first sync (no consent property mapped).

let s: CrmStack<HubSpotSimulator> & { portalId: number }
let listId: string

beforeAll(async () => {
  s = await startHubSpotStack()
  listId = s.sim.seed({ portalId: s.portalId, contacts: 60, lists: [{ name: 'WhatsApp sign-ups', size: 40, processingType: 'MANUAL' }] }).lists[0]!.listId
})
afterAll(async () => {
  await s?.close()
})

const body = (over: Record<string, unknown> = {}) => ({
  installationId: s.installationId, name: 'Sign-ups', source: { type: 'hubspot_list', id: listId }, phoneProperties: ['mobilephone', 'phone'], defaultCountry: 'US', ...over,
})

test('a malformed listIsOptIn is 400', async () => {
  for (const listIsOptIn of [{}, { evidence: '' }, { evidence: 'Signed up', extra: 1 }, true]) {
    expect((await s.api('POST', '/segments', body({ listIsOptIn }))).status).toBe(400)
  }
})

test('members of a list that is the record of opt-in are opted in when they join', async () => {
  const evidence = 'Contacts join this list only through the WhatsApp sign-up form'
  const created = await s.api('POST', '/segments', body({ listIsOptIn: { evidence } }))
  expect(created.status).toBe(201)
  expect(created.json.listIsOptIn).toEqual({ evidence })
  const sync = await s.api('POST', `/segments/${created.json.id}/sync?wait=true`)
  expect(sync.json).toMatchObject({ status: 'succeeded', added: 40 })
  const seg = (await s.api('GET', `/segments/${created.json.id}`)).json
  expect(seg.listIsOptIn).toEqual({ evidence })
  expect(seg.counts.optedIn).toBe(seg.counts.optedIn + seg.counts.optedOut + seg.counts.noConsent)
  expect(seg.counts.optedIn).toBeGreaterThan(0)
  const member = (await s.api('GET', `/segments/${created.json.id}/members?limit=100`)).json.members.find((m: { phone: string | null }) => m.phone)
  expect(member.consent).toBe('opted_in')
  const consent = (await s.api('GET', `/consent?phone=${encodeURIComponent(member.phone)}`)).json
  expect(consent.events[0]).toMatchObject({ state: 'opted_in', source: 'crm_list', evidence: { note: evidence, segmentId: created.json.id } })

  const plain = await s.api('POST', '/segments', body({ name: 'Plain' }))
  expect(plain.json.listIsOptIn).toBeNull()
})
