import { describe, expect, test } from 'vitest'
import { consentStatus } from '../../connector/consent/consent-ledger.ts'
import { findWhatsAppUser, findWhatsAppUserById } from '../../connector/contacts/whatsapp-user-repository.ts'
import { saveInstallation } from '../../connector/installations/installation-repository.ts'
import { listNumbers, upsertNumber } from '../../connector/numbers/number-repository.ts'
import { setNumberInstallations } from '../../connector/numbers/number-scope-repository.ts'
import { adminHeaders } from '../helpers/test-config.ts'
import { useTestApp } from '../helpers/test-app.ts'
import { fixture, signedHeaders } from '../helpers/webhooks.ts'

// WhatsApp users known by business-scoped user id (reference whatsapp.md §9) and the scope of a
// number's signals, on real SQL: webhooks in through the route, processed by the inbox.

const t = useTestApp()
const PORTFOLIO = '880000000000001'
const ADA_USER = 'DE.80571294630518824417'
const ADA_NEW_USER = 'DE.31120958364471025590'
const ADA_PHONE = '+4915112345678'

async function connect(phoneNumberId: string, installationIds: string[] = []) {
  const { number } = await upsertNumber(t.tdb.db, {
    phoneNumberId, wabaId: '102290129340398', businessPortfolioId: PORTFOLIO, displayPhoneNumber: '15550783881',
    verifiedName: 'Test', qualityRating: 'GREEN', messagesPerSecond: 80, accessTokenSealed: t.app.services.secrets.seal('token'),
  })
  await setNumberInstallations(t.tdb.db, number.id, installationIds)
  return number
}

async function post(body: string) {
  const res = await t.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: body, headers: signedHeaders(body) })
  expect(res.statusCode).toBe(200)
  while ((await t.app.services.inboxProcessor.drainOnce()) > 0) { /* until empty */ }
}

