import { randomBytes } from 'node:crypto'
import pino from 'pino'
import { beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { recordConsentEvent } from '../../connector/consent/consent-ledger.ts'
import { Dispatcher } from '../../connector/dispatch/dispatcher.ts'
import { enqueueMessage, findMessage } from '../../connector/messages/message-repository.ts'
import { upsertNumber } from '../../connector/numbers/number-repository.ts'
import { SecretBox } from '../../connector/security/secret-box.ts'
import { replaceTemplates } from '../../connector/templates/template-repository.ts'
import type { WhatsAppClient } from '../../connector/whatsapp/graph-client.ts'
import { useTestApp } from '../helpers/test-app.ts'
import { adminHeaders, TEST_ENCRYPTION_KEY } from '../helpers/test-config.ts'

// Consent by template category, on real SQL: marketing templates (and templates never synced) go
// only to people who opted in, utility and authentication to anyone not opted out. Checked when
// POST /api/v1/messages queues and again when the dispatcher claims, so a change in between wins.

const t = useTestApp()
const WABA = '3003'
let numberId: string
const sent: string[] = []
const graph = {
  sendTemplate: async (_id: string, _token: string, send: { to: string; name: string }) => {
    sent.push(`${send.name}:${send.to}`)
    return { wamid: `wamid.ce-${randomBytes(6).toString('hex')}`, waId: send.to, messageStatus: undefined }
  },
} as unknown as WhatsAppClient

const dispatcher = () => new Dispatcher({ db: t.tdb.db, graph, secrets: new SecretBox(TEST_ENCRYPTION_KEY), log: pino({ level: 'silent' }) })
const optIn = (phone: string, state: 'opted_in' | 'opted_out', occurredAt = new Date()) =>
  recordConsentEvent(t.tdb.db, { phone, state, source: 'test', evidence: {}, occurredAt })
const queue = (key: string, to: string, templateName: string) =>
  enqueueMessage(t.tdb.db, { idempotencyKey: key, numberId, recipient: to.slice(1), kind: 'template', templateName, templateLanguage: 'en', content: {} })
const send = (to: string, name: string, key?: string) => t.app.inject({
  method: 'POST', url: '/api/v1/messages', headers: { ...adminHeaders, ...(key ? { 'idempotency-key': key } : {}) },
  payload: { numberId, to, template: { name, language: 'en' } },
})

beforeAll(async () => {
  const { number } = await upsertNumber(t.tdb.db, {
    phoneNumberId: '1003', wabaId: WABA, displayPhoneNumber: '+1 555 0103', verifiedName: null, qualityRating: null, messagesPerSecond: 80,
    accessTokenSealed: new SecretBox(TEST_ENCRYPTION_KEY).seal('token'),
  })
  numberId = number.id
  await replaceTemplates(t.tdb.db, WABA, [
    { id: 't-m', name: 'promo', language: 'en', status: 'APPROVED', category: 'MARKETING' },
    { id: 't-u', name: 'receipt', language: 'en', status: 'APPROVED', category: 'UTILITY' },
    { id: 't-a', name: 'login_code', language: 'en', status: 'APPROVED', category: 'AUTHENTICATION' },
  ])
})
beforeEach(() => {
  sent.length = 0
})

describe('at claim time', () => {
  test('each category reaches exactly the consent states it may; the skipped carry their reason', async () => {
    const inPhone = '+14155550201'
    const outPhone = '+14155550202'
    const unknownPhone = '+14155550203'
    await optIn(inPhone, 'opted_in')
    await optIn(outPhone, 'opted_out')
    const ids = new Map<string, string>()
    for (const name of ['promo', 'receipt', 'login_code', 'never_synced']) {
      for (const phone of [inPhone, outPhone, unknownPhone]) ids.set(`${name}:${phone.slice(1)}`, (await queue(`claim-${name}-${phone}`, phone, name)).id)
    }
    expect(await dispatcher().runOnce()).toBe(6)
    expect(sent.sort()).toEqual([
      'login_code:14155550201', 'login_code:14155550203', 'never_synced:14155550201', 'promo:14155550201', 'receipt:14155550201', 'receipt:14155550203',
    ])
    const view = async (key: string) => findMessage(t.tdb.db, ids.get(key)!)
    for (const name of ['promo', 'receipt', 'login_code', 'never_synced']) {
      expect(await view(`${name}:14155550202`)).toMatchObject({ status: 'skipped', wamid: null, error: { code: 'RECIPIENT_OPTED_OUT', title: 'Recipient opted out' } })
    }
    for (const name of ['promo', 'never_synced']) {
      expect(await view(`${name}:14155550203`)).toMatchObject({ status: 'skipped', wamid: null, error: { code: 'CONSENT_REQUIRED', title: 'Consent required' } })
    }
    expect((await view('receipt:14155550203'))?.status).toBe('accepted')
  })

  test('consent that changes between queueing and claiming decides', async () => {
    const withdrawn = '+14155550211'
    const given = '+14155550212'
    const stopped = '+14155550213'
    await optIn(withdrawn, 'opted_in', new Date(Date.now() - 60_000))
    await optIn(stopped, 'opted_in', new Date(Date.now() - 60_000))
    const a = await queue('change-a', withdrawn, 'promo')
    const b = await queue('change-b', given, 'promo')
    const c = await queue('change-c', stopped, 'receipt')
    await optIn(withdrawn, 'opted_out')
    await optIn(given, 'opted_in')
    await optIn(stopped, 'opted_out')
    expect(await dispatcher().runOnce()).toBe(1)
    expect(sent).toEqual(['promo:14155550212'])
    expect((await findMessage(t.tdb.db, a.id))?.error?.code).toBe('RECIPIENT_OPTED_OUT')
    expect((await findMessage(t.tdb.db, b.id))?.status).toBe('accepted')
    expect((await findMessage(t.tdb.db, c.id))?.error?.code).toBe('RECIPIENT_OPTED_OUT')
  })

  test('a template synced after queueing is judged by its category at claim time', async () => {
    const phone = '+14155550221'
    const m = await queue('late-sync', phone, 'shipping_note')
    await replaceTemplates(t.tdb.db, WABA, [
      { id: 't-m', name: 'promo', language: 'en', status: 'APPROVED', category: 'MARKETING' },
      { id: 't-u', name: 'receipt', language: 'en', status: 'APPROVED', category: 'UTILITY' },
      { id: 't-a', name: 'login_code', language: 'en', status: 'APPROVED', category: 'AUTHENTICATION' },
      { id: 't-s', name: 'shipping_note', language: 'en', status: 'APPROVED', category: 'UTILITY' },
    ])
    expect(await dispatcher().runOnce()).toBe(1)
    expect(sent).toEqual(['shipping_note:14155550221'])
    expect((await findMessage(t.tdb.db, m.id))?.status).toBe('accepted')
  })
})

describe('POST /api/v1/messages', () => {
  const queued = async () => (await t.tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0]!.n

  test('a marketing or unsynced template without opt-in is 409 CONSENT_REQUIRED, and nothing is queued', async () => {
    const before = await queued()
    for (const name of ['promo', 'never_synced']) {
      const r = await send('+14155550231', name)
      expect(r.statusCode).toBe(409)
      expect(r.json()).toMatchObject({ code: 'CONSENT_REQUIRED' })
    }
    expect(await queued()).toBe(before)
    expect((await send('+14155550231', 'receipt')).statusCode).toBe(202)
    expect((await send('+14155550231', 'login_code')).statusCode).toBe(202)
  })

  test('an opted-out recipient is 409 RECIPIENT_OPTED_OUT for every category; an opted-in one is queued', async () => {
    await optIn('+14155550232', 'opted_out')
    const before = await queued()
    for (const name of ['promo', 'receipt', 'login_code']) {
      const r = await send('+14155550232', name)
      expect(r.statusCode).toBe(409)
      expect(r.json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
    }
    expect(await queued()).toBe(before)
    await optIn('+14155550233', 'opted_in')
    expect((await send('+14155550233', 'promo')).statusCode).toBe(202)
  })

  test('a retry with the same key answers the first message even after consent changed', async () => {
    await optIn('+14155550234', 'opted_in', new Date(Date.now() - 60_000))
    const first = await send('+14155550234', 'promo', 'ce-retry-1')
    expect(first.statusCode).toBe(202)
    await optIn('+14155550234', 'opted_out')
    const again = await send('+14155550234', 'promo', 'ce-retry-1')
    expect(again.statusCode).toBe(202)
    expect(again.json().id).toBe(first.json().id)
  })
})
