import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  parseWebhookEvents,
  WebhookPayloadError,
  type IdentityEvent,
  type InboundEvent,
  type StatusEvent,
  type TemplateStatusEvent,
  type UserIdChangeEvent,
  type UserPreferenceEvent,
  type WebhookEvent,
} from '../../connector/whatsapp/webhook-payload.ts'

const FIXTURES = new URL('../fixtures/whatsapp/', import.meta.url)
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'))
const RECEIVED = new Date('2030-01-01T00:00:00Z')
const parse = (name: string): WebhookEvent[] => parseWebhookEvents(load(name), RECEIVED)
const at = (seconds: number) => new Date(seconds * 1000)

const PNID = '106540352242922'
const ADA = '4915123456789'
const WABA = '102290129340398'
const ADA_USER = 'DE.80571294630518824417'
const TEMPLATE_WAMID = 'wamid.HBgNNDkxNTEyMzQ1Njc4ORUCABEYEjQ4QTc2QkI3RjBGMTA3QkQ5MwA='

// Expected kinds per fixture file: every file in the folder must be listed here.
const EXPECTED_KINDS: Record<string, Array<WebhookEvent['kind']>> = {
  'batch_two_statuses.json': ['status', 'status'],
  'inbound_interactive_button_reply.json': ['inbound'],
  'inbound_quick_reply_button.json': ['inbound'],
  'inbound_text.json': ['inbound'],
  'status_delivered.json': ['status'],
  'status_failed_131026.json': ['status'],
  'status_failed_131050.json': ['status'],
  'status_read.json': ['status'],
  'status_sent.json': ['status'],
  'template_status_update_approved.json': ['template_status'],
  'user_preferences_stop.json': ['user_preference'],
  'inbound_text_phone_and_user_id.json': ['identity', 'inbound'],
  'inbound_text_username_no_phone.json': ['identity', 'inbound'],
  'inbound_stop_username_no_phone.json': ['identity', 'inbound'],
  'status_delivered_bsuid.json': ['identity', 'status'],
  'user_preferences_stop_bsuid.json': ['identity', 'user_preference'],
  'system_user_changed_user_id.json': ['user_id_change'],
}

describe('parseWebhookEvents on the fixtures', () => {
  it('covers every fixture file', () => {
    expect(readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort()).toEqual(Object.keys(EXPECTED_KINDS).sort())
  })

  it.each(Object.entries(EXPECTED_KINDS))('%s → %j', (file, kinds) => {
    expect(parse(file).map((e) => e.kind)).toEqual(kinds)
  })

  it('status sent: wamid, recipient, callback data, timestamp, pricing', () => {
    const [e] = parse('status_sent.json') as [StatusEvent]
    expect(e).toEqual({
      kind: 'status',
      phoneNumberId: PNID,
      wabaId: WABA,
      wamid: TEMPLATE_WAMID,
      status: 'sent',
      occurredAt: at(1764086460),
      recipientId: ADA,
      callbackData: 'campaign=spring25;contact=8f3a2c',
      errors: undefined,
      pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' },
    })
  })

  it('status delivered and read', () => {
    const [d] = parse('status_delivered.json') as [StatusEvent]
    expect([d.status, d.wamid, d.occurredAt, d.callbackData]).toEqual(['delivered', TEMPLATE_WAMID, at(1764086462), undefined])
    const [r] = parse('status_read.json') as [StatusEvent]
    expect([r.status, r.wamid, r.occurredAt]).toEqual(['read', TEMPLATE_WAMID, at(1764086490)])
  })

  it('batch of two entries: both statuses, in order', () => {
    const events = parse('batch_two_statuses.json') as StatusEvent[]
    expect(events.map((e) => [e.status, e.recipientId, e.occurredAt])).toEqual([
      ['delivered', ADA, at(1764086462)],
      ['read', '31687654321', at(1764086495)],
    ])
    expect(events[0]!.wamid).not.toBe(events[1]!.wamid)
  })

  it.each([
    ['status_failed_131050.json', 131050, '4917612345678'],
    ['status_failed_131026.json', 131026, '31612345678'],
  ])('failed status %s carries errors[0].code %i', (file, code, recipient) => {
    const [e] = parse(file) as [StatusEvent]
    expect(e.status).toBe('failed')
    expect(e.recipientId).toBe(recipient)
    expect(e.errors?.[0]?.code).toBe(code)
    expect(e.errors?.[0]?.error_data?.details).toEqual(expect.any(String))
    expect(e.pricing).toBeUndefined()
  })

  it('inbound text: sender, profile name, text', () => {
    const [e] = parse('inbound_text.json') as [InboundEvent]
    expect(e).toMatchObject({
      kind: 'inbound',
      phoneNumberId: PNID,
      wamid: 'wamid.HBgNNDkxNTEyMzQ1Njc4ORUCABIYFjNFQjBDMEE5OEQ3RjNCMkZCQjlFQ0QA',
      from: ADA,
      profileName: 'Ada Lovelace',
      type: 'text',
      text: 'Hi, is the spring sale still on?',
      buttonPayload: undefined,
      contextWamid: undefined,
      occurredAt: at(1764086400),
    })
    expect(e.raw).toMatchObject({ id: e.wamid, from: ADA })
  })

  it('inbound quick-reply button: text, payload, context', () => {
    const [e] = parse('inbound_quick_reply_button.json') as [InboundEvent]
    expect(e).toMatchObject({
      type: 'button',
      from: ADA,
      profileName: 'Ada Lovelace',
      text: 'Stop promotions',
      buttonPayload: 'STOP_PROMO:contact_8f3a2c',
      contextWamid: TEMPLATE_WAMID,
      occurredAt: at(1764086520),
    })
  })

  it('inbound interactive button reply: title as text, no button payload', () => {
    const [e] = parse('inbound_interactive_button_reply.json') as [InboundEvent]
    expect(e).toMatchObject({
      type: 'interactive',
      profileName: 'Ada Lovelace',
      text: 'Confirm',
      buttonPayload: undefined,
      contextWamid: 'wamid.HBgNNDkxNTEyMzQ1Njc4ORUCABEYEkE5QzM0RDc3MjE4RjA2QjM1RQA=',
    })
  })

  it('user_preferences stop', () => {
    const [e] = parse('user_preferences_stop.json') as [UserPreferenceEvent]
    expect(e).toEqual({
      kind: 'user_preference',
      phoneNumberId: PNID,
      wabaId: WABA,
      waId: ADA,
      value: 'stop',
      category: 'marketing_messages',
      detail: 'User requested to stop marketing messages',
      occurredAt: at(1764086600),
    })
  })

  it('template status update: numeric template id becomes a string', () => {
    const [e] = parse('template_status_update_approved.json') as [TemplateStatusEvent]
    expect(e).toEqual({
      kind: 'template_status',
      wabaId: '102290129340398',
      templateId: '1689556908129832',
      name: 'spring_sale_2025',
      language: 'en_US',
      event: 'APPROVED',
      reason: 'NONE',
    })
  })
})

