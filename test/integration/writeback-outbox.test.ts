import fc from 'fast-check'
import pino from 'pino'
import { beforeAll, describe, expect, it } from 'vitest'
import { CrmError, type ConsentWrite, type CrmAdapter, type WriteResult } from '../../crm-adapters/crm-adapter.ts'
import type { CrmProviders } from '../../crm-adapters/registry.ts'
import { upsertContacts } from '../../connector/contacts/contact-repository.ts'
import { upsertCrmRecords } from '../../connector/contacts/crm-record-repository.ts'
import type { Database } from '../../connector/db/database.ts'
import type { CrmAdapters } from '../../connector/installations/crm-adapters.ts'
import { whatsappMatchKey } from '../../connector/phones/whatsapp-id.ts'
import { consentStatus, recordConsentEvent } from '../../connector/consent/consent-ledger.ts'
import { recordConsentAndWriteBack } from '../../connector/writeback/consent-writebacks.ts'
import { WritebackDrainer } from '../../connector/writeback/writeback-drainer.ts'
import { claimWritebacks, takeCallBudget } from '../../connector/writeback/writeback-repository.ts'
import { usingPostgres } from '../helpers/test-database.ts'
import { adminHeaders } from '../helpers/test-config.ts'
import { useTestApp } from '../helpers/test-app.ts'

// The outbox on real SQL: enqueueing per CRM record, claiming without overlap, order and
// coalescing per record, dead letters that block nothing, backoff, the shared budget, the routes.

const ctx = useTestApp()
let installationId: string
let seq = 0

/** A fresh person with `records` HubSpot contacts sharing their number. */
async function person(records: number, installation = installationId): Promise<{ phone: string; recordIds: string[] }> {
  const n = ++seq
  const phone = `+1415555${String(1000 + n).padStart(4, '0')}`
  const ids = await upsertContacts(ctx.tdb.db, installation, [{ phone, matchKey: whatsappMatchKey(phone), country: 'US', properties: {} }])
  const recordIds = Array.from({ length: records }, (_, i) => `${n}0${i}`)
  await upsertCrmRecords(ctx.tdb.db, installation, recordIds.map((recordId) => ({
    objectType: 'contact', recordId, contactId: ids.get(whatsappMatchKey(phone))!, phoneStatus: 'ok', consentValue: null, properties: {}, crmUpdatedAt: null,
  })))
  return { phone, recordIds }
}

const signal = (phone: string, state: 'opted_in' | 'opted_out', at: number, dedupeKey?: string) => ({
  phone, state, source: 'whatsapp_keyword', evidence: {}, occurredAt: new Date(at), ...(dedupeKey ? { dedupeKey } : {}),
})

type Answer = (change: ConsentWrite) => WriteResult
class FakeCrm {
  calls: ConsentWrite[][] = []
  answer: Answer = (c) => ({ id: c.recordId, ok: true })
  throwing: Error | undefined
  readonly adapter = {
    crm: 'hubspot',
    writeConsent: async (changes: ConsentWrite[]) => {
      this.calls.push(changes)
      if (this.throwing) throw this.throwing
      return changes.map((c) => this.answer(c))
    },
  } as unknown as CrmAdapter
}

/** Without a linger unless asked: these tests look at one pass at a time. */
function drainer(db: Database, fake: FakeCrm, o: { budget?: { burst: number; perSecond: number }; lingerMs?: number; batchSize?: number; pollMs?: number } = {}) {
  const budget = o.budget ?? { burst: 1000, perSecond: 1000 }
  const providers = { get: () => ({ writeBatchSize: o.batchSize ?? 100, writeBudget: budget }) } as unknown as CrmProviders
  const crm = { for: () => fake.adapter } as unknown as CrmAdapters
  return new WritebackDrainer({ db, crm, providers, log: pino({ level: 'silent' }), lingerMs: o.lingerMs ?? 0, ...(o.pollMs ? { pollMs: o.pollMs } : {}) })
}

async function rows(recordIds: string[]) {
  const { rows } = await ctx.tdb.db.query<{ id: number; record_id: string; status: string; attempts: number; last_error_code: string | null; due: boolean; payload: { state: string } }>(
    `SELECT id, record_id, status, attempts, last_error_code, next_attempt_at <= now() AS due, payload FROM writeback_outbox WHERE record_id = ANY($1) ORDER BY id`, [recordIds])
  return rows
}

