import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../connector/app.ts'
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts'
import { adminHeaders, testConfig, TEST_VERIFY_TOKEN } from '../helpers/test-config.ts'
import { fixture, fixtureJson, signedHeaders, statusWebhook } from '../helpers/webhooks.ts'

let tdb: TestDatabase
let app: FastifyInstance

beforeAll(async () => {
  tdb = await createTestDatabase()
  app = await buildApp(testConfig(), { db: tdb.db, workers: false })
})
afterAll(async () => {
  await app?.close()
  await tdb?.dispose()
})

async function inboxCount(): Promise<number> {
  const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox')
  return rows[0]!.n
}

async function post(body: string | Buffer, headers = signedHeaders(body)) {
  return app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: body, headers })
}

async function drain() {
  while ((await app.services.inboxProcessor.drainOnce()) > 0) { /* until empty */ }
}

async function consent(phone: string) {
  const res = await app.inject({ url: `/api/v1/consent?phone=${encodeURIComponent(phone)}`, headers: adminHeaders })
  expect(res.statusCode).toBe(200)
  return res.json()
}

describe('verification handshake', () => {
  test('answers the challenge as plain text when the verify token matches', async () => {
    const res = await app.inject({ url: `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${TEST_VERIFY_TOKEN}&hub.challenge=1158201444` })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.body).toBe('1158201444')
  })

  test.each([
    ['wrong token', 'hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1'],
    ['wrong mode', `hub.mode=unsubscribe&hub.verify_token=${TEST_VERIFY_TOKEN}&hub.challenge=1`],
    ['nothing', ''],
  ])('refuses %s with 403', async (_name, query) => {
    const res = await app.inject({ url: `/webhooks/whatsapp?${query}` })
    expect(res.statusCode).toBe(403)
    expect(res.json().code).toBe('VERIFICATION_FAILED')
  })
})

describe('signed intake', () => {
  let before: number
  beforeEach(async () => {
    before = await inboxCount()
  })

  test('a missing signature is 401 and nothing is stored', async () => {
    const body = fixture('whatsapp/status_sent.json')
    const res = await post(body, { 'content-type': 'application/json' })
    expect(res.statusCode).toBe(401)
    expect(res.json()).toMatchObject({ statusCode: 401, code: 'BAD_SIGNATURE' })
    expect(await inboxCount()).toBe(before)
  })

  test('a signature over other bytes (re-serialized JSON) is 401 and nothing is stored', async () => {
    const raw = fixture('whatsapp/status_sent.json')
    const reserialized = JSON.stringify(JSON.parse(raw))
    expect(reserialized).not.toBe(raw)
    const res = await post(reserialized, signedHeaders(raw))
    expect(res.statusCode).toBe(401)
    expect(await inboxCount()).toBe(before)
  })

  test('a signature made with another secret is 401', async () => {
    const body = fixture('whatsapp/status_sent.json')
    expect((await post(body, signedHeaders(body, 'another-secret'))).statusCode).toBe(401)
    expect(await inboxCount()).toBe(before)
  })

  test('a body over 3 MB is 413 and nothing is stored', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 10, 0x20)
    const res = await post(big)
    expect(res.statusCode).toBe(413)
    expect(await inboxCount()).toBe(before)
  })

  test('a signed body that is not JSON is kept as unprocessable and acknowledged', async () => {
    const res = await post('{"entry": [ this is not json')
    expect(res.statusCode).toBe(200)
    const { rows } = await tdb.db.query<{ state: string }>('SELECT state FROM inbox ORDER BY id DESC LIMIT 1')
    expect(rows[0]!.state).toBe('unprocessable')
    const metrics = await app.inject({ url: '/metrics', headers: adminHeaders })
    expect(metrics.body).toMatch(/connector_webhooks_total\{source="whatsapp",outcome="unprocessable"\} 1/)
  })

  test('a signed body is stored byte for byte before the 200', async () => {
    const body = fixture('whatsapp/batch_two_statuses.json')
    const res = await post(body)
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'stored' })
    const { rows } = await tdb.db.query<{ body: Uint8Array; state: string }>('SELECT body, state FROM inbox ORDER BY id DESC LIMIT 1')
    expect(Buffer.from(rows[0]!.body).toString('utf8')).toBe(body)
    expect(rows[0]!.state).toBe('pending')
  })
})

