import { expect, test } from 'vitest'
import { useTestApp } from '../helpers/test-app.ts'
import { fixture, signedHeaders } from '../helpers/webhooks.ts'

// Webhook bodies being received are bounded: unsigned ones are refused unread, and past the
// in-flight budget the answer is 503 at once, so bad signatures cannot make the process hold
// more; the budget comes back as requests end.

const t = useTestApp({ HUBSPOT_CLIENT_ID: 'hs-id', HUBSPOT_CLIENT_SECRET: 'hs-secret' })

const big = Buffer.alloc(Math.floor(2.9 * 1024 * 1024), 0x20)

test('an unsigned body is refused before it is read', async () => {
  for (const url of ['/webhooks/whatsapp', '/webhooks/hubspot']) {
    const res = await t.app.inject({ method: 'POST', url, payload: big, headers: { 'content-type': 'application/json' } })
    expect(res.statusCode).toBe(401)
    expect(res.json().code).toBe('BAD_SIGNATURE')
  }
})

test('past the in-flight budget, bodies with bad signatures get 503 and Retry-After; the budget returns', async () => {
  const answers = await Promise.all(Array.from({ length: 40 }, () =>
    t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: big, headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } })))
  const busy = answers.filter((r) => r.statusCode === 503)
  const refused = answers.filter((r) => r.statusCode === 401)
  expect(busy.length + refused.length).toBe(40)
  expect(refused.length).toBeGreaterThan(0)
  // 32 MB holds eleven 2.9 MB bodies; the rest of a burst is turned away unread.
  expect(refused.length).toBeLessThanOrEqual(11)
  expect(busy[0]!.json()).toMatchObject({ code: 'WEBHOOK_INTAKE_BUSY' })
  expect(busy[0]!.headers['retry-after']).toBe('1')
  const body = fixture('whatsapp/status_sent.json')
  expect((await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: body, headers: signedHeaders(body) })).statusCode).toBe(200)
})
