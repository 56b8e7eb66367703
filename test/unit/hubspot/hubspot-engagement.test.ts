import nock from 'nock'
import { describe, expect, it } from 'vitest'
import { loadManifest } from '../../../connector/manifest/manifest.ts'
import type { EngagementEvent, EngagementKind } from '../../../crm-adapters/crm-adapter.ts'
import type { AppEventType } from '../../../crm-adapters/hubspot/hubspot-engagement.ts'
import { API, makeAdapter, useNock } from './helpers.ts'

useNock()

const CREATE = '/crm/objects/2026-03/communications/batch/create'
const UPDATE = '/crm/objects/2026-03/communications/batch/update'
const APP_EVENTS = '/integrators/timeline/2026-03/events/batch'

function event(messageId: string, kind: EngagementKind, at: string, extra: Partial<EngagementEvent> = {}): EngagementEvent {
  return {
    id: `${messageId}:${kind}`,
    messageId,
    recordId: '1001',
    objectType: 'contact',
    kind,
    occurredAt: new Date(at),
    direction: 'outbound',
    templateName: 'spring_sale',
    businessNumber: '+1 555-078-3881',
    ...extra,
  }
}

interface CommunicationInput {
  id?: string
  objectWriteTraceId?: string
  properties: Record<string, string>
  associations?: unknown[]
}

/** Batch create as HubSpot answers it: 201, results carrying their objectWriteTraceId, in no promised order. */
function createReply(seen: CommunicationInput[][], firstId = 900) {
  let next = firstId
  return async (request: Request): Promise<[number, unknown]> => {
    const { inputs } = (await request.json()) as { inputs: CommunicationInput[] }
    seen.push(inputs)
    const results = inputs
      .map((input) => ({ id: String(next++), objectWriteTraceId: input.objectWriteTraceId, properties: input.properties, createdAt: '2026-03-01T10:02:00.000Z', updatedAt: '2026-03-01T10:02:00.000Z', archived: false }))
      .reverse()
    return [201, { status: 'COMPLETE', results, startedAt: '2026-03-01T10:02:00.000Z', completedAt: '2026-03-01T10:02:00.100Z' }]
  }
}

function updateReply(seen: CommunicationInput[][]) {
  return async (request: Request): Promise<[number, unknown]> => {
    const { inputs } = (await request.json()) as { inputs: CommunicationInput[] }
    seen.push(inputs)
    return [200, { status: 'COMPLETE', results: inputs.map((i) => ({ id: i.id, properties: i.properties, archived: false })) }]
  }
}