describe('parseWebhookEvents on business-scoped user ids (reference §9)', () => {
  it('an inbound text with phone and user id carries both, and the contact links them', () => {
    const [identity, inbound] = parse('inbound_text_phone_and_user_id.json') as [IdentityEvent, InboundEvent]
    expect(identity).toEqual({ kind: 'identity', phoneNumberId: PNID, wabaId: WABA, userId: ADA_USER, parentUserId: undefined, waId: '4915112345678', username: '@ada.example' })
    expect(inbound).toMatchObject({ from: '4915112345678', fromUserId: ADA_USER, profileName: 'Ada', username: '@ada.example', text: 'hello' })
  })

  it('a username user without a phone: the message has only from_user_id', () => {
    const [identity, inbound] = parse('inbound_text_username_no_phone.json') as [IdentityEvent, InboundEvent]
    expect(identity).toMatchObject({ userId: ADA_USER, waId: undefined, username: '@ada.example' })
    expect(inbound).toMatchObject({ from: undefined, fromUserId: ADA_USER, profileName: 'Ada', username: '@ada.example', text: 'Is the spring sale still on?', occurredAt: at(1767225600) })
    const [, stop] = parse('inbound_stop_username_no_phone.json') as [IdentityEvent, InboundEvent]
    expect(stop).toMatchObject({ from: undefined, fromUserId: ADA_USER, type: 'text', text: 'STOP' })
  })

  it('a status of a send by user id carries recipient_user_id and no recipient_id', () => {
    const [, status] = parse('status_delivered_bsuid.json') as [IdentityEvent, StatusEvent]
    expect(status).toMatchObject({ status: 'delivered', recipientId: undefined, recipientUserId: ADA_USER, callbackData: 'campaign=spring26;contact=8f3a2c' })
  })

  it('reads both spellings of the parent user id on statuses', () => {
    const status = (extra: Record<string, string>) => ({ entry: [{ changes: [{ field: 'messages', value: { statuses: [{ id: 'w', status: 'sent', recipient_user_id: ADA_USER, ...extra }] } }] }] })
    const parent = (body: unknown) => (parseWebhookEvents(body, RECEIVED)[0] as StatusEvent).recipientParentUserId
    expect(parent(status({ recipient_parent_user_id: 'DE.ENT.1' }))).toBe('DE.ENT.1')
    expect(parent(status({ parent_recipient_user_id: 'DE.ENT.2' }))).toBe('DE.ENT.2')
  })

  it('user_preferences without a phone carries the user id', () => {
    const [, pref] = parse('user_preferences_stop_bsuid.json') as [IdentityEvent, UserPreferenceEvent]
    expect(pref).toMatchObject({ waId: undefined, userId: ADA_USER, value: 'stop', category: 'marketing_messages', occurredAt: at(1767225800) })
  })

  it('user_changed_user_id names the previous and the new id; a user_id_update field is read the same way', () => {
    const [change] = parse('system_user_changed_user_id.json') as [UserIdChangeEvent]
    expect(change).toEqual({ kind: 'user_id_change', phoneNumberId: PNID, wabaId: WABA, previousUserId: ADA_USER, userId: 'DE.31120958364471025590', parentUserId: undefined, occurredAt: at(1767312000) })
    const update = { entry: [{ id: WABA, changes: [{ field: 'user_id_update', value: { previous_user_id: ADA_USER, user_id: 'DE.3', timestamp: '1767312000' } }] }] }
    expect(parseWebhookEvents(update, RECEIVED)).toEqual([{ ...change, phoneNumberId: undefined, userId: 'DE.3' }])
  })
})