beforeAll(async () => {
  const { rows } = await ctx.tdb.db.query<{ id: string }>(`INSERT INTO installations (crm, account_id) VALUES ('hubspot', 'wb-portal') RETURNING id`)
  installationId = rows[0]!.id
})

describe('the write-back outbox', () => {
  it('enqueues one write per CRM record of the person, once however often the signal is redelivered', async () => {
    const p = await person(2)
    await ctx.tdb.db.transaction((tx) => recordConsentAndWriteBack(tx, signal(p.phone, 'opted_out', 1000, `wa-msg:${p.phone}`)))
    await ctx.tdb.db.transaction((tx) => recordConsentAndWriteBack(tx, signal(p.phone, 'opted_out', 1000, `wa-msg:${p.phone}`)))
    expect((await rows(p.recordIds)).map((r) => [r.record_id, r.status, r.payload.state])).toEqual(p.recordIds.map((id) => [id, 'pending', 'opted_out']))
  })

  it('sends only the latest state of a record, by source time, and settles every write of it', async () => {
    const p = await person(1)
    const fake = new FakeCrm()
    for (const [state, at] of [['opted_out', 3000], ['opted_in', 1000], ['opted_in', 2000]] as const) await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, state, at))
    await drainer(ctx.tdb.db, fake).drainOnce()
    const sent = fake.calls.flat().filter((c) => c.recordId === p.recordIds[0])
    expect(sent).toEqual([expect.objectContaining({ optedIn: false, occurredAt: new Date(3000) })])
    // The two older opt-ins changed nothing (the opt-out is newer): only the opt-out was enqueued.
    expect((await rows(p.recordIds)).map((r) => [r.status, r.payload.state])).toEqual([['done', 'opted_out']])
    // A late, older signal is not sent over the newer state the CRM holds.
    await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, 'opted_in', 500))
    fake.calls = []
    await drainer(ctx.tdb.db, fake).drainOnce()
    expect(fake.calls.flat().filter((c) => c.recordId === p.recordIds[0])).toEqual([])
    expect((await rows(p.recordIds)).at(-1)!.status).toBe('done')
  })

  it('writes nothing that contradicts the ledger when an old WhatsApp opt-in arrives after a newer CRM opt-out', async () => {
    const crmOptOut = (phone: string, at: number) => recordConsentEvent(ctx.tdb.db, { phone, installationId, state: 'opted_out', source: 'hubspot_webhook', evidence: {}, occurredAt: new Date(at) })
    const fake = new FakeCrm()
    const sentTo = (p: { recordIds: string[] }) => fake.calls.flat().filter((c) => p.recordIds.includes(c.recordId))

    // The CRM opt-out is recorded first: the older opt-in changes no state and enqueues nothing.
    const a = await person(1)
    await crmOptOut(a.phone, 2000)
    await recordConsentAndWriteBack(ctx.tdb.db, signal(a.phone, 'opted_in', 1000))
    expect(await rows(a.recordIds)).toEqual([])
    await drainer(ctx.tdb.db, fake).drainOnce()
    expect(sentTo(a)).toEqual([])
    expect(await consentStatus(ctx.tdb.db, a.phone, installationId)).toBe('opted_out')

    // The opt-in was enqueued before the CRM's opt-out reached the connector: what goes is the
    // ledger's state when it is written (the CRM's opt-out, its time), and the outbox says so.
    const b = await person(1)
    await recordConsentAndWriteBack(ctx.tdb.db, signal(b.phone, 'opted_in', 1000))
    await crmOptOut(b.phone, 2000)
    await drainer(ctx.tdb.db, fake).drainOnce()
    expect(sentTo(b)).toEqual([expect.objectContaining({ optedIn: false, occurredAt: new Date(2000), source: 'hubspot_webhook' })])
    expect((await rows(b.recordIds)).map((r) => [r.status, r.payload.state])).toEqual([['done', 'opted_out']])
    expect(await consentStatus(ctx.tdb.db, b.phone, installationId)).toBe('opted_out')
  })

  it('ends with the CRM record equal to the ledger’s state after any interleaving of signals, CRM edits, outages and drains', async () => {
    const { rows: inst } = await ctx.tdb.db.query<{ id: string }>(`INSERT INTO installations (crm, account_id) VALUES ('hubspot', 'interleaving-portal') RETURNING id`)
    const scope = inst[0]!.id
    const state = fc.constantFrom('opted_in' as const, 'opted_out' as const)
    const command = fc.oneof(
      // A WhatsApp signal, possibly late (an older source time) and possibly delivered twice.
      fc.record({ kind: fc.constant('whatsapp' as const), state, lag: fc.integer({ min: 0, max: 4 }), twice: fc.boolean() }),
      // Someone edits the record in the CRM: it holds the value at once, and the connector records the change.
      fc.record({ kind: fc.constant('crm' as const), state }),
      fc.record({ kind: fc.constant('drain' as const), down: fc.boolean() }),
    )
    let runs = 0
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 14 }), async (commands) => {
      const p = await person(1, scope)
      const recordId = p.recordIds[0]!
      const held = new Map<string, string>()
      const fake = new FakeCrm()
      fake.answer = (c) => {
        held.set(c.recordId, c.optedIn ? 'opted_in' : 'opted_out')
        return { id: c.recordId, ok: true }
      }
      const drain = drainer(ctx.tdb.db, fake)
      let clock = 100
      for (const [i, c] of commands.entries()) {
        clock += 10
        if (c.kind === 'whatsapp') {
          const e = signal(p.phone, c.state, clock - c.lag * 10, `wa-msg:interleaving-${++runs}-${i}`)
          for (let k = 0; k < (c.twice ? 2 : 1); k++) await ctx.tdb.db.transaction((tx) => recordConsentAndWriteBack(tx, e))
        } else if (c.kind === 'crm') {
          held.set(recordId, c.state)
          await recordConsentEvent(ctx.tdb.db, { phone: p.phone, installationId: scope, state: c.state, source: 'hubspot_webhook', evidence: {}, occurredAt: new Date(clock) })
        } else {
          fake.throwing = c.down ? new CrmError({ crm: 'hubspot', code: 'SERVER_ERROR', message: 'HubSpot is down', httpStatus: 503 }) : undefined
          await drain.drainOnce()
          fake.throwing = undefined
        }
      }
      // The CRM is back and the backoff has passed: everything pending lands.
      await ctx.tdb.db.query(`UPDATE writeback_outbox SET next_attempt_at = now() WHERE record_id = $1 AND status = 'pending'`, [recordId])
      await drain.drainOnce()
      expect((await rows(p.recordIds)).filter((r) => r.status !== 'done')).toEqual([])
      expect(held.get(recordId) ?? 'unknown').toBe(await consentStatus(ctx.tdb.db, p.phone, scope))
    }), { numRuns: 25 })
  }, 60_000)

  it('dead-letters a write the CRM refuses for good, with its reason, and sends the writes behind it', async () => {
    const p = await person(2)
    const [gone, fine] = p.recordIds as [string, string]
    const fake = new FakeCrm()
    fake.answer = (c) => c.recordId === gone && !c.optedIn
      ? { id: c.recordId, ok: false, error: new CrmError({ crm: 'hubspot', code: 'NOT_FOUND', message: 'contact deleted' }) }
      : { id: c.recordId, ok: true }
    await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, 'opted_out', 1000))
    await drainer(ctx.tdb.db, fake).drainOnce()
    expect((await rows([gone])).map((r) => [r.status, r.last_error_code])).toEqual([['failed', 'NOT_FOUND']])
    expect((await rows([fine])).map((r) => r.status)).toEqual(['done'])
    await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, 'opted_in', 2000))
    await drainer(ctx.tdb.db, fake).drainOnce()
    expect((await rows([gone])).map((r) => r.status)).toEqual(['failed', 'done'])
  })

  it('backs off a retryable failure, holds the record’s later writes behind it, then applies them in order', async () => {
    const p = await person(1)
    const fake = new FakeCrm()
    fake.throwing = new CrmError({ crm: 'hubspot', code: 'SERVER_ERROR', message: 'HubSpot is down', httpStatus: 503 })
    await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, 'opted_out', 1000))
    await drainer(ctx.tdb.db, fake).drainOnce()
    expect((await rows(p.recordIds)).map((r) => [r.status, r.attempts, r.last_error_code, r.due])).toEqual([['pending', 1, 'SERVER_ERROR', false]])
    await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, 'opted_in', 2000))
    fake.calls = []
    await drainer(ctx.tdb.db, fake).drainOnce()
    expect(fake.calls.flat().filter((c) => c.recordId === p.recordIds[0])).toEqual([])
    fake.throwing = undefined
    await ctx.tdb.db.query(`UPDATE writeback_outbox SET next_attempt_at = now() WHERE record_id = $1`, [p.recordIds[0]])
    await drainer(ctx.tdb.db, fake).drainOnce()
    expect(fake.calls.flat().filter((c) => c.recordId === p.recordIds[0])).toEqual([expect.objectContaining({ optedIn: true })])
    expect((await rows(p.recordIds)).map((r) => r.status)).toEqual(['done', 'done'])
  })

  it('lets writes of an inactive installation wait without counting attempts', async () => {
    const p = await person(1)
    const fake = new FakeCrm()
    fake.throwing = new CrmError({ crm: 'hubspot', code: 'INVALID_GRANT', message: 'refresh token revoked' })
    await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, 'opted_out', 1000))
    await drainer(ctx.tdb.db, fake).drainOnce()
    expect((await rows(p.recordIds)).map((r) => [r.status, r.attempts, r.due])).toEqual([['pending', 0, false]])
  })

  it('lets a part-full batch linger for more writes, and sends a full batch at once', async () => {
    const { rows: inst } = await ctx.tdb.db.query<{ id: string }>(`INSERT INTO installations (crm, account_id) VALUES ('hubspot', 'linger-portal') RETURNING id`)
    const people = await Promise.all(Array.from({ length: 3 }, () => person(1, inst[0]!.id)))
    const mine = (fake: FakeCrm) => fake.calls.map((call) => call.filter((c) => people.some((p) => p.recordIds.includes(c.recordId))).length).filter(Boolean)
    for (const p of people.slice(0, 2)) await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, 'opted_out', 1000))
    const fake = new FakeCrm()
    // Two of a batch of three, just enqueued: they wait for the linger.
    await drainer(ctx.tdb.db, fake, { lingerMs: 60_000, batchSize: 3 }).drainOnce()
    expect(mine(fake)).toEqual([])
    // The third fills the batch: it goes at once, in one call.
    await recordConsentAndWriteBack(ctx.tdb.db, signal(people[2]!.phone, 'opted_out', 1000))
    await drainer(ctx.tdb.db, fake, { lingerMs: 60_000, batchSize: 3 }).drainOnce()
    expect(mine(fake)).toEqual([3])
    // A part-full batch goes once its oldest write has waited the linger, and the drainer wakes itself for it.
    for (const p of people) await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, 'opted_in', 2000))
    fake.calls = []
    const lingering = drainer(ctx.tdb.db, fake, { lingerMs: 300, batchSize: 10, pollMs: 60_000 })
    lingering.start()
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(mine(fake)).toEqual([])
    for (let i = 0; i < 50 && !mine(fake).length; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    await lingering.stop()
    expect(mine(fake)).toEqual([3])
  })

  it('never gives one record to two drainers claiming at once', async () => {
    const people = await Promise.all(Array.from({ length: 30 }, () => person(2)))
    for (const p of people) await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, 'opted_out', 1000))
    const second = usingPostgres ? await ctx.tdb.open() : ctx.tdb.db
    const claim = (db: Database) => claimWritebacks(db, { installationId, kind: 'consent', records: 25, leaseSeconds: 60 })
    const [a, b] = await Promise.all([claim(ctx.tdb.db), claim(second)])
    const records = [...a, ...b].map((w) => w.recordId)
    expect(new Set(records).size).toBe(records.length)
    expect(records.length).toBe(50)
    await ctx.tdb.db.query(`UPDATE writeback_outbox SET leased_until = NULL WHERE status = 'pending'`)
  })

  it('draws every instance’s calls from one budget per account', async () => {
    const { rows: inst } = await ctx.tdb.db.query<{ id: string }>(`INSERT INTO installations (crm, account_id) VALUES ('salesforce', 'budget-org') RETURNING id`)
    const budget = { burst: 3, perSecond: 0.001 }
    const second = usingPostgres ? await ctx.tdb.open() : ctx.tdb.db
    const taken = await Promise.all(Array.from({ length: 8 }, (_, i) => takeCallBudget(i % 2 ? second : ctx.tdb.db, inst[0]!.id, budget)))
    expect(taken.filter(Boolean)).toHaveLength(3)
  })

  it('lists write-backs with their reasons and replays a dead letter', async () => {
    const p = await person(1)
    const fake = new FakeCrm()
    fake.answer = (c) => ({ id: c.recordId, ok: false, error: new CrmError({ crm: 'hubspot', code: 'VALIDATION_ERROR', message: 'Property values were not valid' }) })
    await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, 'opted_out', 1000))
    await drainer(ctx.tdb.db, fake).drainOnce()
    const failed = await ctx.app.inject({ url: `/api/v1/writebacks?status=failed&installationId=${installationId}&limit=500`, headers: adminHeaders })
    expect(failed.statusCode).toBe(200)
    const mine = failed.json().writebacks.find((w: { recordId: string }) => w.recordId === p.recordIds[0])
    expect(mine).toMatchObject({ crm: 'hubspot', status: 'failed', attempts: 1, error: { code: 'VALIDATION_ERROR', message: 'Property values were not valid' }, payload: { state: 'opted_out' } })

    const retried = await ctx.app.inject({ method: 'POST', url: `/api/v1/writebacks/${mine.id}/retry`, headers: adminHeaders })
    expect(retried.statusCode).toBe(200)
    expect(retried.json()).toMatchObject({ id: mine.id, status: 'pending' })
    expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/writebacks/${mine.id}/retry`, headers: adminHeaders })).statusCode).toBe(409)
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/writebacks/999999999/retry', headers: adminHeaders })).statusCode).toBe(404)
    fake.answer = (c) => ({ id: c.recordId, ok: true })
    await drainer(ctx.tdb.db, fake).drainOnce()
    expect((await rows(p.recordIds)).map((r) => r.status)).toEqual(['done'])

    const page1 = await ctx.app.inject({ url: `/api/v1/writebacks?limit=2`, headers: adminHeaders })
    const page2 = await ctx.app.inject({ url: `/api/v1/writebacks?limit=2&cursor=${page1.json().nextCursor}`, headers: adminHeaders })
    expect(Number(page2.json().writebacks[0].id)).toBeLessThan(Number(page1.json().writebacks[1].id))
  })

  it('writes a manual change back and shows the write-backs in the consent record', async () => {
    const p = await person(1)
    const posted = await ctx.app.inject({ method: 'POST', url: '/api/v1/consent', headers: adminHeaders,
      payload: { phone: p.phone, state: 'opted_out', evidence: { note: 'asked by phone' } } })
    expect(posted.statusCode).toBe(201)
    expect(posted.json().writebacks).toEqual([expect.objectContaining({ crm: 'hubspot', recordId: p.recordIds[0], state: 'opted_out', status: 'pending', attempts: 0 })])
    await drainer(ctx.tdb.db, new FakeCrm()).drainOnce()
    const record = (await ctx.app.inject({ url: `/api/v1/consent?phone=${encodeURIComponent(p.phone)}`, headers: adminHeaders })).json()
    expect(record.writebacks).toEqual([expect.objectContaining({ crm: 'hubspot', recordId: p.recordIds[0], state: 'opted_out', status: 'done', attempts: 1, at: expect.any(String) })])
  })

  it('shows the outbox depth and the age of its oldest pending write per CRM in /metrics', async () => {
    const p = await person(1)
    await recordConsentAndWriteBack(ctx.tdb.db, signal(p.phone, 'opted_out', 1000))
    const text = (await ctx.app.inject({ url: '/metrics', headers: adminHeaders })).body
    expect(Number(/connector_writeback_pending\{crm="hubspot"\} (\d+)/.exec(text)?.[1])).toBeGreaterThan(0)
    expect(text).toMatch(/connector_writeback_oldest_pending_seconds\{crm="hubspot"\} [0-9.e+-]+/)
    expect(text).toMatch(/connector_writeback_pending\{crm="salesforce"\} 0/)
  })
})