describe('writeEngagement: communications', () => {
  it('creates one WhatsApp communication per message, then updates it as events arrive; a retry never duplicates', async () => {
    const { adapter, store, calls } = makeAdapter()
    const created: CommunicationInput[][] = []
    const updated: CommunicationInput[][] = []
    nock(API).post(CREATE).reply(createReply(created))
    nock(API).post(UPDATE).times(2).reply(updateReply(updated))

    const sent = event('msg-1', 'sent', '2026-03-01T10:02:00Z', { text: 'Hi Ana, our spring sale starts today.' })
    expect(await adapter.writeEngagement([sent])).toEqual([{ id: 'msg-1:sent', ok: true }])
    expect(created).toEqual([
      [
        {
          objectWriteTraceId: 'msg-1',
          properties: {
            hs_communication_body: 'WhatsApp template spring_sale sent from +1 555-078-3881 — sent 2026-03-01 10:02 (UTC)\n\nHi Ana, our spring sale starts today.',
            hs_timestamp: '2026-03-01T10:02:00.000Z',
            hs_communication_channel_type: 'WHATS_APP',
            hs_communication_logged_from: 'CRM',
          },
          associations: [{ to: { id: '1001' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 81 }] }],
        },
      ],
    ])
    expect(store.entries.get('msg-1')?.communicationId).toBe('900')

    const later = [event('msg-1', 'read', '2026-03-01T10:05:00Z'), event('msg-1', 'delivered', '2026-03-01T10:02:30Z')]
    expect((await adapter.writeEngagement(later)).every((r) => r.ok)).toBe(true)
    // The same batch again, as a retry would send it.
    expect((await adapter.writeEngagement(later)).every((r) => r.ok)).toBe(true)

    expect(created).toHaveLength(1)
    expect(updated).toHaveLength(2)
    const body = 'WhatsApp template spring_sale sent from +1 555-078-3881 — sent 2026-03-01 10:02, delivered 10:02, read 10:05 (UTC)\n\nHi Ana, our spring sale starts today.'
    expect(updated[1]).toEqual([{ id: '900', objectWriteTraceId: 'msg-1', properties: { hs_communication_body: body, hs_timestamp: '2026-03-01T10:02:00.000Z' } }])
    expect(calls).toEqual(['POST /crm/objects/2026-03/communications/batch/create', 'POST /crm/objects/2026-03/communications/batch/update', 'POST /crm/objects/2026-03/communications/batch/update'])
  })

  it('creates 100 per call and maps results back by objectWriteTraceId', async () => {
    const { adapter, store, calls } = makeAdapter()
    const created: CommunicationInput[][] = []
    nock(API).post(CREATE).times(2).reply(createReply(created))
    const events = Array.from({ length: 120 }, (_, i) => event(`m-${i}`, 'sent', '2026-03-01T10:00:00Z', { recordId: String(2000 + i) }))
    const results = await adapter.writeEngagement(events)
    expect(results.every((r) => r.ok)).toBe(true)
    expect(created.map((batch) => batch.length)).toEqual([100, 20])
    expect(calls).toHaveLength(2)
    // Results came back reversed; each message still got the id created for its own input.
    const idFor = new Map(created.flat().map((input, index) => [input.objectWriteTraceId, String(900 + index)]))
    for (const [messageId, entry] of store.entries) expect(entry.communicationId).toBe(idFor.get(messageId))
  })

  it('describes failures with the WhatsApp error, and inbound messages as received', async () => {
    const { adapter } = makeAdapter()
    const created: CommunicationInput[][] = []
    nock(API).post(CREATE).reply(createReply(created))
    await adapter.writeEngagement([
      event('msg-2', 'sent', '2026-03-01T23:59:00Z'),
      event('msg-2', 'failed', '2026-03-02T00:01:00Z', { errorCode: 131026, errorTitle: 'Message undeliverable' }),
      event('msg-3', 'replied', '2026-03-01T10:07:00Z', { direction: 'inbound', templateName: undefined, text: 'Yes please!' }),
    ])
    const bodies = created.flat().map((c) => c.properties.hs_communication_body)
    expect(bodies).toEqual([
      'WhatsApp template spring_sale sent from +1 555-078-3881 — sent 2026-03-01 23:59, failed 2026-03-02 00:01 (error 131026: Message undeliverable) (UTC)',
      'Incoming WhatsApp message on +1 555-078-3881 — received 2026-03-01 10:07 (UTC)\n\nYes please!',
    ])
  })

  it('recreates a communication deleted in HubSpot', async () => {
    const { adapter, store, calls } = makeAdapter()
    await store.save([{ messageId: 'msg-4', communicationId: '777', state: '{"direction":"outbound","happened":{"sent":"2026-03-01T10:00:00.000Z"}}' }])
    nock(API).post(UPDATE).reply(400, {
      status: 'error',
      message: 'Could not get some COMMUNICATION objects, they may be deleted or not exist. Check that ids are valid.',
      correlationId: 'c',
      category: 'OBJECT_NOT_FOUND',
      context: { ids: ['777'] },
    })
    const created: CommunicationInput[][] = []
    nock(API).post(CREATE).reply(createReply(created, 950))
    expect(await adapter.writeEngagement([event('msg-4', 'delivered', '2026-03-01T10:01:00Z')])).toEqual([{ id: 'msg-4:delivered', ok: true }])
    expect(created.flat()[0]?.properties.hs_communication_body).toContain('sent 2026-03-01 10:00, delivered 10:01')
    expect(store.entries.get('msg-4')?.communicationId).toBe('950')
    expect(calls).toHaveLength(2)
  })

  it('fails the messages of a missing contact and writes the rest', async () => {
    const { adapter, store } = makeAdapter()
    const created: CommunicationInput[][] = []
    nock(API).post(CREATE).reply(400, {
      status: 'error',
      message: 'Association target contact 4040 does not exist.',
      correlationId: 'c',
      category: 'VALIDATION_ERROR',
      context: { id: ['4040'] },
    })
    nock(API).post(CREATE).reply(createReply(created))
    const results = await adapter.writeEngagement([event('a', 'sent', '2026-03-01T10:00:00Z', { recordId: '4040' }), event('b', 'sent', '2026-03-01T10:00:00Z')])
    expect(results.map((r) => [r.id, r.ok, r.error?.code])).toEqual([
      ['a:sent', false, 'VALIDATION_ERROR'],
      ['b:sent', true, undefined],
    ])
    expect(created.flat().map((c) => c.objectWriteTraceId)).toEqual(['b'])
    expect([...store.entries.keys()]).toEqual(['b'])
  })

  it('does not repeat a create that failed with a 5xx: the results say retry, nothing is remembered', async () => {
    const { adapter, store, calls } = makeAdapter()
    nock(API).post(CREATE).reply(500, { status: 'error', message: 'internal error', category: 'INTERNAL_ERROR' })
    const [result] = await adapter.writeEngagement([event('c', 'sent', '2026-03-01T10:00:00Z')])
    expect(result).toMatchObject({ id: 'c:sent', ok: false, error: { code: 'SERVER_ERROR', retryable: true } })
    expect(store.entries.size).toBe(0)
    expect(calls).toHaveLength(1)
  })

  it('refuses leads', async () => {
    const { adapter, calls } = makeAdapter()
    const [result] = await adapter.writeEngagement([event('d', 'sent', '2026-03-01T10:00:00Z', { objectType: 'lead', recordId: '00Q1' })])
    expect(result).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } })
    expect(calls).toEqual([])
  })
})

