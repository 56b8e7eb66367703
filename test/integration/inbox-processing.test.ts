import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../connector/app.ts'
import { enqueueMessage, findMessage, markAccepted } from '../../connector/messages/message-repository.ts'
import { upsertNumber } from '../../connector/numbers/number-repository.ts'
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/test-database.ts'
import { InboxProcessor } from '../../connector/inbox/inbox-processor.ts'
import { whatsappInboxHandler } from '../../connector/inbox/whatsapp-events.ts'
import { KeywordMatcher } from '../../connector/consent/keywords.ts'
import { testConfig } from '../helpers/test-config.ts'
import { signedHeaders, statusWebhook } from '../helpers/webhooks.ts'

const STATUSES = ['sent', 'delivered', 'read', 'failed'] as const

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()]
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]))
}

let tdb: TestDatabase
let app: FastifyInstance
let numberId: string

beforeAll(async () => {
  tdb = await createTestDatabase()
  app = await buildApp(testConfig(), { db: tdb.db, workers: false })
  const { number } = await upsertNumber(tdb.db, {
    phoneNumberId: '106540352242922', wabaId: '102290129340398', displayPhoneNumber: '15550783881',
    verifiedName: 'Test', qualityRating: 'GREEN', messagesPerSecond: 80, accessTokenSealed: app.services.secrets.seal('token'),
  })
  numberId = number.id
})
afterAll(async () => {
  await app?.close()
  await tdb?.dispose()
})

async function post(body: string) {
  const res = await app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: body, headers: signedHeaders(body) })
  expect(res.statusCode).toBe(200)
}

async function drain() {
  while ((await app.services.inboxProcessor.drainOnce()) > 0) { /* until empty */ }
}

async function newMessage(key: string) {
  return (await enqueueMessage(tdb.db, { idempotencyKey: key, numberId, recipient: '4915123456789', kind: 'template', templateName: 't', templateLanguage: 'en', content: {} })).id
}

