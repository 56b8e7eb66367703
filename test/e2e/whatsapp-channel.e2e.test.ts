import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { apiFor } from '../helpers/crm-stack.ts'
import { adminHeaders } from '../helpers/test-config.ts'
import { eventually, NUMBER, startE2eStack, type E2eStack } from '../helpers/e2e-stack.ts'
import { fixture } from '../helpers/webhooks.ts'

// The connector and the Graph simulator over real HTTP: connect a number, send, and follow the
// signed status webhooks the simulator sends back.

let s: E2eStack
let numberId: string

beforeAll(async () => {
  s = await startE2eStack()
})
afterAll(async () => {
  await s?.close()
})

const api = (method: string, path: string, body?: unknown) => apiFor(s.url)(method, path, body)

async function messageWithStatus(id: string, status: string) {
  return eventually(async () => {
    const r = await api('GET', `/messages/${id}`)
    return r.json.status === status ? r.json : undefined
  }, 10_000, `message ${id} to reach ${status}`)
}

describe('connecting a number', () => {
  test('Meta refusing the token is 422 with the Graph error, and nothing is stored', async () => {
    const r = await api('POST', '/whatsapp-numbers', { phoneNumberId: NUMBER.phoneNumberId, wabaId: NUMBER.wabaId, accessToken: 'EAAG-wrong-token-123' })
    expect(r.status).toBe(422)
    expect(r.json).toMatchObject({ code: 'GRAPH_REFUSED', details: { graph: { code: 190 } } })
    expect((await api('GET', '/whatsapp-numbers')).json).toEqual([])
  })

  test('a number outside the named WABA is refused', async () => {
    const r = await api('POST', '/whatsapp-numbers', { phoneNumberId: NUMBER.phoneNumberId, wabaId: '999999999999', accessToken: NUMBER.accessToken })
    expect(r.status).toBe(422)
    expect((await api('GET', '/whatsapp-numbers')).json).toEqual([])
  })

  test('a malformed body is 400', async () => {
    const r = await api('POST', '/whatsapp-numbers', { phoneNumberId: 'abc', accessToken: 'x' })
    expect(r.status).toBe(400)
    expect(r.json.code).toBe('VALIDATION_ERROR')
  })

  test('a real number is checked against Graph and stored without its token', async () => {
    const r = await api('POST', '/whatsapp-numbers', { ...NUMBER, displayPhoneNumber: undefined })
    expect(r.status).toBe(201)
    expect(r.json).toMatchObject({ phoneNumberId: NUMBER.phoneNumberId, wabaId: NUMBER.wabaId, displayPhoneNumber: NUMBER.displayPhoneNumber, messagesPerSecond: 80 })
    expect(JSON.stringify(r.json)).not.toContain(NUMBER.accessToken)
    numberId = r.json.id
    const list = await api('GET', '/whatsapp-numbers')
    expect(list.json.map((n: { id: string }) => n.id)).toEqual([numberId])
    const { rows } = await s.tdb.db.query<{ access_token_enc: string }>('SELECT access_token_enc FROM whatsapp_numbers')
    expect(rows[0]!.access_token_enc).not.toContain(NUMBER.accessToken)
  })
})

describe('templates', () => {
  test('are read from Graph on sync, listed with their parameters, and kept current by status webhooks', async () => {
    const synced = await api('POST', '/templates/sync', { numberId })
    expect(synced.status).toBe(200)
    const spring = synced.json.find((t: { name: string }) => t.name === 'spring_sale')
    expect(spring).toMatchObject({ language: 'en_US', status: 'APPROVED', category: 'MARKETING', bodyParameters: 2 })
    expect(synced.json.map((t: { name: string }) => t.name).sort()).toEqual(['order_update', 'spring_sale'])
    const update = JSON.parse(fixture('whatsapp/template_status_update_approved.json'))
    update.entry[0].id = NUMBER.wabaId
    update.entry[0].changes[0].value.event = 'PAUSED'
    update.entry[0].changes[0].value.message_template_id = Number(spring.id)
    expect(await s.graph.sendWebhook(update)).toBe(true)
    await eventually(async () => {
      const listed = (await api('GET', `/templates?numberId=${numberId}`)).json
      return listed.find((t: { name: string; status: string }) => t.name === 'spring_sale' && t.status === 'PAUSED')
    }, 5000, 'the template to be PAUSED')
    expect((await api('GET', '/templates?numberId=00000000-0000-4000-8000-000000000000')).status).toBe(404)
  })
})

