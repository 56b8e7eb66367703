import pino from 'pino'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { CrmAdapter, CrmRecord, SegmentChanges } from '../../crm-adapters/crm-adapter.ts'
import { consentStatus, recordConsentEvent } from '../../connector/consent/consent-ledger.ts'
import { migrate } from '../../connector/db/migrate.ts'
import type { CrmAdapters } from '../../connector/installations/crm-adapters.ts'
import { findSegment, insertSegment, type NewSegment } from '../../connector/segments/segment-repository.ts'
import { SegmentSyncer } from '../../connector/segments/segment-sync.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'

// A segment whose CRM list is itself the record of opt-in (listIsOptIn), on real SQL: a member
// joining in a sync is recorded as opted in (source crm_list, the segment's evidence, the sync's
// time), once; a member already in it is not recorded again; leaving the list records nothing.

let tdb: TestDatabase
let installationId: string
/** What the fake CRM list holds now, by segment source id; read in pages of 1,000. */
const lists = new Map<string, CrmRecord[]>()
let changes: SegmentChanges | undefined

const adapter = {
  async *streamSegmentMembers(source: { id: string }) {
    const all = lists.get(source.id) ?? []
    for (let i = 0; i < all.length || i === 0; i += 1000) yield { records: all.slice(i, i + 1000), nextCursor: undefined, calls: 1 }
  },
  async readSegmentChanges() {
    return changes
  },
} as unknown as CrmAdapter
let syncer: SegmentSyncer

const record = (id: string, phone: string | null): CrmRecord => ({ id, objectType: 'contact', properties: { phone }, memberKey: `mk-${id}` })
const phoneOf = (n: number) => `+1415555${String(n).padStart(4, '0')}`
const segmentFor = (sourceId: string, over: Partial<NewSegment> = {}) => insertSegment(tdb.db, {
  installationId, name: sourceId, source: { type: 'hubspot_list', id: sourceId, name: null }, phoneProperties: ['phone'], defaultCountry: 'US',
  consentProperty: null, copyProperties: [], schedule: null, listIsOptIn: { evidence: 'Joined via the WhatsApp sign-up form' }, ...over,
})
const sync = async (segmentId: string) => {
  const view = await (await syncer.start(segmentId, 'manual')).done
  expect(view.status).toBe('succeeded')
  return view
}
const listEvents = async (segmentId: string) => (await tdb.db.query<{ phone: string; state: string; installation_id: string; evidence: Record<string, unknown>; occurred_at: Date }>(
  `SELECT phone, state, installation_id, evidence, occurred_at FROM consent_events WHERE source = 'crm_list' AND evidence->>'segmentId' = $1 ORDER BY phone, id`, [segmentId],
)).rows

beforeAll(async () => {
  tdb = await createTestDatabase()
  await migrate(tdb.db)
  installationId = (await tdb.db.query<{ id: string }>(`INSERT INTO installations (crm, account_id) VALUES ('hubspot', 'p-list') RETURNING id`)).rows[0]!.id
  const crm = { for: () => adapter } as unknown as CrmAdapters
  syncer = new SegmentSyncer({ db: tdb.db, crm, log: pino({ level: 'silent' }) })
})
afterAll(async () => {
  await tdb?.dispose()
})

