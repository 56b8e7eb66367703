import { expect, test } from 'vitest'
import { useTestApp } from '../helpers/test-app.ts'
import { adminHeaders } from '../helpers/test-config.ts'

// Bodies are taken as typed and closed: a wrong type or an undeclared field is a 400, never
// coerced or ignored. Query strings are text and are still read as their declared types.

const t = useTestApp()

const post = (url: string, body: unknown) => t.app.inject({ method: 'POST', url, headers: adminHeaders, payload: body as object })

test.each([
  ['a boolean for a number', '/api/v1/whatsapp-numbers', { phoneNumberId: '106540352242922', wabaId: '102290129340398', accessToken: 'EAAG-token-0123456789', messagesPerSecond: true }],
  ['a string for a number', '/api/v1/whatsapp-numbers', { phoneNumberId: '106540352242922', wabaId: '102290129340398', accessToken: 'EAAG-token-0123456789', messagesPerSecond: '80' }],
  ['a boolean for an array', '/api/v1/segments', { installationId: '6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b', name: 'x', source: { type: 'hubspot_list', id: '1' }, phoneProperties: true, defaultCountry: 'US' }],
  ['an access token no HTTP header can carry', '/api/v1/whatsapp-numbers', { phoneNumberId: '106540352242922', wabaId: '102290129340398', accessToken: 'EAAG token\nwith a newline' }],
  ['an access token with characters outside ASCII', '/api/v1/whatsapp-numbers', { phoneNumberId: '106540352242922', wabaId: '102290129340398', accessToken: 'EAAG-tökén-0123456789' }],
  ['an undeclared field', '/api/v1/consent', { phone: '+14155552671', state: 'opted_out', evidence: { note: 'n' }, extra: 1 }],
  ['an undeclared nested field', '/api/v1/consent', { phone: '+14155552671', state: 'opted_out', evidence: { note: 'n', hidden: true } }],
])('%s is a 400', async (_name, url, body) => {
  const res = await post(url, body)
  expect(res.statusCode).toBe(400)
  expect(res.json().code).toBe('VALIDATION_ERROR')
})

test('query strings are still read as their declared types', async () => {
  const res = await t.app.inject({ url: '/api/v1/segments/6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b/members?limit=5', headers: adminHeaders })
  expect(res.statusCode).toBe(404)
})
