import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startHubSpotStack, startSalesforceStack, type CrmStack } from '../helpers/crm-stack.ts'
import { eventually } from '../helpers/e2e-stack.ts'
import { signedHeaders } from '../helpers/webhooks.ts'
import type { HubSpotSimulator } from '../simulators/hubspot/hubspot-simulator.ts'
import type { SalesforceSimulator } from '../simulators/salesforce/salesforce-simulator.ts'
import { appPropertiesIn, appPropertyTypes } from '../helpers/hubspot-properties.ts'

// The CRM write-back outbox end to end: a signed WhatsApp STOP (or START) for a synced member
// reaches that member's CRM records through the simulators; through a CRM outage the writes stay
// pending with their attempts growing and land, in order, once it ends; a write the CRM refuses
// for good is dead-lettered with its reason and replayed by the retry route.

interface Member { objectType: string; recordId: string; phone: string | null; phoneStatus: string }
interface ConsentWriteback { crm: string; recordId: string; state: string; status: string; attempts: number; error?: { code: string } }
interface OutboxRow { id: string; recordId: string; status: string; attempts: number; payload: { state: string; phone: string }; error: { code: string; message: string } | null }

/** What differs between the CRMs: the stack, the source, reading the record's opt-in, and the faults. */
interface Crm<Sim> {
  name: string
  start(): Promise<CrmStack<Sim>>
  segment(s: CrmStack<Sim>): Promise<{ source: { type: string; id: string }; phoneProperties: string[]; consentProperty: string }>
  /** The opt-in the CRM record holds: true, false, or undefined when unset. */
  optIn(s: CrmStack<Sim>, recordId: string): boolean | undefined
  outage(s: CrmStack<Sim>): void
  recover(s: CrmStack<Sim>): void
  /** The next consent write to `recordId` is refused for good. */
  refuseNext(s: CrmStack<Sim>, recordId: string): void
  refusedCode: string
}

const hubspot: Crm<HubSpotSimulator> = {
  name: 'HubSpot',
  start: () => startHubSpotStack(),
  async segment(s) {
    const portalId = s.sim.portals()[0]!.portalId
    const seeded = s.sim.seed({ portalId, contacts: 120, lists: [{ name: 'Consent e2e', size: 80, processingType: 'MANUAL' }] })
    // The install created the app's contact properties (the write-backs below need them all).
    expect(await appPropertiesIn(s.sim, portalId)).toEqual(appPropertyTypes())
    return { source: { type: 'hubspot_list', id: seeded.lists[0]!.listId }, phoneProperties: ['mobilephone', 'phone'], consentProperty: 'whatsapp_opt_in' }
  },
  optIn(s, recordId) {
    const value = s.sim.getContact(s.sim.portals()[0]!.portalId, Number(recordId))?.properties.whatsapp_opt_in
    return value === 'true' ? true : value === 'false' ? false : undefined
  },
  outage: (s) => s.sim.failNext({ route: 'POST /crm/objects/2026-03/contacts/batch/update', status: 503, times: 1_000_000 }),
  recover: (s) => s.sim.clearFaults(),
  // What HubSpot answers for a contact deleted since it was synced (the simulator has no deletion).
  refuseNext: (s, recordId) => s.sim.failNext({
    route: 'POST /crm/objects/2026-03/contacts/batch/update', status: 400, times: 1,
    body: { status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.', context: { ids: [recordId] } },
  }),
  refusedCode: 'NOT_FOUND',
}

const salesforce: Crm<SalesforceSimulator> = {
  name: 'Salesforce',
  start: () => startSalesforceStack(),
  async segment(s) {
    const orgId = s.sim.orgs()[0]!.orgId
    const seeded = s.sim.seed({ orgId, contacts: 120, leads: 60, campaigns: [{ name: 'Consent e2e', size: 100, leadShare: 0.3 }] })
    return { source: { type: 'salesforce_campaign', id: seeded.campaigns[0]!.id }, phoneProperties: ['MobilePhone', 'Phone'], consentProperty: 'WhatsApp_Opt_In__c' }
  },
  optIn(s, recordId) {
    const value = s.sim.getRecord(s.sim.orgs()[0]!.orgId, recordId)?.WhatsApp_Opt_In__c
    return typeof value === 'boolean' ? value : undefined
  },
  outage: (s) => s.sim.failNext({ route: 'collections.update', status: 503, times: 1_000_000 }),
  recover: (s) => s.sim.clearFaults(),
  // The record was deleted in Salesforce after the sync: its row in the collection answer fails alone.
  refuseNext: (s) => s.sim.failNextRecords({ statusCode: 'ENTITY_IS_DELETED', times: 1 }),
  refusedCode: 'NOT_FOUND',
}

let clock = Math.floor(Date.now() / 1000)
/** A later WhatsApp timestamp each call, so each signal is newer than the last. */
const nextTimestamp = () => String(++clock)

function inboundText(waId: string, text: string, wamid: string): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
      contacts: [{ profile: { name: 'Member' }, wa_id: waId }],
      messages: [{ from: waId, id: wamid, timestamp: nextTimestamp(), type: 'text', text: { body: text } }],
    } }] }],
  })
}

