import { afterAll, beforeAll, expect, test } from 'vitest'
import { apiFor } from '../helpers/crm-stack.ts'
import { eventually, NUMBER, startE2eStack, type E2eStack } from '../helpers/e2e-stack.ts'
import { fixtureJson } from '../helpers/webhooks.ts'
import { SIMULATED_PORTFOLIO_ID } from '../simulators/graph/registry.ts'

// A WhatsApp user who hides their phone (reference whatsapp.md §9), through the Graph simulator:
// known by business-scoped user id from their first message, sent to by `recipient`, and their
// STOP recorded and honoured although no phone ever came.

const ADA_USER = 'DE.80571294630518824417'
let s: E2eStack
let numberId: string

const api = (method: string, path: string, body?: unknown) => apiFor(s.url)(method, path, body)

/** A fixture as sent now (the simulator signs it), so message times are fresh. */
function now(name: string) {
  const body = fixtureJson(`whatsapp/${name}`)
  for (const m of body.entry[0].changes[0].value.messages ?? []) m.timestamp = String(Math.floor(Date.now() / 1000))
  return body
}

beforeAll(async () => {
  s = await startE2eStack()
  const connected = await api('POST', '/whatsapp-numbers', { phoneNumberId: NUMBER.phoneNumberId, wabaId: NUMBER.wabaId, accessToken: NUMBER.accessToken })
  expect(connected.status).toBe(201)
  // The business portfolio is read from Graph (owner_business_info of the WABA).
  expect(connected.json).toMatchObject({ businessPortfolioId: SIMULATED_PORTFOLIO_ID, installationIds: [] })
  numberId = connected.json.id
  expect((await api('POST', '/templates/sync', { numberId })).status).toBe(200)
})
afterAll(async () => {
  await s?.close()
})

test('a send by user id goes out as recipient and is followed to read by recipient_user_id statuses', async () => {
  expect(await s.graph.sendWebhook(now('inbound_text_username_no_phone.json'))).toBe(true)
  // The consent API names any user id it is asked about, so wait on the identity itself.
  await eventually(async () => ((await s.tdb.db.query('SELECT 1 FROM whatsapp_users WHERE user_id = $1', [ADA_USER])).rowCount ? true : undefined), 5000, 'the user to be known')

  const sent = await api('POST', '/messages', { numberId, userId: ADA_USER, template: { name: 'order_update', language: 'en' } })
  expect(sent.status).toBe(202)
  expect(sent.json.recipient).toBe(ADA_USER)
  const out = await eventually(async () => s.graph.messages().find((m) => m.userId === ADA_USER), 5000, 'the send to reach Graph')
  expect(out.body).toMatchObject({ recipient: ADA_USER, recipient_type: 'individual', type: 'template' })
  expect(out.body).not.toHaveProperty('to')
  await eventually(async () => ((await api('GET', `/messages/${sent.json.id}`)).json.status === 'read' ? true : undefined), 10_000, 'the message to be read')

  const both = await api('POST', '/messages', { numberId, to: '+4915112345678', userId: ADA_USER, template: { name: 'order_update', language: 'en' } })
  expect(both.status).toBe(400)
})

test('a STOP from a user without a phone is recorded for the user, and the next send to them is refused', async () => {
  expect(await s.graph.sendWebhook(now('inbound_stop_username_no_phone.json'))).toBe(true)
  const record = await eventually(async () => {
    const r = (await api('GET', `/consent?userId=${ADA_USER}`)).json
    return r.state === 'opted_out' ? r : undefined
  }, 5000, 'the opt-out')
  expect(record).toMatchObject({ userId: ADA_USER, events: [expect.objectContaining({ state: 'opted_out', source: 'whatsapp_keyword' })] })
  expect(record.phone).toBeUndefined()

  const queued = async () => (await s.tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0]!.n
  const before = await queued()
  const refused = await api('POST', '/messages', { numberId, userId: ADA_USER, template: { name: 'order_update', language: 'en' } })
  expect(refused.status).toBe(409)
  expect(refused.json.code).toBe('RECIPIENT_OPTED_OUT')
  // Refused before queueing: no message exists that the dispatcher could send later.
  expect(await queued()).toBe(before)
})