describe('writeEngagement: app events', () => {
  // manifest.json's engagement event types, fully qualified as HubSpot would report them.
  const declared = loadManifest().hubspot.engagementEvents
  const qualified = (kind: EngagementKind): AppEventType => {
    const type = declared.find((e) => e.kind === kind)!
    return { eventTypeName: `ae3102938_${type.name}`, properties: type.properties }
  }
  const appEventTypes = { sent: qualified('sent'), delivered: qualified('delivered'), read: qualified('read'), failed: qualified('failed') }

  it('sends one app event per engagement event, keyed by its id; a 409 duplicate counts as written', async () => {
    const { adapter, calls } = makeAdapter({ appEventTypes })
    const sentEvents: unknown[] = []
    nock(API).post(CREATE).reply(createReply([]))
    nock(API)
      .post(APP_EVENTS, (body) => (sentEvents.push(...body.inputs), true))
      .reply(207, {
        status: 'COMPLETE',
        results: [{ id: 'msg-5:delivered', eventTypeName: appEventTypes.delivered.eventTypeName, objectId: '1001', timestamp: '2026-03-01T10:01:00.000Z', properties: {} }],
        numErrors: 2,
        errors: [
          { status: 'error', category: 'CONFLICT', message: 'An occurrence with id msg-5:sent already exists; occurrences are immutable.', context: { id: ['msg-5:sent'] } },
          { status: 'error', category: 'VALIDATION_ERROR', message: 'objectId 1001 is not allowed.', context: { id: ['msg-5:read'] } },
        ],
      })
    const results = await adapter.writeEngagement([
      event('msg-5', 'sent', '2026-03-01T10:00:00Z', { text: 'Hi' }),
      event('msg-5', 'delivered', '2026-03-01T10:01:00Z'),
      event('msg-5', 'read', '2026-03-01T10:02:00Z'),
      event('msg-5', 'replied', '2026-03-01T10:03:00Z', { direction: 'inbound', text: 'Thanks' }),
    ])
    expect(results.map((r) => [r.id, r.ok, r.error?.code])).toEqual([
      ['msg-5:sent', true, undefined],
      ['msg-5:delivered', true, undefined],
      ['msg-5:read', false, 'VALIDATION_ERROR'],
      ['msg-5:replied', true, undefined],
    ])
    expect(sentEvents).toHaveLength(3) // no type configured for "replied"
    expect(sentEvents[0]).toEqual({
      eventTypeName: 'ae3102938_whatsapp_message_sent',
      objectId: '1001',
      id: 'msg-5:sent',
      timestamp: '2026-03-01T10:00:00.000Z',
      properties: { template_name: 'spring_sale', business_number: '+1 555-078-3881', status: 'sent', message_text: 'Hi' },
    })
    expect(calls).toEqual(['POST /crm/objects/2026-03/communications/batch/create', 'POST /integrators/timeline/2026-03/events/batch'])
  })

  it('adds the error properties only to the failed type, the one that declares them', async () => {
    const { adapter } = makeAdapter({ appEventTypes })
    const sentEvents: { properties: Record<string, unknown> }[] = []
    nock(API).post(CREATE).reply(createReply([]))
    nock(API)
      .post(APP_EVENTS, (body) => (sentEvents.push(...body.inputs), true))
      .reply(201, { status: 'COMPLETE', results: [{ id: 'f:sent' }, { id: 'f:failed' }] })
    const results = await adapter.writeEngagement([
      event('f', 'sent', '2026-03-01T10:00:00Z', { errorCode: 131026 }),
      event('f', 'failed', '2026-03-01T10:01:00Z', { errorCode: 131026, errorTitle: 'Message undeliverable' }),
    ])
    expect(results.every((r) => r.ok)).toBe(true)
    expect(sentEvents.map((e) => e.properties)).toEqual([
      { template_name: 'spring_sale', business_number: '+1 555-078-3881', status: 'sent' },
      { template_name: 'spring_sale', business_number: '+1 555-078-3881', status: 'failed', error_code: 131026, error_title: 'Message undeliverable' },
    ])
  })

  it('sends only the properties the type declares, only present values, numbers as numbers', async () => {
    const custom: AppEventType = { eventTypeName: 'ae3102938_custom', properties: [{ name: 'status', type: 'string' }, { name: 'error_code', type: 'string' }, { name: 'message_text', type: 'string' }, { name: 'unknown', type: 'string' }] }
    const { adapter } = makeAdapter({ appEventTypes: { failed: appEventTypes.failed, delivered: custom } })
    const sentEvents: { properties: Record<string, unknown> }[] = []
    nock(API).post(CREATE).reply(createReply([]))
    nock(API)
      .post(APP_EVENTS, (body) => (sentEvents.push(...body.inputs), true))
      .reply(201, { status: 'COMPLETE', results: [{ id: 'g:delivered' }, { id: 'g:failed' }] })
    await adapter.writeEngagement([
      event('g', 'delivered', '2026-03-01T10:00:00Z', { errorCode: 131026, text: '' }),
      event('g', 'failed', '2026-03-01T10:01:00Z', { templateName: '', businessNumber: undefined, errorCode: 131026, errorTitle: 'Message undeliverable', text: '' }),
    ])
    expect(sentEvents.map((e) => e.properties)).toEqual([
      // A type declaring error_code as a string gets one; nothing fills "unknown"; empty text is left out.
      { status: 'delivered', error_code: '131026' },
      { status: 'failed', error_code: 131026, error_title: 'Message undeliverable' },
    ])
  })

  it('skips app events for messages whose communication could not be written', async () => {
    const { adapter, calls } = makeAdapter({ appEventTypes })
    nock(API).post(CREATE).reply(500, { status: 'error', category: 'INTERNAL_ERROR' })
    await adapter.writeEngagement([event('e', 'sent', '2026-03-01T10:00:00Z')])
    expect(calls).toEqual(['POST /crm/objects/2026-03/communications/batch/create'])
  })
})
