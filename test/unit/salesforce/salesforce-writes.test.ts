import nock from 'nock'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { EngagementEvent } from '../../../crm-adapters/crm-adapter.ts'
import { API, makeAdapter, queryBody, row, sf, sfId } from './helpers.ts'

const contact = (n: number) => sfId('003', n)
const lead = (n: number) => sfId('00Q', n)
const task = (n: number) => sfId('00T', n)
const AT = new Date('2025-03-01T10:00:00.250Z')

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())
afterAll(() => nock.enableNetConnect())

type Body = { allOrNone: boolean; records: Array<Record<string, unknown>> }
/** nock 15 hands a reply function the request. */
const records = async (request: Request) => ((await request.json()) as Body).records

describe('writeConsent', () => {
  it('updates the opt-in checkbox and date through one collections call, per-record results in order', async () => {
    const { adapter, calls } = makeAdapter()
    let body: Body | undefined
    const scope = sf().patch(`${API}/composite/sobjects`, (b: Body) => {
      body = b
      return true
    }).reply(200, [
      { id: contact(1), success: true, errors: [] },
      { success: false, errors: [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }] },
      { id: lead(3), success: false, errors: [{ statusCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record', fields: [] }] },
    ])
    const results = await adapter.writeConsent([
      { recordId: contact(1), objectType: 'contact', optedIn: true, occurredAt: AT, source: 'whatsapp_keyword', phone: '+14155550101' },
      { recordId: contact(2), objectType: 'contact', optedIn: false, occurredAt: AT, source: 'whatsapp_keyword' },
      { recordId: lead(3), objectType: 'lead', optedIn: true, occurredAt: AT, source: 'crm' },
    ])
    scope.done()
    expect(calls).toEqual([{ endpoint: 'collections.update', status: 200 }])
    expect(body).toEqual({
      allOrNone: false,
      records: [
        { attributes: { type: 'Contact' }, Id: contact(1), WhatsApp_Opt_In__c: true, WhatsApp_Opt_In_Date__c: AT.toISOString() },
        { attributes: { type: 'Contact' }, Id: contact(2), WhatsApp_Opt_In__c: false, WhatsApp_Opt_In_Date__c: AT.toISOString() },
        { attributes: { type: 'Lead' }, Id: lead(3), WhatsApp_Opt_In__c: true, WhatsApp_Opt_In_Date__c: AT.toISOString() },
      ],
    })
    expect(results.map((r) => [r.id, r.ok, r.error?.code, r.error?.platformCode, r.error?.retryable])).toEqual([
      [contact(1), true, undefined, undefined, undefined],
      [contact(2), false, 'NOT_FOUND', 'ENTITY_IS_DELETED', false],
      [lead(3), false, 'SERVER_ERROR', 'UNABLE_TO_LOCK_ROW', true],
    ])
  })

  it('writes the namespaced fields, keeps the latest change per record, and rejects ids of the wrong object locally', async () => {
    const { adapter } = makeAdapter({ namespace: 'wa' })
    let body: Body | undefined
    sf().patch(`${API}/composite/sobjects`, (b: Body) => {
      body = b
      return true
    }).reply(200, [{ id: contact(1), success: true, errors: [] }])
    const later = new Date(AT.getTime() + 60_000)
    const results = await adapter.writeConsent([
      { recordId: contact(1), objectType: 'contact', optedIn: true, occurredAt: AT, source: 'x' },
      { recordId: contact(1), objectType: 'contact', optedIn: false, occurredAt: later, source: 'x' },
      { recordId: contact(2), objectType: 'lead', optedIn: true, occurredAt: AT, source: 'x' },
    ])
    expect(body?.records).toEqual([{ attributes: { type: 'Contact' }, Id: contact(1), wa__WhatsApp_Opt_In__c: false, wa__WhatsApp_Opt_In_Date__c: later.toISOString() }])
    expect(results.map((r) => [r.id, r.ok, r.error?.code])).toEqual([[contact(1), true, undefined], [contact(1), true, undefined], [contact(2), false, 'VALIDATION_ERROR']])
  })

  it('splits more than 200 changes into collections calls of 200', async () => {
    const { adapter, calls } = makeAdapter()
    const sizes: number[] = []
    sf().patch(`${API}/composite/sobjects`, (b: Body) => {
      sizes.push(b.records.length)
      return true
    }).times(3).reply(200, async (request: Request) => (await records(request)).map((r) => ({ id: r.Id, success: true, errors: [] })))
    const changes = Array.from({ length: 450 }, (_, i) => ({ recordId: contact(i + 1), objectType: 'contact' as const, optedIn: true, occurredAt: AT, source: 'x' }))
    const results = await adapter.writeConsent(changes)
    expect(sizes).toEqual([200, 200, 50])
    expect(calls).toHaveLength(3)
    expect(results.every((r) => r.ok)).toBe(true)
  })
})

describe('writeEngagement', () => {
  const event = (over: Partial<EngagementEvent> = {}): EngagementEvent => ({
    id: 'msg-1:sent', messageId: 'msg-1', recordId: contact(1), objectType: 'contact', kind: 'sent', occurredAt: AT, direction: 'outbound',
    templateName: 'spring_sale', businessNumber: '+1 555-078-3881', text: 'Hi Ana, our spring sale starts today.', ...over,
  })
  const lookup = (field: string, ids: string[]) => ({ q: `SELECT Id, ${field}, Description FROM Task WHERE ${field} IN (${ids.map((i) => `'${i}'`).join(', ')})` })

  it('upserts one Task per message on the external id; TaskSubtype only when the Task is new', async () => {
    const { adapter, calls } = makeAdapter()
    let body: Body | undefined
    const scope = sf()
      .get(`${API}/query`).query(lookup('WhatsApp_Message_Id__c', ['msg-1'])).reply(200, queryBody([]))
      .patch(`${API}/composite/sobjects/Task/WhatsApp_Message_Id__c`, (b: Body) => {
        body = b
        return true
      }).reply(200, [{ id: task(1), success: true, errors: [], created: true }])
    const results = await adapter.writeEngagement([event()])
    scope.done()
    expect(results).toEqual([{ id: 'msg-1:sent', ok: true }])
    expect(calls.map((c) => c.endpoint)).toEqual(['query', 'collections.upsert'])
    expect(body?.allOrNone).toBe(false)
    expect(body?.records).toEqual([{
      attributes: { type: 'Task' },
      WhatsApp_Message_Id__c: 'msg-1',
      WhoId: contact(1),
      Subject: 'WhatsApp: sent "spring_sale"',
      Description: [
        'Status trail (UTC):', '2025-03-01 10:00:00 sent', '',
        'Direction: outbound', 'Business number: +1 555-078-3881', 'Template: spring_sale', '',
        'Message:', 'Hi Ana, our spring sale starts today.',
      ].join('\n'),
      Status: 'Completed',
      ActivityDate: '2025-03-01',
      TaskSubtype: 'Task',
    }])
  })

  it('a later status updates the same Task: the trail is merged from its Description, no TaskSubtype', async () => {
    const { adapter } = makeAdapter({ namespace: 'wa' })
    const existing = 'Status trail (UTC):\n2025-03-01 10:00:00 sent\n\nDirection: outbound\nTemplate: spring_sale\n\nMessage:\nHi Ana'
    let body: Body | undefined
    sf()
      .get(`${API}/query`).query(lookup('wa__WhatsApp_Message_Id__c', ['msg-1']))
      .reply(200, queryBody([row('Task', task(1), { wa__WhatsApp_Message_Id__c: 'msg-1', Description: existing })]))
      .patch(`${API}/composite/sobjects/Task/wa__WhatsApp_Message_Id__c`, (b: Body) => {
        body = b
        return true
      }).reply(200, [{ id: task(1), success: true, errors: [], created: false }])
    const read = event({ id: 'msg-1:read', kind: 'read', occurredAt: new Date('2025-03-02T08:30:00Z'), text: undefined, businessNumber: undefined })
    const delivered = event({ id: 'msg-1:delivered', kind: 'delivered', occurredAt: new Date('2025-03-01T10:00:04Z'), text: undefined, businessNumber: undefined })
    const results = await adapter.writeEngagement([read, delivered])
    expect(results).toEqual([{ id: 'msg-1:read', ok: true }, { id: 'msg-1:delivered', ok: true }])
    expect(body?.records).toHaveLength(1)
    const record = body?.records[0] ?? {}
    expect(record).not.toHaveProperty('TaskSubtype')
    expect(record.wa__WhatsApp_Message_Id__c).toBe('msg-1')
    expect(record.Subject).toBe('WhatsApp: read "spring_sale"')
    expect(record.ActivityDate).toBe('2025-03-01')
    expect(record.Description).toBe([
      'Status trail (UTC):', '2025-03-01 10:00:00 sent', '2025-03-01 10:00:04 delivered', '2025-03-02 08:30:00 read', '',
      'Direction: outbound', 'Template: spring_sale', '', 'Message:', 'Hi Ana',
    ].join('\n'))
  })

  it('maps per-record errors: a row lock is retryable, a missing person is not', async () => {
    const { adapter } = makeAdapter()
    sf()
      .get(`${API}/query`).query(lookup('WhatsApp_Message_Id__c', ['msg-1', 'msg-2', 'msg-3'])).reply(200, queryBody([]))
      .patch(`${API}/composite/sobjects/Task/WhatsApp_Message_Id__c`).reply(200, [
        { id: task(1), success: true, errors: [], created: true },
        { success: false, errors: [{ statusCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record or 1 records: 003Dn0000000001AAA', fields: [] }] },
        { success: false, errors: [{ statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'invalid cross reference id', fields: ['WhoId'] }] },
      ])
    const results = await adapter.writeEngagement([
      event(),
      event({ id: 'msg-2:sent', messageId: 'msg-2', recordId: lead(2), objectType: 'lead' }),
      event({ id: 'msg-3:sent', messageId: 'msg-3', recordId: contact(3) }),
    ])
    expect(results.map((r) => [r.id, r.ok, r.error?.code, r.error?.platformCode, r.error?.retryable])).toEqual([
      ['msg-1:sent', true, undefined, undefined, undefined],
      ['msg-2:sent', false, 'SERVER_ERROR', 'UNABLE_TO_LOCK_ROW', true],
      ['msg-3:sent', false, 'NOT_FOUND', 'INVALID_CROSS_REFERENCE_KEY', false],
    ])
    expect(results[2]?.error?.message).toContain('WhoId')
  })

  it('works in batches of 200 messages: a lookup and an upsert each', async () => {
    const { adapter, calls } = makeAdapter()
    const upserted: number[] = []
    sf()
      .get(`${API}/query`).query(true).times(2).reply(200, queryBody([]))
      .patch(`${API}/composite/sobjects/Task/WhatsApp_Message_Id__c`, (b: Body) => {
        upserted.push(b.records.length)
        return true
      }).times(2).reply(200, async (request: Request) => (await records(request)).map((_, i) => ({ id: task(i), success: true, errors: [], created: true })))
    const events = Array.from({ length: 250 }, (_, i) => event({ id: `m-${i}:sent`, messageId: `m-${i}`, recordId: contact(i + 1) }))
    const results = await adapter.writeEngagement(events)
    expect(upserted).toEqual([200, 50])
    expect(calls.map((c) => c.endpoint)).toEqual(['query', 'collections.upsert', 'query', 'collections.upsert'])
    expect(results.every((r) => r.ok)).toBe(true)
  })

  it('rejects an event whose record id is not of its object, without a call for it', async () => {
    const { adapter, calls } = makeAdapter()
    const results = await adapter.writeEngagement([event({ recordId: lead(1) })])
    expect(results[0]).toMatchObject({ id: 'msg-1:sent', ok: false, error: { code: 'VALIDATION_ERROR' } })
    expect(calls).toEqual([])
  })

  it('a whole-request failure throws (the write is idempotent, so the caller retries it all)', async () => {
    const { adapter } = makeAdapter({ namespace: 'wa' })
    sf()
      .get(`${API}/query`).query(true).reply(400, [{ message: "No such column 'wa__WhatsApp_Message_Id__c' on entity 'Task'.", errorCode: 'INVALID_FIELD' }])
    await expect(adapter.writeEngagement([event()])).rejects.toMatchObject({ code: 'VALIDATION_ERROR', platformCode: 'INVALID_FIELD' })
  })
})
