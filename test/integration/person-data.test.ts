import pino from 'pino'
import { beforeAll, describe, expect, test } from 'vitest'
import type { CrmAdapter, CrmRecord } from '../../crm-adapters/crm-adapter.ts'
import { consentStatus, recordConsentEvent } from '../../connector/consent/consent-ledger.ts'
import { insertInboxBodies } from '../../connector/inbox/inbox-repository.ts'
import type { CrmAdapters } from '../../connector/installations/crm-adapters.ts'
import { saveInstallation } from '../../connector/installations/installation-repository.ts'
import { upsertNumber } from '../../connector/numbers/number-repository.ts'
import { personHash } from '../../connector/security/person-hash.ts'
import { insertSegment } from '../../connector/segments/segment-repository.ts'
import { SegmentSyncer } from '../../connector/segments/segment-sync.ts'
import { replaceTemplates } from '../../connector/templates/template-repository.ts'
import { useTestApp } from '../helpers/test-app.ts'
import { adminHeaders, TEST_ENCRYPTION_KEY } from '../helpers/test-config.ts'
import { fixture, signedHeaders } from '../helpers/webhooks.ts'

// A person's data on request, on real SQL: the export after a sync, a message and a STOP shows all
// of it; erasure removes names, properties, bodies and identities while the consent log keeps the
// events under a salted hash that still refuses sends and still matches the same phone later; the
// log's trigger refuses everything else; HubSpot's privacy deletion runs the same erasure.

const t = useTestApp()
const PORTFOLIO = '880000000000001'
const WABA = '102290129340398'
const ADA_USER = 'DE.80571294630518824417'
const ADA_PHONE = '+4915112345678'
const ADA_WA_ID = '4915112345678'
const BOB_PHONE = '+14155550123'
let installationId: string
let segmentId: string
let numberId: string
const list: CrmRecord[] = [
  { id: '101', objectType: 'contact', properties: { phone: ADA_PHONE, firstname: 'Ada' } },
  { id: '202', objectType: 'contact', properties: { phone: BOB_PHONE, firstname: 'Bob' } },
]
const adapter = {
  async *streamSegmentMembers() {
    yield { records: list, nextCursor: undefined, calls: 1 }
  },
  async readSegmentChanges() {
    return undefined
  },
} as unknown as CrmAdapter

async function post(body: string) {
  const res = await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: body, headers: signedHeaders(body) })
  expect(res.statusCode).toBe(200)
  while ((await t.app.services.inboxProcessor.drainOnce()) > 0) { /* until empty */ }
}
/** Ada's message with phone and user id, as another wamid, text and time. */
const adaSays = (text: string, n: number) => fixture('whatsapp/inbound_text_phone_and_user_id.json')
  .replace('"body": "hello"', `"body": ${JSON.stringify(text)}`).replace('wamid.HBgNNDkx', `wamid.N${n}x`).replace('1767225500', String(1767225500 + n * 100))
const people = (method: 'GET' | 'DELETE', query: string) => t.app.inject({ method, url: `/api/v1/people?${query}`, headers: adminHeaders })
const send = (to: string) => t.app.inject({ method: 'POST', url: '/api/v1/messages', headers: adminHeaders, payload: { numberId, to, template: { name: 'receipt', language: 'en' }, bodyParameters: ['Order 42 for Ada'] } })
const phoneQuery = (p: string) => `phone=${encodeURIComponent(p)}`

beforeAll(async () => {
  installationId = (await saveInstallation(t.tdb.db, {
    crm: 'hubspot', accountId: 'portal-77', accountName: 'p', scopes: [], missingScopes: [], userId: null, instanceUrl: null, loginUrl: null,
    accessTokenSealed: t.app.services.secrets.seal('x'), refreshTokenSealed: null, accessTokenExpiresAt: null,
  })).installation.id
  numberId = (await upsertNumber(t.tdb.db, {
    phoneNumberId: '106540352242922', wabaId: WABA, businessPortfolioId: PORTFOLIO, displayPhoneNumber: '15550783881',
    verifiedName: 'Test', qualityRating: 'GREEN', messagesPerSecond: 80, accessTokenSealed: t.app.services.secrets.seal('token'),
  })).number.id
  await replaceTemplates(t.tdb.db, WABA, [{ id: 't-u', name: 'receipt', language: 'en', status: 'APPROVED', category: 'UTILITY' }])
  segmentId = (await insertSegment(t.tdb.db, {
    installationId, name: 'all', source: { type: 'hubspot_list', id: 'l1', name: null }, phoneProperties: ['phone'], defaultCountry: 'US',
    consentProperty: null, copyProperties: ['firstname'], schedule: null, listIsOptIn: null,
  })).id
  const syncer = new SegmentSyncer({ db: t.tdb.db, crm: { for: () => adapter } as unknown as CrmAdapters, log: pino({ level: 'silent' }) })
  expect((await (await syncer.start(segmentId, 'manual')).done).status).toBe('succeeded')
  await post(adaSays('hello', 1))
  expect((await send(ADA_PHONE)).statusCode).toBe(202)
  await post(adaSays('STOP', 2))
})

