import nock from 'nock'
import { describe, expect, it } from 'vitest'
import type { MemberPage } from '../../../crm-adapters/crm-adapter.ts'
import { API, batchReadReply, makeAdapter, rejection, useNock } from './helpers.ts'

useNock()

// Lists v3 shapes (reference hubspot.md §3: PublicObjectList, search results with additionalProperties).
function listObject(listId: string, name: string, objectTypeId = '0-1'): Record<string, unknown> {
  return {
    listId,
    listVersion: 3,
    name,
    objectTypeId,
    processingType: 'DYNAMIC',
    processingStatus: 'COMPLETE',
    createdAt: '2025-06-01T08:00:00.000Z',
    updatedAt: '2026-02-01T08:00:00.000Z',
    filtersUpdatedAt: '2025-06-01T08:00:00.000Z',
    createdById: '1',
    updatedById: '1',
  }
}

function searchResult(listId: string, name: string, size: number, objectTypeId = '0-1'): Record<string, unknown> {
  return { ...listObject(listId, name, objectTypeId), additionalProperties: { hs_list_size: String(size), hs_last_record_added_at: '1769932800000' } }
}

/** A memberships page: rows in recordId order with an opaque next cursor. */
function membershipPage(ids: number[], next: string | undefined, total: number): Record<string, unknown> {
  return {
    results: ids.map((id) => ({ recordId: String(id), membershipTimestamp: '2026-01-15T12:00:00.000Z' })),
    ...(next ? { paging: { next: { after: next } } } : {}),
    total,
  }
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i)

async function collect(pages: AsyncIterable<MemberPage>): Promise<MemberPage[]> {
  const out: MemberPage[] = []
  for await (const page of pages) out.push(page)
  return out
}

describe('listSegmentSources', () => {
  it('searches contact lists page by page, with their sizes', async () => {
    const { adapter } = makeAdapter()
    const bodies: unknown[] = []
    nock(API)
      .post('/crm/lists/2026-03/search', (body) => (bodies.push(body), true))
      .reply(200, { lists: [searchResult('7', 'Spring opt-ins', 620), searchResult('8', 'Companies', 12, '0-2')], offset: 2, hasMore: true, total: 3 })
    nock(API)
      .post('/crm/lists/2026-03/search', (body) => (bodies.push(body), true))
      .reply(200, { lists: [{ ...searchResult('9', 'VIP', 3), processingType: 'MANUAL' }], offset: 3, hasMore: false, total: 3 })
    const sources = await adapter.listSegmentSources('spring')
    expect(bodies).toEqual([
      { query: 'spring', offset: 0, count: 100, additionalProperties: ['hs_list_size'] },
      { query: 'spring', offset: 2, count: 100, additionalProperties: ['hs_list_size'] },
    ])
    expect(sources).toEqual([
      { type: 'hubspot_list', id: '7', name: 'Spring opt-ins', size: 620, processingType: 'DYNAMIC' },
      { type: 'hubspot_list', id: '9', name: 'VIP', size: 3, processingType: 'MANUAL' },
    ])
  })
})

describe('getSegmentSource', () => {
  it('reads one list', async () => {
    const { adapter, calls } = makeAdapter()
    nock(API).get('/crm/lists/2026-03/7').reply(200, { list: { ...listObject('7', 'Spring opt-ins'), size: 620 } })
    expect(await adapter.getSegmentSource({ type: 'hubspot_list', id: '7' })).toEqual({ type: 'hubspot_list', id: '7', name: 'Spring opt-ins', size: 620, processingType: 'DYNAMIC' })
    expect(calls).toEqual(['GET /crm/lists/2026-03/{listId}'])
  })

  it('is NOT_FOUND when the list is gone', async () => {
    const { adapter } = makeAdapter()
    nock(API).get('/crm/lists/2026-03/404').reply(404, { status: 'error', message: 'List 404 does not exist.', correlationId: 'c', category: 'OBJECT_NOT_FOUND' })
    expect(await rejection(adapter.getSegmentSource({ type: 'hubspot_list', id: '404' }))).toMatchObject({ crm: 'hubspot', code: 'NOT_FOUND', httpStatus: 404 })
  })

  it('refuses source types HubSpot does not have', async () => {
    const { adapter } = makeAdapter()
    expect(await rejection(adapter.getSegmentSource({ type: 'salesforce_campaign', id: '701' }))).toMatchObject({ code: 'VALIDATION_ERROR' })
  })
})

