import nock from 'nock'
import { describe, expect, it } from 'vitest'
import type { ConsentWrite } from '../../../crm-adapters/crm-adapter.ts'
import { API, makeAdapter, useNock } from './helpers.ts'

useNock()

// Communication preferences v4 definitions (reference hubspot.md §5).
function definition(id: string, name: string, communicationMethod: string): Record<string, unknown> {
  return {
    id,
    name,
    description: '',
    purpose: 'Marketing',
    communicationMethod,
    isActive: true,
    isDefault: false,
    isInternal: false,
    businessUnitId: 0,
    subscriptionTranslations: [],
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
  }
}
const DEFINITIONS = {
  status: 'COMPLETE',
  results: [definition('101', 'Marketing Information', 'EMAIL'), definition('201', 'WhatsApp marketing', 'WHATSAPP')],
  startedAt: '2026-03-01T10:00:00.000Z',
  completedAt: '2026-03-01T10:00:00.000Z',
}

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
      .post('/crm/v3/objects/contacts/batch/update', (body) => (inputs.push(body.inputs), true))
      .times(2)
      .reply(batchUpdateReply())
    const changes = Array.from({ length: 150 }, (_, i) => change(String(2001 + i), i % 2 === 0, '2026-03-01T10:00:00Z'))
    changes.push(change('2001', false, '2026-03-01T10:05:00Z'), change('2002', true, '2026-03-01T09:00:00Z'))
    const results = await adapter.writeConsent(changes)
    expect(calls).toEqual(['POST /crm/v3/objects/contacts/batch/update', 'POST /crm/v3/objects/contacts/batch/update'])
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
    const inputs: { id: string; properties: Record<string, string> }[] = []
    nock(API)
      .post('/crm/v3/objects/contacts/batch/update', (body) => (inputs.push(...body.inputs), true))
      .reply(batchUpdateReply())
    await adapter.writeConsent([change('2501', true, '2026-03-01T10:00:00Z')])
    expect(inputs).toEqual([{ id: '2501', properties: { wa_consent: 'true', wa_consent_at: '2026-03-01T10:00:00.000Z' } }])
  })

  it('also sets the WhatsApp subscription status, discovering the definition once', async () => {
    const { adapter, calls } = makeAdapter()
    const statuses: Record<string, unknown>[] = []
    const paths: string[] = []
    nock(API).post('/crm/v3/objects/contacts/batch/update').times(2).reply(batchUpdateReply())
    nock(API).get('/communication-preferences/v4/definitions').once().reply(200, DEFINITIONS)
    nock(API)
      .post(/^\/communication-preferences\/v4\/statuses\/[^/]+$/, (body) => (statuses.push(body), true))
      .times(3)
      .reply((request: Request) => (paths.push(new URL(request.url).pathname), [200, { channel: 'WHATSAPP', status: 'SUBSCRIBED', subscriptionId: '201' }]))

    const first = await adapter.writeConsent([change('3001', true, '2026-03-01T10:00:00Z', '+4915112345678'), change('3002', false, '2026-03-01T10:00:00Z', '+5511912345678')])
    const second = await adapter.writeConsent([change('3001', false, '2026-03-01T11:00:00Z', '+4915112345678')])

    expect([...first, ...second].every((r) => r.ok)).toBe(true)
    expect(calls.filter((c) => c === 'GET /communication-preferences/v4/definitions')).toHaveLength(1)
    expect(paths.sort()).toEqual(['/communication-preferences/v4/statuses/%2B4915112345678', '/communication-preferences/v4/statuses/%2B4915112345678', '/communication-preferences/v4/statuses/%2B5511912345678'])
    expect(statuses).toContainEqual({
      channel: 'WHATSAPP',
      statusState: 'SUBSCRIBED',
      subscriptionId: '201',
      legalBasis: 'CONSENT_WITH_NOTICE',
      legalBasisExplanation: 'Opted in on WhatsApp (whatsapp_keyword) at 2026-03-01T10:00:00.000Z',
    })
    expect(statuses).toContainEqual({ channel: 'WHATSAPP', statusState: 'NOT_SUBSCRIBED', subscriptionId: '201' })
    expect(calls).toHaveLength(2 + 1 + 3)
  })

  it('skips subscriptions silently where the portal has no WhatsApp definition or the scope is missing', async () => {
    for (const answer of [
      [200, { status: 'COMPLETE', results: [definition('101', 'Marketing Information', 'EMAIL')] }],
      [403, { status: 'error', message: "This app hasn't been granted all required scopes to make this call.", category: 'MISSING_SCOPES' }],
    ] as const) {
      const { adapter, calls } = makeAdapter()
      nock(API).post('/crm/v3/objects/contacts/batch/update').reply(batchUpdateReply())
      nock(API).get('/communication-preferences/v4/definitions').reply(answer[0], answer[1])
      const results = await adapter.writeConsent([change('3001', true, '2026-03-01T10:00:00Z', '+4915112345678')])
      expect(results).toEqual([{ id: '3001', ok: true }])
      expect(calls).toEqual(['POST /crm/v3/objects/contacts/batch/update', 'GET /communication-preferences/v4/definitions'])
      nock.cleanAll()
    }
  })

  it('reports contacts HubSpot cannot find and still writes the rest', async () => {
    const { adapter, calls } = makeAdapter()
    const batches: string[][] = []
    nock(API)
      .post('/crm/v3/objects/contacts/batch/update', (body) => (batches.push(body.inputs.map((i: { id: string }) => i.id)), true))
      .reply(400, {
        status: 'error',
        message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
        correlationId: 'c',
        category: 'OBJECT_NOT_FOUND',
        context: { ids: ['4002'] },
      })
    nock(API)
      .post('/crm/v3/objects/contacts/batch/update', (body) => (batches.push(body.inputs.map((i: { id: string }) => i.id)), true))
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

  it('fails a change whose subscription write fails, and refuses leads without calling', async () => {
    const { adapter } = makeAdapter()
    nock(API).post('/crm/v3/objects/contacts/batch/update').reply(batchUpdateReply())
    nock(API).get('/communication-preferences/v4/definitions').reply(200, DEFINITIONS)
    nock(API)
      .post('/communication-preferences/v4/statuses/%2B4915112345678')
      .reply(400, { status: 'error', message: 'legalBasis is required because GDPR features are enabled for this account.', category: 'VALIDATION_ERROR' })
    const results = await adapter.writeConsent([
      change('5001', true, '2026-03-01T10:00:00Z', '+4915112345678'),
      { recordId: '00Q5', objectType: 'lead', optedIn: true, occurredAt: new Date('2026-03-01T10:00:00Z'), source: 'whatsapp_keyword' },
    ])
    expect(results.map((r) => [r.id, r.ok, r.error?.code])).toEqual([
      ['5001', false, 'VALIDATION_ERROR'],
      ['00Q5', false, 'VALIDATION_ERROR'],
    ])
    expect(results[0]?.error?.message).not.toContain('4915112345678')
  })
})