describe('GET /api/v1/people', () => {
  test('exports the synced record, the WhatsApp identity, the consent trail, the message and what the person sent', async () => {
    const res = await people('GET', phoneQuery(ADA_PHONE))
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ phone: ADA_PHONE, userId: ADA_USER })
    expect(body.whatsappUsers).toEqual([expect.objectContaining({ userId: ADA_USER, phone: ADA_PHONE, username: '@ada.example' })])
    expect(body.contacts).toEqual([expect.objectContaining({ installationId, phone: ADA_PHONE, properties: expect.objectContaining({ firstname: 'Ada' }) })])
    expect(body.crmRecords).toEqual([expect.objectContaining({ recordId: '101', properties: expect.objectContaining({ firstname: 'Ada' }) })])
    expect(body.segmentMemberships).toEqual([expect.objectContaining({ segmentId, recordId: '101' })])
    expect(body.consentEvents).toEqual([expect.objectContaining({ state: 'opted_out', phone: ADA_PHONE })])
    expect(body.messages).toEqual([expect.objectContaining({ recipient: ADA_WA_ID, templateName: 'receipt', content: expect.objectContaining({ components: expect.any(Array) }) })])
    expect(body.inboundMessages.map((m: { text: string; profileName: string }) => [m.text, m.profileName])).toEqual([['hello', 'Ada'], ['STOP', 'Ada']])
  })

  test('a person never seen answers 200 with empty sections; a bad phone or both names are 400', async () => {
    const res = await people('GET', phoneQuery('+33612345678'))
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ whatsappUsers: [], contacts: [], crmRecords: [], segmentMemberships: [], consentEvents: [], messages: [], inboundMessages: [], writebacks: [] })
    expect((await people('GET', 'phone=0612345678')).statusCode).toBe(400)
    expect((await people('GET', `${phoneQuery(ADA_PHONE)}&userId=${ADA_USER}`)).statusCode).toBe(400)
    expect((await people('DELETE', '')).statusCode).toBe(400)
  })
})

