import { randomBytes } from 'node:crypto'
import pino from 'pino'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { recordConsentEvent } from '../../connector/consent/consent-ledger.ts'
import { migrate } from '../../connector/db/migrate.ts'
import { Dispatcher } from '../../connector/dispatch/dispatcher.ts'
import { enqueueMessage, findMessage } from '../../connector/messages/message-repository.ts'
import { upsertNumber } from '../../connector/numbers/number-repository.ts'
import { SecretBox } from '../../connector/security/secret-box.ts'
import type { WhatsAppClient } from '../../connector/whatsapp/graph-client.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'

// The dispatcher checks consent when it claims a batch: an opt-out recorded after a message was
// queued skips that message (never sent), while a consent reply to the same person still goes out.

let tdb: TestDatabase
let numberId: string
const secrets = new SecretBox(randomBytes(32).toString('base64'))
const sent: string[] = []
const graph = {
  sendTemplate: async (_id: string, _token: string, send: { to: string }) => {
    sent.push(`template:${send.to}`)
    return { wamid: `wamid.t-${sent.length}`, waId: send.to, messageStatus: undefined }
  },
  sendText: async (_id: string, _token: string, send: { to: string }) => {
    sent.push(`text:${send.to}`)
    return { wamid: `wamid.x-${sent.length}`, waId: send.to, messageStatus: undefined }
  },
} as unknown as WhatsAppClient

beforeAll(async () => {
  tdb = await createTestDatabase()
  await migrate(tdb.db)
  const { number } = await upsertNumber(tdb.db, {
    phoneNumberId: '1001', wabaId: '2002', displayPhoneNumber: '+1 555 0100', verifiedName: null, qualityRating: null, messagesPerSecond: 80,
    accessTokenSealed: secrets.seal('token'),
  })
  numberId = number.id
})
afterAll(async () => {
  await tdb?.dispose()
})

test('an opt-out after queueing skips the send; a consent reply still goes out', async () => {
  const template = { kind: 'template' as const, templateName: 'promo', templateLanguage: 'en', content: {}, numberId }
  const kept = await enqueueMessage(tdb.db, { ...template, idempotencyKey: 'k1', recipient: '14155550111' })
  const stopped = await enqueueMessage(tdb.db, { ...template, idempotencyKey: 'k2', recipient: '14155550112' })
  const reply = await enqueueMessage(tdb.db, { idempotencyKey: 'k3', numberId, recipient: '14155550112', kind: 'text', content: { body: 'Unsubscribed' }, purpose: 'consent_reply' })
  // 'promo' was never synced, so it counts as marketing: the kept recipient has opted in.
  await recordConsentEvent(tdb.db, { phone: '+14155550111', state: 'opted_in', source: 'test', evidence: {}, occurredAt: new Date() })
  await recordConsentEvent(tdb.db, { phone: '+14155550112', state: 'opted_out', source: 'test', evidence: {}, occurredAt: new Date() })

  const outcomes: string[] = []
  const dispatcher = new Dispatcher({ db: tdb.db, graph, secrets, log: pino({ level: 'silent' }), onSend: (o) => outcomes.push(o) })
  expect(await dispatcher.runOnce()).toBe(2)

  expect(sent.sort()).toEqual(['template:14155550111', 'text:14155550112'])
  expect(outcomes.sort()).toEqual(['accepted', 'accepted', 'skipped'])
  expect((await findMessage(tdb.db, kept.id))?.status).toBe('accepted')
  expect((await findMessage(tdb.db, reply.id))?.status).toBe('accepted')
  expect(await findMessage(tdb.db, stopped.id)).toMatchObject({ status: 'skipped', wamid: null, error: { code: 'RECIPIENT_OPTED_OUT', title: 'Recipient opted out' } })
  expect(await dispatcher.runOnce()).toBe(0)
})
