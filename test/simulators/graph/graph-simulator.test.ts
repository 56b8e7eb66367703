import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startGraphSimulator } from './graph-simulator.ts'
import type { GraphSimulator } from './graph-simulator.ts'

const APP_SECRET = 'test-app-secret'
const PNID = '106540352242922'
const WABA = '102290129340398'
const TOKEN = 'token-main'
const OTHER_PNID = '200000000000001'
const OTHER_TOKEN = 'token-other'
const V = 'v21.0'

function fixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`../../fixtures/whatsapp/${name}.json`, import.meta.url), 'utf8'))
}

interface Received {
  headers: IncomingHttpHeaders
  raw: Buffer
  json: any
}

/** Tiny webhook receiver; `respond` picks the status code per request (index = 0-based arrival order). */
async function startReceiver(respond: (index: number) => number = () => 200) {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const index = received.length
      received.push({ headers: req.headers, raw, json: JSON.parse(raw.toString('utf8')) })
      res.statusCode = respond(index)
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/webhooks/whatsapp`,
    received,
    /** Statuses in arrival order, flattened over entries. */
    statuses: () => received.flatMap((r) => r.json.entry.flatMap((e: any) => e.changes[0].value.statuses)),
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>

function hmac(secret: string, raw: Buffer): string {
  return 'sha256=' + createHmac('sha256', secret).update(raw).digest('hex')
}

const BODY_TEXT = 'Hi {{1}}, take {{2}} off everything until {{3}}.'

function templateSend(to: string, params = ['Ada', '€25', 'May 31'], extra: Record<string, unknown> = {}) {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to,
    type: 'template',
    template: {
      name: 'spring_sale_2025',
      language: { code: 'en_US' },
      components: [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }],
    },
    ...extra,
  }
}

let sim: GraphSimulator
let receiver: Receiver

/** token null = no Authorization header. */
async function graph(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = {}
  if (token !== null) headers['authorization'] = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(sim.url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  return { status: res.status, body: (await res.json()) as any }
}

const send = (body: unknown, pnid = PNID, token = TOKEN) => graph('POST', `/${V}/${pnid}/messages`, body, token)

beforeEach(async () => {
  receiver = await startReceiver()
  sim = await startGraphSimulator({ appSecret: APP_SECRET, webhookUrl: receiver.url, webhookDelivery: { backoffMs: 20, retries: 3 } })
  sim.addNumber({ phoneNumberId: PNID, wabaId: WABA, accessToken: TOKEN, displayPhoneNumber: '+1 555-078-3881', verifiedName: 'Spring Shop' })
  sim.addNumber({ phoneNumberId: OTHER_PNID, wabaId: '300000000000001', accessToken: OTHER_TOKEN, displayPhoneNumber: '+1 555-000-0001' })
  sim.addTemplate(WABA, {
    name: 'spring_sale_2025',
    language: 'en_US',
    category: 'MARKETING',
    components: [{ type: 'BODY', text: BODY_TEXT }],
  })
})

afterEach(async () => {
  await sim.close()
  await receiver.close()
})

describe('auth and Graph errors', () => {
  it('rejects a missing, unknown or foreign token with 190 and unknown ids with 100', async () => {
    const missing = await graph('GET', `/${V}/${PNID}`, undefined, null)
    expect(missing.status).toBe(401)
    expect(missing.body.error).toMatchObject({ code: 190, type: 'OAuthException', error_data: { messaging_product: 'whatsapp' } })
    expect(missing.body.error.message).toMatch(/^\(#190\) /)
    expect(typeof missing.body.error.fbtrace_id).toBe('string')

    expect((await graph('GET', `/${V}/${PNID}`, undefined, 'nope')).body.error.code).toBe(190)
    // A real token of another number does not open this one.
    const foreign = await send(templateSend('4915123456789'), PNID, OTHER_TOKEN)
    expect(foreign).toMatchObject({ status: 401, body: { error: { code: 190 } } })

    const unknown = await graph('GET', `/${V}/999999`)
    expect(unknown.status).toBe(400)
    expect(unknown.body.error).toMatchObject({ code: 100, error_subcode: 33, type: 'GraphMethodException' })
    expect(unknown.body.error.message).toContain("Unsupported get request. Object with ID '999999' does not exist")

    expect(sim.stats().rejectedByCode).toEqual({ '190': 3, '100': 1 })
    expect(sim.stats().sendsAccepted).toBe(0)
  })

  it('serves the phone number, its WABA and the WABA phone list, honouring fields=', async () => {
    const full = await graph('GET', `/${V}/${PNID}`)
    expect(full.body).toEqual({
      id: PNID,
      display_phone_number: '+1 555-078-3881',
      verified_name: 'Spring Shop',
      quality_rating: 'GREEN',
      code_verification_status: 'VERIFIED',
      platform_type: 'CLOUD_API',
      throughput: { level: 'STANDARD' },
    })
    const some = await graph('GET', `/v19.0/${PNID}?fields=quality_rating,throughput`)
    expect(some.body).toEqual({ id: PNID, quality_rating: 'GREEN', throughput: { level: 'STANDARD' } })

    expect((await graph('GET', `/${V}/${WABA}`)).body).toMatchObject({ id: WABA, name: 'Spring Shop' })
    const list = await graph('GET', `/${V}/${WABA}/phone_numbers`)
    expect(list.body.data.map((n: any) => n.id)).toEqual([PNID])
    expect(list.body.paging.cursors).toEqual({ before: expect.any(String), after: expect.any(String) })
    expect(list.body.paging.next).toBeUndefined()

    expect(sim.stats().calls).toEqual({ 'GET /{phone-number-id}': 2, 'GET /{waba-id}': 1, 'GET /phone_numbers': 1 })
  })
})

describe('POST /messages', () => {
  it('accepts a valid template send with the documented response and records it', async () => {
    const res = await send(templateSend('+4915123456789'))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      messaging_product: 'whatsapp',
      contacts: [{ input: '+4915123456789', wa_id: '4915123456789' }],
      messages: [{ id: expect.stringMatching(/^wamid\.[A-Za-z0-9+/]+=*$/), message_status: 'accepted' }],
    })
    const again = await send(templateSend('4915123456789'))
    expect(again.body.messages[0].id).not.toBe(res.body.messages[0].id)

    const stats = sim.stats()
    expect(stats.sendsAccepted).toBe(2)
    expect(stats.acceptedByRecipient).toEqual({ '4915123456789': 2 })
    expect(stats.calls['POST /messages']).toBe(2)
    expect(sim.messages().map((m) => [m.wamid, m.templateName, m.waId])).toEqual([
      [res.body.messages[0].id, 'spring_sale_2025', '4915123456789'],
      [again.body.messages[0].id, 'spring_sale_2025', '4915123456789'],
    ])
  })

  it('rejects malformed bodies with code 100 and a details string', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ to: '4915123456789', type: 'text', text: { body: 'x' } }, /messaging_product is required/],
      [{ messaging_product: 'whatsapp', to: 'call me', type: 'text', text: { body: 'x' } }, /digits only/],
      [{ messaging_product: 'whatsapp', to: '4915123456789', type: 'image' }, /type must be 'template' or 'text'/],
      [{ messaging_product: 'whatsapp', to: '4915123456789', type: 'text', text: {} }, /text\.body is required/],
      [{ messaging_product: 'whatsapp', to: '4915123456789', type: 'template', template: { name: 'x' } }, /language\.code is required/],
    ]
    for (const [body, details] of cases) {
      const res = await send(body)
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe(100)
      expect(res.body.error.error_data.details).toMatch(details)
    }
    expect(sim.stats().rejectedByCode).toEqual({ '100': cases.length })
  })

  it('answers 132001 for unknown or unapproved templates, 132015 for paused ones, 132000 for a wrong parameter count', async () => {
    const unknown = await send({ ...templateSend('4915123456789'), template: { name: 'nope', language: { code: 'en_US' } } })
    expect(unknown.body.error).toMatchObject({ code: 132001, error_data: { details: 'template name (nope) does not exist in en_US' } })
    const wrongLanguage = await send({ ...templateSend('4915123456789'), template: { name: 'spring_sale_2025', language: { code: 'de' } } })
    expect(wrongLanguage.body.error.code).toBe(132001)

    sim.addTemplate(WABA, { name: 'pending_one', language: 'en_US', status: 'PENDING' })
    sim.addTemplate(WABA, { name: 'paused_one', language: 'en_US', status: 'PAUSED' })
    expect((await send({ ...templateSend('4915123456789'), template: { name: 'pending_one', language: { code: 'en_US' } } })).body.error.code).toBe(132001)
    expect((await send({ ...templateSend('4915123456789'), template: { name: 'paused_one', language: { code: 'en_US' } } })).body.error.code).toBe(132015)

    const twoParams = await send(templateSend('4915123456789', ['Ada', '€25']))
    expect(twoParams.status).toBe(400)
    expect(twoParams.body.error.code).toBe(132000)
    expect(twoParams.body.error.error_data.details).toBe('body: number of localizable_params (2) does not match the expected number of params (3)')
    expect(sim.stats().sendsAccepted).toBe(0)
  })

  it('accepts free-form text and bills its statuses as service', async () => {
    const res = await send({ messaging_product: 'whatsapp', to: '4915123456789', type: 'text', text: { body: 'Thanks!' } })
    expect(res.status).toBe(200)
    await sim.flushWebhooks()
    expect(receiver.statuses()[0].pricing).toEqual({ billable: false, pricing_model: 'PMP', type: 'free_customer_service', category: 'service' })
  })
})

describe('limits and faults', () => {
  it('caps throughput per number with 130429', async () => {
    sim.addNumber({ phoneNumberId: PNID, wabaId: WABA, accessToken: TOKEN, displayPhoneNumber: '+1 555-078-3881', messagesPerSecond: 5 })
    const started = performance.now()
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => send(templateSend(`49151000000${String(i).padStart(2, '0')}`))))
    const elapsedMs = performance.now() - started
    const accepted = results.filter((r) => r.status === 200)
    const rejected = results.filter((r) => r.status !== 200)
    // Capacity 5 plus one token per 200 ms the burst was in flight (a loaded machine spreads it out).
    expect(accepted.length).toBeGreaterThanOrEqual(5)
    expect(accepted.length).toBeLessThanOrEqual(5 + Math.floor(elapsedMs / 200))
    expect(rejected.length).toBeGreaterThan(0)
    for (const r of rejected) expect(r.body.error).toMatchObject({ code: 130429, message: '(#130429) Rate limit hit' })
    expect(sim.stats().sendsAccepted).toBe(accepted.length)
    expect(sim.stats().rejectedByCode['130429']).toBe(rejected.length)
  })

  it('enforces the pair rate limit per number and recipient with 131056', async () => {
    const codes: number[] = []
    for (let i = 0; i < 6; i++) codes.push((await send(templateSend('4915123456789'))).status)
    expect(codes).toEqual([200, 200, 200, 200, 200, 400])
    const blocked = await send(templateSend('4915123456789'))
    expect(blocked.body.error.code).toBe(131056)
    expect(blocked.body.error.message).toBe('(#131056) (Business Account, Consumer Account) pair rate limit hit')
    // Other recipients are unaffected.
    expect((await send(templateSend('31687654321'))).status).toBe(200)
  })

  it('returns a synchronous recipient fault for the configured number of times', async () => {
    sim.failRecipient('31612345678', { code: 131026, mode: 'sync', times: 1 })
    const failed = await send(templateSend('31612345678'))
    expect(failed.status).toBe(400)
    expect(failed.body.error).toMatchObject({ code: 131026, message: '(#131026) Message undeliverable' })
    expect((await send(templateSend('31612345678'))).status).toBe(200)
    expect(sim.stats().rejectedByCode).toEqual({ '131026': 1 })
    await sim.flushWebhooks()
    expect(receiver.statuses().map((s: any) => s.status)).toEqual(['sent', 'delivered', 'read'])
  })

  it('turns an asynchronous fault into sent then failed(code) webhooks', async () => {
    sim.failRecipient('4917612345678', { code: 131050, mode: 'async' })
    const res = await send(templateSend('4917612345678', undefined, { biz_opaque_callback_data: 'c=1' }))
    expect(res.status).toBe(200)
    await sim.flushWebhooks()
    const statuses = receiver.statuses()
    expect(statuses.map((s: any) => s.status)).toEqual(['sent', 'failed'])
    const failed = statuses[1]
    const sample = fixture('status_failed_131050').entry[0].changes[0].value.statuses[0]
    expect(failed).toEqual({ ...sample, id: res.body.messages[0].id, timestamp: expect.stringMatching(/^\d+$/), biz_opaque_callback_data: 'c=1' })
    expect(failed.pricing).toBeUndefined()
  })
})

describe('status webhooks', () => {
  it('posts signed sent/delivered/read bodies in the fixture shape, echoing biz_opaque_callback_data', async () => {
    const res = await send(templateSend('4915123456789', undefined, { biz_opaque_callback_data: 'campaign=spring25;contact=8f3a2c' }))
    const wamid = res.body.messages[0].id
    await sim.flushWebhooks()
    expect(receiver.received).toHaveLength(3)

    for (const r of receiver.received) {
      expect(r.headers['content-type']).toBe('application/json')
      expect(r.headers['x-hub-signature-256']).toBe(hmac(APP_SECRET, r.raw))
      expect(r.headers['x-hub-signature-256']).not.toBe(hmac('another-secret', r.raw))
    }

    const [sent, delivered, read] = receiver.received.map((r) => r.json)
    const conversationId = sent.entry[0].changes[0].value.statuses[0].conversation.id
    expect(conversationId).toMatch(/^[0-9a-f]{32}$/)
    const expectLike = (body: any, name: string) => {
      const sample = fixture(name)
      const s = sample.entry[0].changes[0].value.statuses[0]
      s.id = wamid
      s.timestamp = expect.stringMatching(/^\d+$/)
      s.conversation.id = conversationId
      s.biz_opaque_callback_data = 'campaign=spring25;contact=8f3a2c'
      if (s.conversation.expiration_timestamp) s.conversation.expiration_timestamp = expect.stringMatching(/^\d+$/)
      expect(body).toEqual(sample)
      return s
    }
    // status_sent.json carries biz_opaque_callback_data too, so its key order is Meta's full layout.
    expect(Object.keys(sent.entry[0].changes[0].value.statuses[0])).toEqual(Object.keys(expectLike(sent, 'status_sent')))
    expectLike(delivered, 'status_delivered')
    expectLike(read, 'status_read')
    expect(sim.stats()).toMatchObject({ webhooksSent: 3, webhooksFailed: 0 })
  })

  it('duplicates deliveries when duplicate = 1 and sends nothing when disabled', async () => {
    sim.setWebhookBehaviour({ duplicate: 1, statuses: ['sent', 'delivered'] })
    await send(templateSend('4915123456789'))
    await sim.flushWebhooks()
    expect(receiver.statuses().map((s: any) => s.status)).toEqual(['sent', 'sent', 'delivered', 'delivered'])
    expect(receiver.received[0]?.raw.equals(receiver.received[1]?.raw as Buffer)).toBe(true)
    expect(sim.stats().webhooksSent).toBe(4)

    sim.setWebhookBehaviour({ enabled: false })
    await send(templateSend('31687654321'))
    await sim.flushWebhooks()
    expect(receiver.received).toHaveLength(4)
  })

  it('reorders each message\'s statuses when asked', async () => {
    sim.setWebhookBehaviour({ reorder: true })
    for (const to of ['4915123456789', '31687654321', '4917612345678']) await send(templateSend(to))
    await sim.flushWebhooks()
    const byMessage = new Map<string, string[]>()
    for (const s of receiver.statuses()) byMessage.set(s.id, [...(byMessage.get(s.id) ?? []), s.status])
    expect(byMessage.size).toBe(3)
    for (const order of byMessage.values()) {
      expect([...order].sort()).toEqual(['delivered', 'read', 'sent'])
      expect(order).not.toEqual(['sent', 'delivered', 'read'])
    }
  })

  it('redelivers after a 503 and counts deliveries it gives up on', async () => {
    await receiver.close()
    receiver = await startReceiver((i) => (i === 0 ? 503 : 200))
    sim.setWebhookUrl(receiver.url)
    sim.setWebhookBehaviour({ statuses: ['sent'] })
    await send(templateSend('4915123456789'))
    await sim.flushWebhooks()
    expect(receiver.received).toHaveLength(2)
    expect(receiver.received[1]?.raw.equals(receiver.received[0]?.raw as Buffer)).toBe(true)
    expect(sim.stats()).toMatchObject({ webhooksSent: 1, webhooksFailed: 0 })

    await receiver.close()
    receiver = await startReceiver(() => 500)
    sim.setWebhookUrl(receiver.url)
    await send(templateSend('31687654321'))
    await sim.flushWebhooks()
    expect(receiver.received).toHaveLength(4) // first attempt + 3 retries
    expect(sim.stats()).toMatchObject({ webhooksSent: 1, webhooksFailed: 1 })
  })

  it('batches several statuses into one POST, one entry per status', async () => {
    sim.setWebhookBehaviour({ statuses: ['sent'], batchSize: 3 })
    await Promise.all(['4915123456789', '31687654321', '4917612345678'].map((to) => send(templateSend(to))))
    await sim.flushWebhooks()
    expect(receiver.received).toHaveLength(1)
    const body = receiver.received[0]?.json
    expect(body.entry).toHaveLength(3)
    expect(body.entry.map((e: any) => e.changes[0].value.statuses.length)).toEqual([1, 1, 1])
    expect(new Set(receiver.statuses().map((s: any) => s.recipient_id))).toEqual(new Set(['4915123456789', '31687654321', '4917612345678']))
  })

  it('delivers arbitrary signed webhooks with non-ASCII escaped like Meta', async () => {
    const inbound = fixture('inbound_quick_reply_button')
    inbound.entry[0].changes[0].value.contacts[0].profile.name = 'Zoë'
    expect(await sim.sendWebhook(inbound)).toBe(true)
    const [r] = receiver.received
    expect(r?.raw.toString('utf8')).toContain('"Zo\\u00eb"')
    expect(r?.headers['x-hub-signature-256']).toBe(hmac(APP_SECRET, r?.raw as Buffer))
    expect(r?.json).toEqual(inbound)
  })

  it('closes promptly while webhooks are still scheduled', async () => {
    sim.setWebhookBehaviour({ delayMs: 60_000 })
    await send(templateSend('4915123456789'))
    const started = performance.now()
    await sim.close()
    await sim.flushWebhooks()
    expect(performance.now() - started).toBeLessThan(1000)
    expect(receiver.received).toHaveLength(0)
    sim = await startGraphSimulator({ appSecret: APP_SECRET }) // afterEach closes this one
  })
})

describe('message_templates', () => {
  it('pages with Graph cursors and filters by status and name', async () => {
    for (let i = 1; i <= 4; i++) sim.addTemplate(WABA, { name: `t${i}`, language: 'en', status: i === 3 ? 'REJECTED' : 'APPROVED' })
    const names: string[] = []
    let next: string | undefined = `${sim.url}/${V}/${WABA}/message_templates?limit=2&fields=name,status`
    let pages = 0
    while (next) {
      const res = await fetch(next, { headers: { authorization: `Bearer ${TOKEN}` } })
      const body = (await res.json()) as any
      pages += 1
      expect(body.paging.cursors).toEqual({ before: expect.any(String), after: expect.any(String) })
      for (const t of body.data) {
        expect(Object.keys(t).sort()).toEqual(['id', 'name', 'status'])
        names.push(t.name)
      }
      next = body.paging.next
    }
    expect(pages).toBe(3)
    expect(names).toEqual(['spring_sale_2025', 't1', 't2', 't3', 't4'])

    const approved = await graph('GET', `/${V}/${WABA}/message_templates?status=APPROVED&limit=100`)
    expect(approved.body.data.map((t: any) => t.name)).toEqual(['spring_sale_2025', 't1', 't2', 't4'])
    expect(approved.body.paging.next).toBeUndefined()
    const byName = await graph('GET', `/${V}/${WABA}/message_templates?name=t2`)
    expect(byName.body.data).toMatchObject([{ name: 't2', language: 'en', status: 'APPROVED', category: 'MARKETING' }])

    expect((await graph('GET', `/${V}/${WABA}/message_templates?after=garbage`)).body.error.code).toBe(100)
    expect((await graph('GET', `/${V}/${WABA}/message_templates`, undefined, OTHER_TOKEN)).body.error.code).toBe(190)
  })
})

describe('control API', () => {
  it('drives the simulator over /_sim', async () => {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${sim.url}/_sim${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      return { status: res.status, body: (await res.json()) as any }
    }
    expect((await post('/numbers', { phoneNumberId: '777', wabaId: '888', accessToken: 'tk7', displayPhoneNumber: '+44 7700 900000' })).status).toBe(201)
    const template = await post('/templates', { wabaId: '888', name: 'hello', language: 'en', components: [{ type: 'BODY', text: 'Hello {{1}}' }] })
    expect(template).toMatchObject({ status: 201, body: { id: expect.stringMatching(/^\d+$/) } })
    expect((await post('/faults', { waId: '447700900123', code: 131049, mode: 'sync' })).status).toBe(201)
    expect((await post('/webhooks', { statuses: ['sent'], url: receiver.url })).status).toBe(200)
    expect((await post('/faults', { waId: '1', code: 1, mode: 'sometimes' })).status).toBe(400)

    const hello = { messaging_product: 'whatsapp', to: '447700900123', type: 'template', template: { name: 'hello', language: { code: 'en' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Bo' }] }] } }
    expect((await send(hello, '777', 'tk7')).body.error.code).toBe(131049)
    expect((await send({ ...hello, to: '447700900124' }, '777', 'tk7')).status).toBe(200)

    const flushed = await post('/flush', {})
    expect(flushed.body).toMatchObject({ sendsAccepted: 1, webhooksSent: 1, rejectedByCode: { '131049': 1 } })
    expect(receiver.statuses().map((s: any) => s.status)).toEqual(['sent'])
    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as any
    expect(stats.calls).toEqual({ 'POST /messages': 2 })

    expect((await post('/reset', {})).status).toBe(200)
    expect(sim.stats()).toEqual({ sendsAccepted: 0, acceptedByRecipient: {}, rejectedByCode: {}, calls: {}, webhooksSent: 0, webhooksFailed: 0 })
    // Reset cleared the fault but kept numbers and templates.
    expect((await send(hello, '777', 'tk7')).status).toBe(200)
  })
})