describe('DELETE /api/v1/people', () => {
  test('erases names, properties, bodies and identities; the consent log keeps the events under the salted hash', async () => {
    const res = await people('DELETE', `userId=${ADA_USER}`)
    expect(res.statusCode).toBe(200)
    expect(res.json().erased).toMatchObject({ consentEvents: 1, whatsappUsers: 1, contacts: 1, crmRecords: 1, segmentMemberships: 1, messages: 1, inboundMessages: 2 })
    expect(res.json().erased.inboxBodies).toBeGreaterThanOrEqual(2)

    const q = t.tdb.db
    const count = async (sql: string, params: unknown[]) => (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0]!.n
    expect(await count('contacts WHERE phone = $1', [ADA_PHONE])).toBe(0)
    expect(await count('crm_records WHERE record_id = $1', ['101'])).toBe(0)
    expect(await count('segment_members WHERE record_id = $1', ['101'])).toBe(0)
    expect(await count('inbound_messages WHERE from_wa_id = $1 OR from_user_id = $2', [ADA_WA_ID, ADA_USER])).toBe(0)
    expect(await count(`inbox WHERE position(convert_to($1, 'UTF8') IN body) > 0`, [ADA_WA_ID])).toBe(0)
    expect(await count('whatsapp_users WHERE user_id = $1 OR phone = $2 OR username IS NOT NULL', [ADA_USER, ADA_PHONE])).toBe(0)
    expect(await count(`messages WHERE recipient = $1 OR content <> '{}'::jsonb`, [ADA_WA_ID])).toBe(0)
    expect(await count('consent_events WHERE phone = $1 OR match_key = $2', [ADA_PHONE, ADA_WA_ID])).toBe(0)
    // Bob, synced with Ada, is untouched.
    expect(await count('contacts WHERE phone = $1', [BOB_PHONE])).toBe(1)

    const after = (await people('GET', phoneQuery(ADA_PHONE))).json()
    expect(after).toMatchObject({ contacts: [], crmRecords: [], segmentMemberships: [], messages: [], inboundMessages: [] })
    // The hash is HMAC-SHA256 keyed from the encryption key: the same in SQL and in Node.
    expect(after.consentEvents).toEqual([expect.objectContaining({
      state: 'opted_out', phone: personHash(TEST_ENCRYPTION_KEY, ADA_PHONE), matchKey: personHash(TEST_ENCRYPTION_KEY, ADA_WA_ID),
    })])
    expect(after.whatsappUsers).toEqual([expect.objectContaining({ userId: personHash(TEST_ENCRYPTION_KEY, ADA_USER), phone: null, username: null })])
  })

  test('the erased opt-out still refuses a send to that phone', async () => {
    const res = await send(ADA_PHONE)
    expect(res.statusCode).toBe(409)
    expect(res.json().code).toBe('RECIPIENT_OPTED_OUT')
    expect(await consentStatus(t.tdb.db, ADA_PHONE)).toBe('opted_out')
  })

  test('a new signal from that phone and user id lands as the same person, still opted out', async () => {
    await post(adaSays('hello again', 3))
    const byPhone = (await t.app.inject({ method: 'GET', url: `/api/v1/consent?${phoneQuery(ADA_PHONE)}`, headers: adminHeaders })).json()
    expect(byPhone).toMatchObject({ phone: ADA_PHONE, userId: ADA_USER, state: 'opted_out' })
    const byUser = (await t.app.inject({ method: 'GET', url: `/api/v1/consent?userId=${ADA_USER}`, headers: adminHeaders })).json()
    expect(byUser).toMatchObject({ state: 'opted_out' })
    expect((await send(ADA_PHONE)).json().code).toBe('RECIPIENT_OPTED_OUT')
    // A later START counts as usual: the person may opt in again.
    await post(adaSays('START', 4))
    expect(await consentStatus(t.tdb.db, ADA_PHONE)).toBe('opted_in')
  })

  test('the consent log still refuses any other UPDATE and every DELETE', async () => {
    const q = t.tdb.db
    const id = (await q.query<{ id: number }>('SELECT id FROM consent_events WHERE phone LIKE $1 LIMIT 1', ['erased:%'])).rows[0]!.id
    const plain = (await q.query<{ id: number }>('SELECT id FROM consent_events WHERE phone = $1 LIMIT 1', [ADA_PHONE])).rows[0]!.id
    for (const sql of [
      `UPDATE consent_events SET state = 'opted_in' WHERE id = ${id}`,
      `UPDATE consent_events SET phone = 'erased:0000' WHERE id = ${plain}`,
      `UPDATE consent_events SET phone = person_hash(phone), source = 'x' WHERE id = ${plain}`,
      `UPDATE consent_events SET phone = person_hash(phone) WHERE id = ${id}`,
      `UPDATE consent_events SET evidence = '{}' WHERE id = ${plain}`,
      `DELETE FROM consent_events WHERE id = ${id}`,
    ]) await expect(q.query(sql), sql).rejects.toThrow(/append-only/)
  })

  test('HubSpot contact.privacyDeletion erases the contact\'s person', async () => {
    await recordConsentEvent(t.tdb.db, { phone: BOB_PHONE, state: 'opted_out', source: 'test', evidence: {}, occurredAt: new Date() })
    await insertInboxBodies(t.tdb.db, [{ source: 'hubspot', state: 'pending', body: Buffer.from(JSON.stringify([{ eventId: 9, portalId: 'portal-77', subscriptionType: 'contact.privacyDeletion', objectId: 202, occurredAt: Date.now() }])) }])
    while ((await t.app.services.inboxProcessor.drainOnce()) > 0) { /* until empty */ }
    const bob = (await people('GET', phoneQuery(BOB_PHONE))).json()
    expect(bob).toMatchObject({ contacts: [], crmRecords: [], segmentMemberships: [] })
    expect(bob.consentEvents).toEqual([expect.objectContaining({ phone: personHash(TEST_ENCRYPTION_KEY, BOB_PHONE), state: 'opted_out' })])
    expect((await send(BOB_PHONE)).json().code).toBe('RECIPIENT_OPTED_OUT')
  })
})
