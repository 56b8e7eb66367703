import { afterAll, beforeAll, expect, test } from 'vitest'
import { adminHeaders } from '../helpers/test-config.ts'
import { eventually, NUMBER, startE2eStack, type E2eStack } from '../helpers/e2e-stack.ts'

// With CONSENT_OPT_OUT_REPLY set, a STOP gets that confirmation as a reply (the one message an
// opted-out person still receives); without it, nothing is sent (the other e2e suites).

const REPLY = 'You will no longer receive WhatsApp messages from Acme. Reply START to opt back in.'
let s: E2eStack

beforeAll(async () => {
  s = await startE2eStack({ CONSENT_OPT_OUT_REPLY: REPLY })
  const r = await fetch(`${s.url}/api/v1/whatsapp-numbers`, {
    method: 'POST',
    headers: { ...adminHeaders, 'content-type': 'application/json' },
    body: JSON.stringify({ phoneNumberId: NUMBER.phoneNumberId, wabaId: NUMBER.wabaId, accessToken: NUMBER.accessToken }),
  })
  expect(r.status).toBe(201)
})
afterAll(async () => {
  await s?.close()
})

test('a STOP is confirmed once, as a reply to the person\'s message', async () => {
  const inbound = {
    object: 'whatsapp_business_account',
    entry: [{ id: NUMBER.wabaId, changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: NUMBER.phoneNumberId },
      contacts: [{ profile: { name: 'Bo' }, wa_id: '4915177777777' }],
      messages: [{ from: '4915177777777', id: 'wamid.stop-reply', timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: 'stop' } }],
    } }] }],
  }
  expect(await s.graph.sendWebhook(inbound)).toBe(true)
  expect(await s.graph.sendWebhook(inbound)).toBe(true) // Meta redelivers: still one reply
  const reply = await eventually(async () => s.graph.messages().find((m) => m.to === '4915177777777' && m.type === 'text'), 10_000, 'the confirmation reply')
  expect(reply.body).toMatchObject({ text: { body: REPLY }, context: { message_id: 'wamid.stop-reply' } })
  await new Promise((r) => setTimeout(r, 300))
  expect(s.graph.messages().filter((m) => m.to === '4915177777777')).toHaveLength(1)
  const consent = (await (await fetch(`${s.url}/api/v1/consent?phone=%2B4915177777777`, { headers: adminHeaders })).json()) as { state: string }
  expect(consent.state).toBe('opted_out')
})