describe('parseWebhookEvents on malformed bodies', () => {
  it.each([
    ['null', null],
    ['a string', 'entry'],
    ['an array', [{ entry: [] }]],
    ['no entry', { object: 'whatsapp_business_account' }],
    ['entry is an object', { entry: { id: '1' } }],
  ])('%s → WebhookPayloadError', (_name, body) => {
    expect(() => parseWebhookEvents(body, RECEIVED)).toThrow(WebhookPayloadError)
  })

  it('an empty entry list yields nothing', () => {
    expect(parseWebhookEvents({ entry: [] }, RECEIVED)).toEqual([])
  })

  it('skips malformed entries, changes and items but keeps the good ones', () => {
    const good = { id: 'wamid.ok', status: 'delivered', timestamp: '1764086462', recipient_id: ADA }
    const body = {
      entry: [
        null,
        'x',
        { id: 'waba' },
        { changes: 'nope' },
        {
          changes: [
            null,
            { field: 'messages' },
            { field: 'messages', value: [] },
            { field: 'unknown_field', value: { statuses: [good] } },
            {
              field: 'messages',
              value: {
                statuses: [null, { status: 'sent' }, { id: 'wamid.nostatus' }, { id: 42, status: 'read' }, good],
                messages: [{ id: 'wamid.in', from: ADA }, { from: ADA, type: 'text' }, { id: 'wamid.in2', type: 'text' }, 'x'],
                contacts: [{ wa_id: ADA }, { profile: { name: 'No Id' } }, null],
              },
            },
            { field: 'user_preferences', value: { user_preferences: [{ value: 'stop' }, { wa_id: ADA }, 7] } },
            { field: 'message_template_status_update', value: { event: 'APPROVED' } },
            { field: 'message_template_status_update', value: { message_template_id: 1 } },
          ],
        },
      ],
    }
    const events = parseWebhookEvents(body, RECEIVED)
    // A numeric id is accepted as a string; the other malformed items are dropped, except a message
    // or preference that names no one, which is reported so the body can be kept as unprocessable.
    expect(events.map((e) => (e.kind === 'status' ? `${e.status}:${e.wamid}` : e.kind === 'unidentified' ? e.reason : e.kind))).toEqual([
      'read:42', 'delivered:wamid.ok', 'message wamid.in2 carries neither from nor from_user_id', 'user_preferences "stop" carries neither wa_id nor user_id',
    ])
  })

  it('a missing or unusable timestamp falls back to the receive time', () => {
    const statuses = [
      { id: 'a', status: 'sent' },
      { id: 'b', status: 'sent', timestamp: 'yesterday' },
      { id: 'c', status: 'sent', timestamp: '0' },
      { id: 'd', status: 'sent', timestamp: '-5' },
      { id: 'e', status: 'sent', timestamp: '1e20' }, // beyond the range of Date
      { id: 'f', status: 'sent', timestamp: 1764086460 },
    ]
    const events = parseWebhookEvents({ entry: [{ changes: [{ field: 'messages', value: { statuses } }] }] }, RECEIVED) as StatusEvent[]
    expect(events.map((e) => e.occurredAt.toISOString())).toEqual([
      RECEIVED.toISOString(),
      RECEIVED.toISOString(),
      RECEIVED.toISOString(),
      RECEIVED.toISOString(),
      RECEIVED.toISOString(),
      at(1764086460).toISOString(),
    ])
  })

  it('a message without a matching contact has no profile name; metadata absent → no phone number id', () => {
    const body = {
      entry: [{ changes: [{ field: 'messages', value: {
        contacts: [{ wa_id: '31612345678', profile: { name: 'Someone Else' } }],
        messages: [{ id: 'wamid.x', from: ADA, type: 'image', timestamp: '1764086400', image: { id: 'media' } }],
      } }] }],
    }
    const [e] = parseWebhookEvents(body, RECEIVED) as [InboundEvent]
    expect(e.profileName).toBeUndefined()
    expect(e.phoneNumberId).toBeUndefined()
    expect(e.text).toBeUndefined()
    expect(e.type).toBe('image')
  })

  it('interactive list reply title becomes the text', () => {
    const body = {
      entry: [{ changes: [{ field: 'messages', value: {
        messages: [{ id: 'wamid.l', from: ADA, type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'r1', title: 'Tuesday' } } }],
      } }] }],
    }
    expect((parseWebhookEvents(body, RECEIVED)[0] as InboundEvent).text).toBe('Tuesday')
  })
})