describe('streamSegmentMembers', () => {
  const ref = { type: 'hubspot_list' as const, id: '7' }
  const properties = ['firstname', 'mobilephone', 'whatsapp_opt_in']

  it('reads two membership pages of 250 and batch-reads their 500 ids 100 at a time: 2 + 5 calls per full page', async () => {
    const { adapter, calls } = makeAdapter()
    const sizes: number[] = []
    const members = [...range(1001, 250), ...range(1251, 250), ...range(1501, 120)]
    const deleted = new Set(['1260', '1599'])
    nock(API).get('/crm/lists/2026-03/7/memberships').query({ limit: '250' }).reply(200, membershipPage(members.slice(0, 250), 'cursor-1', 620))
    nock(API).get('/crm/lists/2026-03/7/memberships').query({ limit: '250', after: 'cursor-1' }).reply(200, membershipPage(members.slice(250, 500), 'cursor-2', 620))
    nock(API).get('/crm/lists/2026-03/7/memberships').query({ limit: '250', after: 'cursor-2' }).reply(200, membershipPage(members.slice(500), undefined, 620))
    const reads = nock(API).post('/crm/objects/2026-03/contacts/batch/read').times(7).reply(batchReadReply(deleted, sizes))

    const pages = await collect(adapter.streamSegmentMembers(ref, { properties }))

    expect(reads.isDone()).toBe(true)
    expect(sizes.sort((a, b) => a - b)).toEqual([20, 100, 100, 100, 100, 100, 100])
    expect(pages.map((p) => [p.records.length, p.nextCursor, p.calls])).toEqual([
      [499, 'cursor-2', 7],
      [119, undefined, 3],
    ])
    expect(calls).toHaveLength(10)
    expect(pages.reduce((sum, p) => sum + p.calls, 0)).toBe(calls.length)
    // Membership order kept (batch results came back reversed), deleted members skipped.
    const ids = pages.flatMap((p) => p.records.map((r) => r.id))
    expect(ids).toEqual(members.map(String).filter((id) => !deleted.has(id)))
    expect(pages[0]?.records[0]).toEqual({
      id: '1001',
      objectType: 'contact',
      properties: { firstname: 'firstname-1001', mobilephone: 'mobilephone-1001', whatsapp_opt_in: 'whatsapp_opt_in-1001' },
      updatedAt: '2026-02-01T09:00:00.000Z',
    })
  })

  it('resumes right after the page that returned the cursor', async () => {
    const { adapter, calls } = makeAdapter()
    nock(API).get('/crm/lists/2026-03/7/memberships').query({ limit: '250', after: 'cursor-2' }).reply(200, membershipPage(range(1501, 3), undefined, 503))
    nock(API).post('/crm/objects/2026-03/contacts/batch/read').reply(batchReadReply())
    const pages = await collect(adapter.streamSegmentMembers(ref, { properties, cursor: 'cursor-2' }))
    expect(pages.map((p) => p.records.map((r) => r.id))).toEqual([['1501', '1502', '1503']])
    expect(pages[0]?.nextCursor).toBeUndefined()
    expect(calls).toEqual(['GET /crm/lists/2026-03/{listId}/memberships', 'POST /crm/objects/2026-03/contacts/batch/read'])
  })

  it('yields one empty last page for an empty list, without a batch read', async () => {
    const { adapter, calls } = makeAdapter()
    nock(API).get('/crm/lists/2026-03/7/memberships').query({ limit: '250' }).reply(200, { results: [], total: 0 })
    expect(await collect(adapter.streamSegmentMembers(ref, { properties }))).toEqual([{ records: [], nextCursor: undefined, calls: 1 }])
    expect(calls).toHaveLength(1)
  })

  it('is NOT_FOUND for a deleted list', async () => {
    const { adapter } = makeAdapter()
    nock(API).get('/crm/lists/2026-03/7/memberships').query({ limit: '250' }).reply(404, { status: 'error', message: 'List 7 does not exist.', category: 'OBJECT_NOT_FOUND' })
    expect(await rejection(collect(adapter.streamSegmentMembers(ref, { properties })))).toMatchObject({ code: 'NOT_FOUND' })
  })
})

describe('readRecords', () => {
  it('reads contacts 100 per call with only the named properties, in the order asked', async () => {
    const { adapter, calls } = makeAdapter()
    const sizes: number[] = []
    const bodies: unknown[] = []
    nock(API)
      .post('/crm/objects/2026-03/contacts/batch/read', (body) => (bodies.push(body), true))
      .times(2)
      .reply(batchReadReply(new Set(['5003']), sizes))
    const ids = range(5001, 150).map((n) => ({ id: String(n), objectType: 'contact' as const }))
    const records = await adapter.readRecords(ids, ['email'])
    expect(sizes.sort((a, b) => a - b)).toEqual([50, 100])
    expect(bodies[0]).toMatchObject({ properties: ['email'] })
    expect(records.map((r) => r.id)).toEqual(ids.map((r) => r.id).filter((id) => id !== '5003'))
    expect(records[0]?.properties).toEqual({ email: 'email-5001' })
    expect(calls).toHaveLength(2)
  })

  it('refuses leads', async () => {
    const { adapter } = makeAdapter()
    expect(await rejection(adapter.readRecords([{ id: '00Q1', objectType: 'lead' }], ['email']))).toMatchObject({ code: 'VALIDATION_ERROR' })
  })
})