describe('sending and following statuses', () => {
  test('a template send reaches read through signed webhooks, with biz_opaque_callback_data naming our message', async () => {
    // spring_sale is a marketing template: it goes only to people who opted in.
    expect((await api('POST', '/consent', { phone: '+4915123456789', state: 'opted_in', evidence: { note: 'Signed up at the till' } })).status).toBe(201)
    const r = await api('POST', '/messages', { numberId, to: '+4915123456789', template: { name: 'spring_sale', language: 'en_US' }, bodyParameters: ['Ada', '25%'] })
    expect(r.status).toBe(202)
    const m = await messageWithStatus(r.json.id, 'read')
    expect(m.wamid).toMatch(/^wamid\./)
    expect(m.history.map((h: { status: string }) => h.status)).toEqual(['queued', 'accepted', 'sent', 'delivered', 'read'])
    const sent = s.graph.messages().find((x) => x.wamid === m.wamid)!
    expect(sent.bizOpaqueCallbackData).toBe(r.json.id)
    expect(sent.to).toBe('4915123456789')
    expect((await api('GET', `/messages/${m.wamid}`)).json.id).toBe(r.json.id)
  })

  test('duplicated and reordered webhooks still end at read with each status once', async () => {
    s.graph.setWebhookBehaviour({ duplicate: 1, reorder: true })
    const r = await api('POST', '/messages', { numberId, to: '+4915123450000', template: { name: 'order_update', language: 'en' } })
    await messageWithStatus(r.json.id, 'read')
    await s.graph.flushWebhooks()
    // Reordered, `sent` may be processed after `read`: wait until the history holds all three.
    const m = await eventually(async () => {
      const got = (await api('GET', `/messages/${r.json.id}`)).json
      const seen = got.history.map((h: { status: string }) => h.status)
      return ['sent', 'delivered', 'read'].every((st) => seen.includes(st)) ? got : undefined
    }, 10_000, 'the history to hold sent, delivered and read')
    for (const st of ['sent', 'delivered', 'read']) expect(m.history.filter((h: { status: string }) => h.status === st)).toHaveLength(1)
    const { rows } = await s.tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM message_statuses WHERE wamid = $1', [m.wamid])
    expect(rows[0]!.n).toBe(3)
    s.graph.setWebhookBehaviour({ duplicate: 0, reorder: false })
  })

  test('a person who stopped marketing (async 131050) is opted out, and the next send is refused', async () => {
    s.graph.failRecipient('4917612345678', { code: 131050, mode: 'async' })
    // Opted in a minute before: Meta's opt-out carries a whole-second timestamp, so it must come later to win.
    const optedInAt = new Date(Date.now() - 60_000).toISOString()
    expect((await api('POST', '/consent', { phone: '+4917612345678', state: 'opted_in', evidence: { note: 'Signed up at the till' }, occurredAt: optedInAt })).status).toBe(201)
    const r = await api('POST', '/messages', { numberId, to: '+4917612345678', template: { name: 'spring_sale', language: 'en_US' }, bodyParameters: ['Bo', '10%'] })
    const m = await messageWithStatus(r.json.id, 'failed')
    expect(m.error.code).toBe(131050)
    const c = await api('GET', '/consent?phone=%2B4917612345678')
    expect(c.json.state).toBe('opted_out')
    const before = s.graph.stats().acceptedByRecipient['4917612345678']
    const again = await api('POST', '/messages', { numberId, to: '+4917612345678', template: { name: 'spring_sale', language: 'en_US' }, bodyParameters: ['Bo', '10%'] })
    expect(again.status).toBe(409)
    expect(again.json.code).toBe('RECIPIENT_OPTED_OUT')
    expect(s.graph.stats().acceptedByRecipient['4917612345678']).toBe(before)
  })

  test('a synchronous permanent error (131026) fails the message with Meta\'s code and is not retried', async () => {
    s.graph.failRecipient('31612345678', { code: 131026, mode: 'sync' })
    const r = await api('POST', '/messages', { numberId, to: '+31612345678', template: { name: 'order_update', language: 'en' } })
    const m = await messageWithStatus(r.json.id, 'failed')
    expect(m.error.code).toBe(131026)
    expect(s.graph.stats().rejectedByCode['131026']).toBe(1)
  })

  test('the same idempotency key sends once', async () => {
    const body = { numberId, to: '+4915199999999', template: { name: 'order_update', language: 'en' }, idempotencyKey: 'order-4711-shipped' }
    const [a, b] = await Promise.all([api('POST', '/messages', body), api('POST', '/messages', body)])
    expect(a.json.id).toBe(b.json.id)
    await messageWithStatus(a.json.id, 'read')
    expect(s.graph.stats().acceptedByRecipient['4915199999999']).toBe(1)
  })

  test('a key used again with another request is 409 and sends nothing; the Idempotency-Key header works the same', async () => {
    const first = { numberId, to: '+4915188888888', template: { name: 'order_update', language: 'en' } }
    const send = (body: unknown, key: string) => fetch(`${s.url}/api/v1/messages`, {
      method: 'POST', headers: { ...adminHeaders, 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, json: (await res.json()) as any }))
    const a = await send(first, 'order-4712-shipped')
    expect(a.status).toBe(202)
    // The same request, its keys in another order: the first message again.
    const again = await send({ template: { language: 'en', name: 'order_update' }, to: '+4915188888888', numberId }, 'order-4712-shipped')
    expect(again).toMatchObject({ status: 202, json: { id: a.json.id } })
    const other = await send({ ...first, to: '+4915177777777' }, 'order-4712-shipped')
    expect(other).toMatchObject({ status: 409, json: { code: 'IDEMPOTENCY_KEY_REUSED' } })
    const mismatch = await send({ ...first, idempotencyKey: 'something-else' }, 'order-4712-shipped')
    expect(mismatch).toMatchObject({ status: 400, json: { code: 'IDEMPOTENCY_KEY_MISMATCH' } })
    await messageWithStatus(a.json.id, 'read')
    expect(s.graph.stats().acceptedByRecipient['4915188888888']).toBe(1)
    expect(s.graph.stats().acceptedByRecipient['4915177777777']).toBeUndefined()
  })

  test('an unknown message is 404', async () => {
    const r = await api('GET', '/messages/wamid.nope')
    expect(r.status).toBe(404)
    expect(r.json.code).toBe('NOT_FOUND')
  })
})