describe('consent signals from WhatsApp', () => {
  test('a STOP text is an opt-out with its evidence; the inbound message keeps the profile name', async () => {
    const body = fixtureJson('whatsapp/inbound_text.json')
    const msg = body.entry[0].changes[0].value.messages[0]
    msg.text.body = '  Stop! '
    msg.id = 'wamid.stop-text'
    msg.from = '4915111111111'
    body.entry[0].changes[0].value.contacts[0].wa_id = '4915111111111'
    const raw = JSON.stringify(body)
    expect((await post(raw)).statusCode).toBe(200)
    expect((await post(raw)).statusCode).toBe(200) // Meta redelivers
    await drain()
    const c = await consent('+4915111111111')
    expect(c.state).toBe('opted_out')
    expect(c.events).toHaveLength(1)
    expect(c.events[0]).toMatchObject({ state: 'opted_out', source: 'whatsapp_keyword', evidence: { wamid: 'wamid.stop-text', text: '  Stop! ' } })
    expect(c.events[0].occurredAt).toBe(new Date(Number(msg.timestamp) * 1000).toISOString())
    const { rows } = await tdb.db.query<{ profile_name: string }>(`SELECT profile_name FROM inbound_messages WHERE wamid = 'wamid.stop-text'`)
    expect(rows[0]!.profile_name).toBe('Ada Lovelace')
  })

  test('a STOP from a Brazilian wa_id without the ninth digit opts out the CRM\'s 13-digit number', async () => {
    const body = fixtureJson('whatsapp/inbound_text.json')
    const msg = body.entry[0].changes[0].value.messages[0]
    msg.text.body = 'PARAR'
    msg.id = 'wamid.br-stop'
    msg.from = '551187654321'
    body.entry[0].changes[0].value.contacts[0].wa_id = '551187654321'
    await post(JSON.stringify(body))
    await drain()
    const c = await consent('+5511987654321')
    expect(c.state).toBe('opted_out')
    expect(c.events[0].evidence.wamid).toBe('wamid.br-stop')
  })

  test('an ordinary message changes no consent', async () => {
    const raw = fixture('whatsapp/inbound_text.json')
    await post(raw)
    await drain()
    expect((await consent('+4915123456789')).state).toBe('unknown')
  })

  test('the "Stop promotions" quick reply is an opt-out', async () => {
    const body = fixtureJson('whatsapp/inbound_quick_reply_button.json')
    body.entry[0].changes[0].value.messages[0].from = '4915122222222'
    await post(JSON.stringify(body))
    await drain()
    const c = await consent('+4915122222222')
    expect(c.state).toBe('opted_out')
    expect(c.events[0].source).toBe('whatsapp_opt_out_button')
  })

  test('user_preferences stop then a later resume: opted out, then opted in, both kept', async () => {
    const stop = fixtureJson('whatsapp/user_preferences_stop.json')
    const pref = stop.entry[0].changes[0].value.user_preferences[0]
    pref.wa_id = '4915133333333'
    await post(JSON.stringify(stop))
    await drain()
    expect((await consent('+4915133333333')).state).toBe('opted_out')
    pref.value = 'resume'
    pref.timestamp += 60
    await post(JSON.stringify(stop))
    await drain()
    const c = await consent('+4915133333333')
    expect(c.state).toBe('opted_in')
    expect(c.events.map((e: { state: string }) => e.state)).toEqual(['opted_in', 'opted_out'])
  })

  test('an older opt-in arriving after a newer opt-out does not win', async () => {
    const stop = fixtureJson('whatsapp/user_preferences_stop.json')
    const pref = stop.entry[0].changes[0].value.user_preferences[0]
    pref.wa_id = '4915144444444'
    await post(JSON.stringify(stop))
    pref.value = 'resume'
    pref.timestamp -= 3600
    await post(JSON.stringify(stop))
    await drain()
    expect((await consent('+4915144444444')).state).toBe('opted_out')
  })

  test('a failed status with 131050 is an opt-out', async () => {
    await post(statusWebhook({ wamid: 'wamid.x131050', status: 'failed', timestamp: 1764086461, recipient: '4917612345678', errorCode: 131050 }))
    await drain()
    const c = await consent('+4917612345678')
    expect(c.state).toBe('opted_out')
    expect(c.events[0]).toMatchObject({ source: 'whatsapp_error_131050', evidence: { wamid: 'wamid.x131050', code: 131050 } })
  })

  test('a failed status with 131026 is not an opt-out', async () => {
    await post(statusWebhook({ wamid: 'wamid.x131026', status: 'failed', timestamp: 1764086461, recipient: '31612345678', errorCode: 131026 }))
    await drain()
    expect((await consent('+31612345678')).state).toBe('unknown')
  })
})

describe('consent API', () => {
  test('needs the admin token', async () => {
    expect((await app.inject({ url: '/api/v1/consent?phone=%2B4915123456789' })).statusCode).toBe(401)
    expect((await app.inject({ url: '/api/v1/consent?phone=%2B4915123456789', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401)
  })

  test('a malformed phone is 400; a phone never seen is unknown with no events', async () => {
    for (const bad of ['4915123456789', '+12', 'abc', '+491512345678901234']) {
      const res = await app.inject({ url: `/api/v1/consent?phone=${encodeURIComponent(bad)}`, headers: adminHeaders })
      expect(res.statusCode, bad).toBe(400)
      expect(res.json().code).toBe('INVALID_PHONE')
    }
    expect(await consent('+447911123456')).toEqual({ phone: '+447911123456', state: 'unknown', events: [], writebacks: [], installations: [] })
  })

  test('a manual change is recorded with its evidence; invalid bodies write nothing', async () => {
    const bad = await app.inject({ method: 'POST', url: '/api/v1/consent', headers: adminHeaders, payload: { phone: '+447400123456', state: 'maybe', evidence: { note: 'x' } } })
    expect(bad.statusCode).toBe(400)
    expect((await consent('+447400123456')).events).toHaveLength(0)
    const res = await app.inject({ method: 'POST', url: '/api/v1/consent', headers: adminHeaders, payload: { phone: '+447400123456', state: 'opted_in', evidence: { note: 'Signed the paper form at the Leeds store' } } })
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({ phone: '+447400123456', state: 'opted_in', events: [{ source: 'manual', evidence: { note: 'Signed the paper form at the Leeds store' } }] })
  })

  test('consent events cannot be edited or deleted', async () => {
    await expect(tdb.db.query(`UPDATE consent_events SET state = 'opted_in'`)).rejects.toThrow(/append-only/)
    await expect(tdb.db.query('DELETE FROM consent_events')).rejects.toThrow(/append-only/)
  })
})

describe('admin API without a configured token', () => {
  test('answers 503 and says why', async () => {
    const open = await buildApp(testConfig({ ADMIN_TOKEN: '' }), { db: tdb.db, workers: false })
    const res = await open.inject({ url: '/api/v1/whatsapp-numbers', headers: adminHeaders })
    expect(res.statusCode).toBe(503)
    expect(res.json()).toMatchObject({ code: 'ADMIN_TOKEN_NOT_CONFIGURED' })
    await open.close()
  })
})