async function consentOf(query: string) {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/consent?${query}`, headers: adminHeaders })
  expect(res.statusCode).toBe(200)
  return res.json() as { phone?: string; userId?: string; state: string; events: Array<{ source: string; installationId: string | null }> }
}

async function installation(accountId: string) {
  return (await saveInstallation(t.tdb.db, {
    crm: 'hubspot', accountId, accountName: accountId, scopes: [], missingScopes: [], userId: null, instanceUrl: null, loginUrl: null,
    accessTokenSealed: t.app.services.secrets.seal('x'), refreshTokenSealed: null, accessTokenExpiresAt: null,
  })).installation.id
}

/** A fixture's body on another number (phone_number_id), so each test starts from a number of its own. */
const onNumber = (name: string, phoneNumberId: string) => fixture(`whatsapp/${name}`).replaceAll('106540352242922', phoneNumberId)

describe('identity: business portfolio + user id and/or phone', () => {
  test('a message with phone and user id links them; a later user-id-only STOP finds the person by either', async () => {
    await connect('106540352242922')
    await post(fixture('whatsapp/inbound_text_phone_and_user_id.json'))
    expect(await findWhatsAppUser(t.tdb.db, PORTFOLIO, ADA_USER)).toMatchObject({ phone: ADA_PHONE, matchKey: '4915112345678', username: '@ada.example' })

    await post(fixture('whatsapp/user_preferences_stop_bsuid.json'))
    const byPhone = await consentOf(`phone=${encodeURIComponent(ADA_PHONE)}`)
    expect(byPhone).toMatchObject({ phone: ADA_PHONE, userId: ADA_USER, state: 'opted_out' })
    expect(byPhone.events.map((e) => e.source)).toEqual(['whatsapp_user_preferences'])
    expect(await consentOf(`userId=${ADA_USER}`)).toMatchObject({ phone: ADA_PHONE, userId: ADA_USER, state: 'opted_out' })
    // The dispatcher's and the segments' reads by phone agree.
    expect(await consentStatus(t.tdb.db, ADA_PHONE)).toBe('opted_out')
  })

  test('user_changed_user_id moves the link to the new id, idempotently; the old id still finds the person', async () => {
    await post(fixture('whatsapp/system_user_changed_user_id.json'))
    await post(fixture('whatsapp/system_user_changed_user_id.json'))
    const moved = await findWhatsAppUserById(t.tdb.db, ADA_NEW_USER)
    expect(moved).toMatchObject({ userId: ADA_NEW_USER, phone: ADA_PHONE, username: '@ada.example' })
    expect((await findWhatsAppUserById(t.tdb.db, ADA_USER))?.id).toBe(moved!.id)
    // The opt-out recorded under the old id counts for the new one.
    expect(await consentOf(`userId=${ADA_NEW_USER}`)).toMatchObject({ phone: ADA_PHONE, userId: ADA_NEW_USER, state: 'opted_out' })
    // A late signal under the old id lands on the same person.
    const resume = fixture('whatsapp/user_preferences_stop_bsuid.json').replace('"stop"', '"resume"').replace('1767225800', '1767400000')
    await post(resume)
    expect(await consentOf(`userId=${ADA_NEW_USER}`)).toMatchObject({ state: 'opted_in' })
    expect(await consentStatus(t.tdb.db, ADA_PHONE)).toBe('opted_in')
  })

  test('a user who never shared their phone: the STOP is recorded for the user id alone', async () => {
    await connect('106540352242923')
    const stop = onNumber('inbound_stop_username_no_phone.json', '106540352242923').replaceAll('DE.80571294630518824417', 'DE.55555555555555555555')
    await post(stop)
    const record = await consentOf('userId=DE.55555555555555555555')
    expect(record).toMatchObject({ userId: 'DE.55555555555555555555', state: 'opted_out' })
    expect(record.phone).toBeUndefined()
    expect(record.events.map((e) => e.source)).toEqual(['whatsapp_keyword'])
  })

  test('a webhook naming neither phone nor user id is stored as unprocessable with the reason', async () => {
    const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
      metadata: { phone_number_id: '106540352242922' },
      messages: [{ id: 'wamid.nobody', timestamp: '1767225600', type: 'text', text: { body: 'STOP' } }],
    } }] }] })
    await post(body)
    const { rows } = await t.tdb.db.query<{ state: string; last_error: string }>(`SELECT state, last_error FROM inbox WHERE convert_from(body, 'UTF8') LIKE '%wamid.nobody%'`)
    expect(rows).toEqual([{ state: 'unprocessable', last_error: 'names no one: message wamid.nobody carries neither from nor from_user_id' }])
  })

  test('POST /api/v1/consent takes a known user id; an unknown one is 422', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/consent', headers: adminHeaders, payload: { userId: 'DE.55555555555555555555', state: 'opted_in', evidence: { note: 'asked in chat' } } })
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({ userId: 'DE.55555555555555555555', state: 'opted_in' })
    const unknown = await t.app.inject({ method: 'POST', url: '/api/v1/consent', headers: adminHeaders, payload: { userId: 'DE.1', state: 'opted_in', evidence: { note: 'asked in chat' } } })
    expect(unknown.statusCode).toBe(422)
    const both = await t.app.inject({ method: 'GET', url: `/api/v1/consent?phone=%2B4915112345678&userId=${ADA_USER}`, headers: adminHeaders })
    expect(both.statusCode).toBe(400)
    expect(both.json()).toMatchObject({ code: 'PHONE_OR_USER_ID' })
  })
})

describe('scope: a number serves one customer\'s installations', () => {
  test('a STOP on a scoped number is recorded for its installations only', async () => {
    const [a1, a2, other] = [await installation('scope-a1'), await installation('scope-a2'), await installation('scope-b')]
    await connect('106540352242924', [a1, a2])
    const stop = onNumber('inbound_text.json', '106540352242924').replace(/"body": "[^"]*"/, '"body": "STOP"')
    await post(stop)
    const phone = '+4915123456789'
    expect(await consentStatus(t.tdb.db, phone, a1)).toBe('opted_out')
    expect(await consentStatus(t.tdb.db, phone, a2)).toBe('opted_out')
    expect(await consentStatus(t.tdb.db, phone, other)).toBe('unknown')
    const record = await consentOf(`phone=${encodeURIComponent(phone)}`)
    expect(record.events.map((e) => e.installationId).sort()).toEqual([a1, a2].sort())
  })

  test('connecting a number with an installation that does not exist is 422 and stores nothing', async () => {
    const before = (await listNumbers(t.tdb.db)).length
    const res = await t.app.inject({
      method: 'POST', url: '/api/v1/whatsapp-numbers', headers: adminHeaders,
      payload: { phoneNumberId: '999999999', wabaId: '102290129340398', accessToken: 'EAAG-test-token', installationIds: ['00000000-0000-4000-8000-000000000000'] },
    })
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({ code: 'UNKNOWN_INSTALLATION' })
    expect(await listNumbers(t.tdb.db)).toHaveLength(before)
  })
})