describe('full syncs', () => {
  test('is stored with the segment', async () => {
    const s = await segmentFor('stored')
    expect((await findSegment(tdb.db, s.id))?.listIsOptIn).toEqual({ evidence: 'Joined via the WhatsApp sign-up form' })
    const plain = await segmentFor('plain', { listIsOptIn: null })
    expect((await findSegment(tdb.db, plain.id))?.listIsOptIn).toBeNull()
  })

  test('joiners are opted in once, at the sync\'s time; staying records nothing; leaving records nothing', async () => {
    const s = await segmentFor('list-a')
    lists.set('list-a', [record('1', phoneOf(1)), record('2', phoneOf(2)), record('3', null)])
    const first = await sync(s.id)
    const events = await listEvents(s.id)
    expect(events.map((e) => e.phone)).toEqual([phoneOf(1), phoneOf(2)])
    for (const e of events) {
      expect(e).toMatchObject({ state: 'opted_in', installation_id: installationId })
      expect(e.evidence).toMatchObject({ note: 'Joined via the WhatsApp sign-up form', objectType: 'contact', list: { type: 'hubspot_list', id: 'list-a' } })
      expect(e.occurred_at.toISOString()).toBe(first.startedAt)
    }
    expect(await consentStatus(tdb.db, phoneOf(1), installationId)).toBe('opted_in')

    // Contact 1 replies STOP while still on the list: a later sync must not opt them back in.
    await recordConsentEvent(tdb.db, { phone: phoneOf(1), state: 'opted_out', source: 'whatsapp_keyword', evidence: {}, occurredAt: new Date() })
    lists.set('list-a', [record('1', phoneOf(1)), record('4', phoneOf(4))])
    await sync(s.id)
    expect((await listEvents(s.id)).map((e) => e.phone)).toEqual([phoneOf(1), phoneOf(2), phoneOf(4)])
    expect(await consentStatus(tdb.db, phoneOf(1), installationId)).toBe('opted_out')
    // Contact 2 left the list: no event, still opted in.
    expect(await consentStatus(tdb.db, phoneOf(2), installationId)).toBe('opted_in')
    const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM consent_events WHERE phone = $1`, [phoneOf(2)])
    expect(rows[0]!.n).toBe(1)

    // Rejoining is joining again.
    lists.set('list-a', [record('1', phoneOf(1)), record('2', phoneOf(2)), record('4', phoneOf(4))])
    await sync(s.id)
    expect((await listEvents(s.id)).map((e) => e.phone)).toEqual([phoneOf(1), phoneOf(2), phoneOf(2), phoneOf(4)])
  })

  test('a list that is not the record of opt-in records no consent', async () => {
    const s = await segmentFor('list-b', { listIsOptIn: null })
    lists.set('list-b', [record('b1', phoneOf(101))])
    await sync(s.id)
    expect(await listEvents(s.id)).toEqual([])
    expect(await consentStatus(tdb.db, phoneOf(101), installationId)).toBe('unknown')
  })

  test('thousands of joiners are recorded, each once', async () => {
    const s = await segmentFor('list-c')
    lists.set('list-c', Array.from({ length: 2_500 }, (_, i) => record(`c${i}`, phoneOf(1000 + i))))
    await sync(s.id)
    const { rows } = await tdb.db.query<{ n: number; people: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT phone)::int AS people FROM consent_events WHERE source = 'crm_list' AND evidence->>'segmentId' = $1`, [s.id],
    )
    expect(rows[0]).toEqual({ n: 2_500, people: 2_500 })
  })
})

describe('incremental syncs', () => {
  test('only members the change feed adds are recorded', async () => {
    const s = await segmentFor('list-d')
    lists.set('list-d', [record('d1', phoneOf(201))])
    changes = undefined
    await sync(s.id)
    expect((await findSegment(tdb.db, s.id))?.changeCursor).toBeTruthy()
    changes = { upserted: [record('d1', phoneOf(201)), record('d2', phoneOf(202))], removedMemberKeys: [], until: new Date().toISOString(), calls: 1 }
    const view = await sync(s.id)
    expect(view.mode).toBe('incremental')
    expect(view.added).toBe(1)
    const events = await listEvents(s.id)
    expect(events.map((e) => e.phone)).toEqual([phoneOf(201), phoneOf(202)])
    expect(events[1]!.occurred_at.toISOString()).toBe(view.startedAt)
    changes = { upserted: [], removedMemberKeys: ['mk-d2'], until: new Date().toISOString(), calls: 1 }
    expect((await sync(s.id)).removed).toBe(1)
    expect(await listEvents(s.id)).toHaveLength(2)
    expect(await consentStatus(tdb.db, phoneOf(202), installationId)).toBe('opted_in')
  })
})
