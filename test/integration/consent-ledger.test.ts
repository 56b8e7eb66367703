import { afterAll, beforeAll, expect, test } from 'vitest'
import { consentStatus, consentStatusByInstallation, consentStatuses, recordConsentEvent } from '../../connector/consent/consent-ledger.ts'
import { migrate } from '../../connector/db/migrate.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'

// The current-state rule is written once (currentConsentSql); every reader must agree with it:
// the latest source time wins, an opt-out wins a tie, a CRM's signal counts only for its installation.

let tdb: TestDatabase
let a: string
let b: string

beforeAll(async () => {
  tdb = await createTestDatabase()
  await migrate(tdb.db)
  const { rows } = await tdb.db.query<{ id: string }>(`INSERT INTO installations (crm, account_id) VALUES ('hubspot', 'pa'), ('salesforce', 'ob') RETURNING id`)
  ;[a, b] = rows.map((r) => r.id) as [string, string]
})
afterAll(async () => {
  await tdb?.dispose()
})

const at = (iso: string) => new Date(iso)

test('the latest by source time wins, whatever order the events were recorded in', async () => {
  const phone = '+14155550101'
  await recordConsentEvent(tdb.db, { phone, state: 'opted_out', source: 'test', evidence: {}, occurredAt: at('2026-01-02T00:00:00Z') })
  await recordConsentEvent(tdb.db, { phone, state: 'opted_in', source: 'test', evidence: {}, occurredAt: at('2026-01-01T00:00:00Z') })
  expect(await consentStatus(tdb.db, phone)).toBe('opted_out')
  expect((await consentStatuses(tdb.db, [phone])).get(phone)).toBe('opted_out')
})

test('at equal times an opt-out wins, even when the opt-in was recorded later', async () => {
  const phone = '+14155550102'
  await recordConsentEvent(tdb.db, { phone, state: 'opted_out', source: 'test', evidence: {}, occurredAt: at('2026-01-01T00:00:00Z') })
  await recordConsentEvent(tdb.db, { phone, state: 'opted_in', source: 'test', evidence: {}, occurredAt: at('2026-01-01T00:00:00Z') })
  expect(await consentStatus(tdb.db, phone)).toBe('opted_out')
  expect((await consentStatusByInstallation(tdb.db, phone, [a])).get(a)).toBe('opted_out')
})

test("a CRM's signal counts for its own installation; WhatsApp's for every one", async () => {
  const phone = '+14155550103'
  const other = '+14155550104'
  await recordConsentEvent(tdb.db, { phone, installationId: a, state: 'opted_in', source: 'crm', evidence: {}, occurredAt: at('2026-01-01T00:00:00Z') })
  await recordConsentEvent(tdb.db, { phone: other, state: 'opted_out', source: 'whatsapp', evidence: {}, occurredAt: at('2026-01-01T00:00:00Z') })
  const states = await consentStatusByInstallation(tdb.db, phone, [a, b])
  expect(Object.fromEntries(states)).toEqual({ [a]: 'opted_in', [b]: 'unknown' })
  expect(Object.fromEntries(await consentStatuses(tdb.db, [phone, other, phone], b))).toEqual({ [phone]: 'unknown', [other]: 'opted_out' })
  expect(Object.fromEntries(await consentStatuses(tdb.db, [phone, other], a))).toEqual({ [phone]: 'opted_in', [other]: 'opted_out' })
})