for (const crm of [hubspot, salesforce] as Array<Crm<any>>) {
  describe(`${crm.name}: WhatsApp consent written back through the outbox`, () => {
    let s: CrmStack<any>
    let people: Array<{ phone: string; recordIds: string[] }>
    let seq = 0

    async function say(phone: string, text: string): Promise<void> {
      const body = inboundText(phone.slice(1), text, `wamid.e2e-${crm.name}-${++seq}`)
      const res = await fetch(`${s.base}/webhooks/whatsapp`, { method: 'POST', headers: signedHeaders(body), body })
      expect(res.status).toBe(200)
    }
    const consentOf = async (phone: string) => (await s.api('GET', `/consent?phone=${encodeURIComponent(phone)}`)).json as { state: string; writebacks: ConsentWriteback[] }
    async function outbox(status: string): Promise<OutboxRow[]> {
      const rows = (await s.api('GET', `/writebacks?status=${status}&installationId=${s.installationId}&limit=500`)).json.writebacks as OutboxRow[]
      return rows
    }
    /** Lets time pass for the drainer's backoff: pending writes are due now (as the integration test does), and the drainer looks. */
    async function skipBackoff(): Promise<void> {
      await s.tdb.db.query(`UPDATE writeback_outbox SET next_attempt_at = now() WHERE status = 'pending' AND next_attempt_at > now()`)
      s.app.services.writebacks.nudge()
    }
    const optIns = (p: { recordIds: string[] }) => p.recordIds.map((id) => crm.optIn(s, id))

    beforeAll(async () => {
      s = await crm.start()
      const def = await crm.segment(s)
      const created = await s.api('POST', '/segments', { installationId: s.installationId, name: 'Consent e2e', defaultCountry: 'US', ...def })
      expect(created.status).toBe(201)
      const sync = await s.api('POST', `/segments/${created.json.id}/sync?wait=true`)
      expect(sync.json).toMatchObject({ status: 'succeeded' })
      const members = (await s.api('GET', `/segments/${created.json.id}/members?limit=500`)).json.members as Member[]
      // Every record of a number is that person's: the write goes to each of them.
      const byPhone = new Map<string, string[]>()
      for (const m of members) if (m.phoneStatus === 'ok' && m.phone) byPhone.set(m.phone, [...(byPhone.get(m.phone) ?? []), m.recordId])
      const all = [...byPhone].map(([phone, recordIds]) => ({ phone, recordIds }))
      // An opt-out must show on the record: the first and third hold an opt-in; the second (STOP, then START) need not.
      const optedIn = all.filter((p) => optIns(p).every((v) => v === true))
      // A STOP from someone the connector already holds as opted out changes nothing and writes
      // nothing, so the second is not (where the sync read every unchecked record as an opt-out,
      // another opted-in member).
      let second: typeof all[number] | undefined
      for (const p of all.filter((p) => optIns(p).every((v) => v !== true))) {
        if ((await consentOf(p.phone)).state !== 'opted_out') {
          second = p
          break
        }
      }
      people = [optedIn[0]!, second ?? optedIn[2]!, optedIn[1]!]
      expect(people.every(Boolean)).toBe(true)
    })
    afterAll(async () => {
      await s?.close()
    })

    test('a STOP reaches every CRM record of the member, and the consent record shows the write-back done', async () => {
      const [p] = people as [typeof people[0]]
      await say(p.phone, 'STOP')
      await eventually(async () => (optIns(p).every((v) => v === false) ? true : undefined), 15_000, 'the opt-out on the CRM record')
      const consent = await eventually(async () => {
        const c = await consentOf(p.phone)
        return c.writebacks.length === p.recordIds.length && c.writebacks.every((w) => w.status === 'done') ? c : undefined
      }, 10_000, 'the write-backs done')
      expect(consent.state).toBe('opted_out')
      expect(consent.writebacks.map((w) => [w.recordId, w.state, w.status]).sort())
        .toEqual(p.recordIds.map((id) => [id, 'opted_out', 'done']).sort())
      expect(consent.writebacks.every((w) => w.crm === crm.name.toLowerCase() && w.attempts === 1)).toBe(true)
    })

    test('through a CRM outage the writes stay pending with attempts growing, then land in order, none lost', async () => {
      const [, p] = people as [unknown, typeof people[0]]
      const before = optIns(p)
      crm.outage(s)
      await say(p.phone, 'STOP')
      // Each drainer pass fails (after the adapter's own retries); its attempts grow while the CRM is down.
      const mine = async () => (await outbox('pending')).filter((w) => p.recordIds.includes(w.recordId))
      const failing = await eventually(async () => {
        await skipBackoff()
        const rows = await mine()
        return rows.length === p.recordIds.length && rows.every((w) => w.attempts >= 2) ? rows : undefined
      }, 25_000, 'attempts growing through the outage')
      expect(failing.every((w) => w.error?.code === 'SERVER_ERROR' && w.payload.state === 'opted_out')).toBe(true)
      // The person changes their mind while the CRM is still down: START queues behind the STOP.
      await say(p.phone, 'START')
      await eventually(async () => ((await mine()).length === 2 * p.recordIds.length ? true : undefined), 10_000, 'the START queued')
      expect(optIns(p)).toEqual(before)
      expect((await consentOf(p.phone)).state).toBe('opted_in')

      crm.recover(s)
      await skipBackoff()
      await eventually(async () => {
        const c = await consentOf(p.phone)
        return c.writebacks.length === 2 * p.recordIds.length && c.writebacks.every((w) => w.status === 'done') ? c : undefined
      }, 15_000, 'the write-backs landing after the outage')
      // STOP then START for the same person: the records end opted in, nothing failed.
      expect(optIns(p).every((v) => v === true)).toBe(true)
      expect((await outbox('failed')).filter((w) => p.recordIds.includes(w.recordId))).toEqual([])
    }, 45_000)

    test('a write the CRM refuses for good is dead-lettered with its reason, and the retry route replays it', async () => {
      const [, , p] = people as [unknown, unknown, typeof people[0]]
      const target = p.recordIds[0]!
      crm.refuseNext(s, target)
      await say(p.phone, 'STOP')
      const dead = await eventually(async () => (await outbox('failed')).find((w) => w.recordId === target), 15_000, 'the dead letter')
      expect(dead).toMatchObject({ status: 'failed', attempts: 1, payload: { state: 'opted_out' }, error: { code: crm.refusedCode } })
      expect(dead.error!.message.length).toBeGreaterThan(0)
      expect((await consentOf(p.phone)).writebacks.find((w) => w.recordId === target)).toMatchObject({ status: 'failed', error: { code: crm.refusedCode } })
      expect(crm.optIn(s, target)).not.toBe(false)

      const retried = await s.api('POST', `/writebacks/${dead.id}/retry`)
      expect(retried).toMatchObject({ status: 200, json: { id: dead.id, status: 'pending' } })
      await eventually(async () => (crm.optIn(s, target) === false ? true : undefined), 15_000, 'the replayed write on the record')
      await eventually(async () => ((await consentOf(p.phone)).writebacks.every((w) => w.status === 'done') ? true : undefined), 10_000, 'the replay done')
      expect((await s.api('POST', `/writebacks/${dead.id}/retry`)).json.code).toBe('WRITEBACK_NOT_FAILED')
    }, 30_000)
  })
}
