import nock from 'nock'
import { describe, expect, it } from 'vitest'
import type { ConsentWrite } from '../../../crm-adapters/crm-adapter.ts'
import { API, makeAdapter, useNock } from './helpers.ts'

useNock()

function change(recordId: string, optedIn: boolean, at: string, phone?: string): ConsentWrite {
  return { recordId, objectType: 'contact', optedIn, occurredAt: new Date(at), source: 'whatsapp_keyword', ...(phone ? { phone } : {}) }
}

function batchUpdateReply() {
  return async (request: Request): Promise<[number, unknown]> => {
    const body = (await request.json()) as { inputs: { id: string; properties: Record<string, string> }[] }
    return [200, { status: 'COMPLETE', results: body.inputs.map((i) => ({ id: i.id, properties: i.properties, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2026-03-01T10:00:00.000Z', archived: false })) }]
  }
}

describe('writeConsent', () => {
  it('sets the consent property 100 contacts per call, newest change per contact', async () => {
    const { adapter, calls } = makeAdapter()
    const inputs: { id: string; properties: Record<string, string> }[][] = []
    nock(API)
      .post('/crm/objects/2026-03/contacts/batch/update', (body) => (inputs.push(body.inputs), true))
      .times(2)
      .reply(batchUpdateReply())
    const changes = Array.from({ length: 150 }, (_, i) => change(String(2001 + i), i % 2 === 0, '2026-03-01T10:00:00Z'))
    changes.push(change('2001', false, '2026-03-01T10:05:00Z'), change('2002', true, '2026-03-01T09:00:00Z'))
    const results = await adapter.writeConsent(changes)
    expect(calls).toEqual(['POST /crm/objects/2026-03/contacts/batch/update', 'POST /crm/objects/2026-03/contacts/batch/update'])
    const sent = inputs.flat()
    expect(sent.map((i) => i.id).sort()).toEqual(Array.from({ length: 150 }, (_, i) => String(2001 + i)).sort())
    expect(inputs.map((batch) => batch.length).sort()).toEqual([100, 50])
    expect(sent.find((i) => i.id === '2001')?.properties).toEqual({ whatsapp_opt_in: 'false', whatsapp_opt_in_date: '2026-03-01T10:05:00.000Z', whatsapp_opt_in_source: 'whatsapp_keyword' })
    expect(sent.find((i) => i.id === '2002')?.properties).toMatchObject({ whatsapp_opt_in: 'false', whatsapp_opt_in_date: '2026-03-01T10:00:00.000Z' })
    expect(sent.find((i) => i.id === '2003')?.properties).toMatchObject({ whatsapp_opt_in: 'true' })
    expect(results).toHaveLength(152)
    expect(results.every((r) => r.ok)).toBe(true)
  })

  it('writes to the properties it is given, leaving out details set to null', async () => {
    const { adapter } = makeAdapter({ consentProperty: 'wa_consent', consentDateProperty: 'wa_consent_at', consentSourceProperty: null })
    const inputs: { id: string; objectWriteTraceId: string; properties: Record<string, string> }[] = []
    nock(API)
      .post('/crm/objects/2026-03/contacts/batch/update', (body) => (inputs.push(...body.inputs), true))
      .reply(batchUpdateReply())
    await adapter.writeConsent([change('2501', true, '2026-03-01T10:00:00Z')])
    expect(inputs).toEqual([{ id: '2501', objectWriteTraceId: '2501', properties: { wa_consent: 'true', wa_consent_at: '2026-03-01T10:00:00.000Z' } }])
  })

  it('reports contacts HubSpot cannot find and still writes the rest', async () => {
    const { adapter, calls } = makeAdapter()
    const batches: string[][] = []
    nock(API)
      .post('/crm/objects/2026-03/contacts/batch/update', (body) => (batches.push(body.inputs.map((i: { id: string }) => i.id)), true))
      .reply(400, {
        status: 'error',
        message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
        correlationId: 'c',
        category: 'OBJECT_NOT_FOUND',
        context: { ids: ['4002'] },
      })
    nock(API)
      .post('/crm/objects/2026-03/contacts/batch/update', (body) => (batches.push(body.inputs.map((i: { id: string }) => i.id)), true))
      .reply(batchUpdateReply())
    const results = await adapter.writeConsent([change('4001', true, '2026-03-01T10:00:00Z'), change('4002', true, '2026-03-01T10:00:00Z'), change('4003', false, '2026-03-01T10:00:00Z')])
    expect(batches).toEqual([['4001', '4002', '4003'], ['4001', '4003']])
    expect(results.map((r) => [r.id, r.ok, r.error?.code])).toEqual([
      ['4001', true, undefined],
      ['4002', false, 'NOT_FOUND'],
      ['4003', true, undefined],
    ])
    expect(calls).toHaveLength(2)
  })

  it('on 2026-09 a record a portal validation rule refuses fails alone (207), with a trace id per input', async () => {
    const { adapter, calls } = makeAdapter({ apiVersions: { objects: '2026-09' } })
    const sent: { id: string; objectWriteTraceId: string }[][] = []
    nock(API)
      .post('/crm/objects/2026-09/contacts/batch/update', (body) => (sent.push(body.inputs), true))
      .reply(207, {
        status: 'COMPLETE',
        results: [{ id: '6001', properties: { whatsapp_opt_in: 'true' } }],
        numErrors: 1,
        errors: [{ status: 'error', category: 'VALIDATION_ERROR', message: 'Property company is required when lifecyclestage is customer.', context: { ids: ['6002'] } }],
      })
    const results = await adapter.writeConsent([change('6001', true, '2026-03-01T10:00:00Z'), change('6002', true, '2026-03-01T10:00:00Z')])
    expect(sent[0]?.map((i) => [i.id, i.objectWriteTraceId])).toEqual([['6001', '6001'], ['6002', '6002']])
    expect(results).toEqual([
      { id: '6001', ok: true },
      { id: '6002', ok: false, error: expect.objectContaining({ code: 'VALIDATION_ERROR', platformCode: 'VALIDATION_ERROR', message: expect.stringContaining('company is required') }) },
    ])
    expect(calls).toEqual(['POST /crm/objects/2026-09/contacts/batch/update'])
  })

  it('writes only the contact properties, never a subscription, and refuses leads without calling', async () => {
    const { adapter, calls } = makeAdapter()
    nock(API).post('/crm/objects/2026-03/contacts/batch/update').reply(batchUpdateReply())
    const results = await adapter.writeConsent([
      change('5001', true, '2026-03-01T10:00:00Z', '+4915112345678'),
      { recordId: '00Q5', objectType: 'lead', optedIn: true, occurredAt: new Date('2026-03-01T10:00:00Z'), source: 'whatsapp_keyword' },
    ])
    expect(results.map((r) => [r.id, r.ok, r.error?.code])).toEqual([
      ['5001', true, undefined],
      ['00Q5', false, 'VALIDATION_ERROR'],
    ])
    expect(calls).toEqual(['POST /crm/objects/2026-03/contacts/batch/update'])
  })
})
