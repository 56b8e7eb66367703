import { expect, test } from 'vitest'
import { useTestApp } from '../helpers/test-app.ts'
import { adminHeaders } from '../helpers/test-config.ts'

// Text PostgreSQL cannot store (NUL, unpaired surrogates) is a 400 naming where it is, on every
// route, before anything is written; these are the requests that answered 500 before.

const t = useTestApp()

const events = async () => (await t.tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM consent_events')).rows[0]!.n

test('a NUL inside a JSON body', async () => {
  const before = await events()
  const res = await t.app.inject({
    method: 'POST', url: '/api/v1/consent', headers: { ...adminHeaders, 'content-type': 'application/json' },
    payload: '{"phone":"+14155552671","state":"opted_out","evidence":{"note":"abc\\u0000def"}}',
  })
  expect(res.statusCode).toBe(400)
  expect(res.json()).toMatchObject({ code: 'INVALID_CHARACTERS', message: expect.stringContaining('body/evidence/note') })
  expect(await events()).toBe(before)
})

test('a NUL in a path parameter and in a query', async () => {
  const path = await t.app.inject({ url: '/api/v1/messages/%00', headers: adminHeaders })
  expect(path.statusCode).toBe(400)
  expect(path.json().code).toBe('INVALID_CHARACTERS')
  const query = await t.app.inject({ url: '/api/v1/consent?phone=%2B1415%00', headers: adminHeaders })
  expect(query.statusCode).toBe(400)
})

test('an unpaired surrogate in a body value and in a key', async () => {
  for (const payload of [
    '{"installationId":"6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b","name":"x","source":{"type":"hubspot_list","id":"\\ud800"},"phoneProperties":["phone"],"defaultCountry":"US"}',
    '{"\\udc00":1}',
  ]) {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/segments', headers: { ...adminHeaders, 'content-type': 'application/json' }, payload })
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('INVALID_CHARACTERS')
  }
})

test('well-formed text outside the BMP passes', async () => {
  const res = await t.app.inject({
    method: 'POST', url: '/api/v1/consent', headers: { ...adminHeaders, 'content-type': 'application/json' },
    payload: JSON.stringify({ phone: '+14155552671', state: 'opted_out', evidence: { note: 'asked by 📱 on WhatsApp' } }),
  })
  expect(res.statusCode).toBeLessThan(300)
})