describe('inbox processing', () => {
  test('every permutation of one message\'s four statuses ends at the same status with four history entries', async () => {
    const perms = permutations(STATUSES)
    expect(perms).toHaveLength(24)
    const ids: string[] = []
    for (const [i, perm] of perms.entries()) {
      const id = await newMessage(`perm-${i}`)
      await markAccepted(tdb.db, id, `wamid.perm-${i}`)
      ids.push(id)
      for (const status of perm) {
        const ts = 1764086460 + STATUSES.indexOf(status)
        await post(statusWebhook({ wamid: `wamid.perm-${i}`, status, timestamp: ts, errorCode: status === 'failed' ? 131026 : undefined }))
        // Each permutation is processed in its arrival order, one webhook at a time.
        await drain()
      }
    }
    for (const id of ids) {
      const m = (await findMessage(tdb.db, id))!
      expect(m.status).toBe('failed')
      expect(m.error?.code).toBe(131026)
      expect(m.history.map((h) => h.status)).toEqual(['queued', 'accepted', 'sent', 'delivered', 'read', 'failed'])
    }
  })

  test('the four statuses arriving together in one batch, in every order, end the same way', async () => {
    const ids: string[] = []
    for (const [i, perm] of permutations(STATUSES).entries()) {
      const id = await newMessage(`batch-${i}`)
      await markAccepted(tdb.db, id, `wamid.batch-${i}`)
      ids.push(id)
      for (const status of perm) {
        await post(statusWebhook({ wamid: `wamid.batch-${i}`, status, timestamp: 1764086460 + STATUSES.indexOf(status), errorCode: status === 'failed' ? 131026 : undefined }))
        await post(statusWebhook({ wamid: `wamid.batch-${i}`, status, timestamp: 1764086460 + STATUSES.indexOf(status), errorCode: status === 'failed' ? 131026 : undefined }))
      }
    }
    expect(await app.services.inboxProcessor.drainOnce()).toBe(192)
    for (const id of ids) {
      const m = (await findMessage(tdb.db, id))!
      expect(m.status).toBe('failed')
      expect(m.error?.code).toBe(131026)
      expect(m.history.map((h) => h.status)).toEqual(['queued', 'accepted', 'sent', 'delivered', 'read', 'failed'])
    }
  })

  test('without failed, the three delivery statuses in any order end at read; a late delivered changes only history', async () => {
    for (const [i, perm] of permutations(['sent', 'delivered', 'read']).entries()) {
      const id = await newMessage(`perm3-${i}`)
      await markAccepted(tdb.db, id, `wamid.perm3-${i}`)
      for (const status of perm) {
        await post(statusWebhook({ wamid: `wamid.perm3-${i}`, status, timestamp: 1764086460 + ['sent', 'delivered', 'read'].indexOf(status) }))
        await drain()
        const m = (await findMessage(tdb.db, id))!
        const seen = perm.slice(0, perm.indexOf(status) + 1)
        const expected = seen.includes('read') ? 'read' : seen.includes('delivered') ? 'delivered' : 'sent'
        expect(m.status).toBe(expected)
      }
    }
  })

  test('a status repeated many times is recorded once', async () => {
    const id = await newMessage('dup')
    await markAccepted(tdb.db, id, 'wamid.dup')
    const body = statusWebhook({ wamid: 'wamid.dup', status: 'delivered', timestamp: 1764086462 })
    for (let i = 0; i < 5; i++) await post(body)
    await drain()
    for (let i = 0; i < 3; i++) await post(body)
    await drain()
    const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message_statuses WHERE wamid = 'wamid.dup'`)
    expect(rows[0]!.n).toBe(1)
    const m = (await findMessage(tdb.db, id))!
    expect(m.status).toBe('delivered')
    expect(m.history.filter((h) => h.status === 'delivered')).toHaveLength(1)
  })

  test('statuses for a wamid not known yet are kept and applied when the send commits', async () => {
    const id = await newMessage('early')
    await post(statusWebhook({ wamid: 'wamid.early', status: 'delivered', timestamp: 1764086462 }))
    await post(statusWebhook({ wamid: 'wamid.early', status: 'sent', timestamp: 1764086461 }))
    await drain()
    expect((await findMessage(tdb.db, id))!.status).toBe('queued')
    await markAccepted(tdb.db, id, 'wamid.early')
    const m = (await findMessage(tdb.db, id))!
    expect(m.status).toBe('delivered')
    expect(m.history.map((h) => h.status)).toEqual(['queued', 'accepted', 'sent', 'delivered'])
  })

  test('a status naming our message id in biz_opaque_callback_data adopts the wamid (crash after the Graph call)', async () => {
    const id = await newMessage('orphan')
    await post(statusWebhook({ wamid: 'wamid.orphan', status: 'sent', timestamp: 1764086461, callbackData: id }))
    await drain()
    const m = (await findMessage(tdb.db, id))!
    expect(m.wamid).toBe('wamid.orphan')
    expect(m.status).toBe('sent')
  })

  test('a handler failure is retried later and does not block the rest of the batch', async () => {
    // '{}' is not the JSON array of events HubSpot sends: its handler throws.
    const { rows } = await tdb.db.query<{ id: number }>(`INSERT INTO inbox (source, body) VALUES ('hubspot', '\\x7b7d') RETURNING id`)
    const id = await newMessage('after-bad')
    await markAccepted(tdb.db, id, 'wamid.after-bad')
    await post(statusWebhook({ wamid: 'wamid.after-bad', status: 'read', timestamp: 1764086470 }))
    await app.services.inboxProcessor.drainOnce()
    expect((await findMessage(tdb.db, id))!.status).toBe('read')
    const bad = await tdb.db.query<{ state: string; attempts: number; last_error: string }>('SELECT state, attempts, last_error FROM inbox WHERE id = $1', [rows[0]!.id])
    expect(bad.rows[0]).toMatchObject({ state: 'pending', attempts: 1 })
    expect(bad.rows[0]!.last_error).toMatch(/JSON array of events/)
  })

  test.runIf(usingPostgres)('two instances draining at once share the rows without taking any twice (PostgreSQL)', async () => {
    for (let i = 0; i < 300; i++) await post(statusWebhook({ wamid: `wamid.shared-${i}`, status: 'sent', timestamp: 1764086460 }))
    const otherDb = await tdb.open()
    const seen: number[] = []
    const make = (db: typeof tdb.db) => new InboxProcessor({
      db,
      log: app.log as never,
      batchSize: 50,
      handlers: { whatsapp: whatsappInboxHandler({ keywords: new KeywordMatcher(['STOP'], ['START']), log: app.log as never }) },
      onProcessed: () => { seen.push(1) },
    })
    const a = make(tdb.db)
    const b = make(otherDb)
    const counts = await Promise.all([a, b].map(async (p) => {
      let total = 0
      for (let n = await p.drainOnce(); n > 0; n = await p.drainOnce()) total += n
      return total
    }))
    expect(counts[0]! + counts[1]!).toBe(300)
    expect(counts[0]).toBeGreaterThan(0)
    expect(counts[1]).toBeGreaterThan(0)
    expect(seen).toHaveLength(300)
    const { rows } = await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message_statuses WHERE wamid LIKE 'wamid.shared-%'`)
    expect(rows[0]!.n).toBe(300)
  })
})
