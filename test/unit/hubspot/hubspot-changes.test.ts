import nock from 'nock'
import { describe, expect, it } from 'vitest'
import type { ChangePage } from '../../../crm-adapters/crm-adapter.ts'
import { API, contact, makeAdapter, rejection, useNock } from './helpers.ts'

useNock()

const SEARCH = '/crm/objects/2026-03/contacts/search'

interface SearchBody {
  filterGroups: { filters: { propertyName: string; operator: string; value: string }[] }[]
  sorts: { propertyName: string; direction: string }[]
  properties: string[]
  limit: number
  after?: string
}

/** CRM search over `rows` as HubSpot pages it: filter, one sort, numeric offset `after`, 10,000 cap. */
function searchEngine(rows: { id: string; modified: number }[], requests: SearchBody[]) {
  return async (request: Request): Promise<[number, unknown]> => {
    const body = (await request.json()) as SearchBody
    requests.push(body)
    const filter = body.filterGroups[0]?.filters[0]
    const bound = Number(filter?.value)
    const matches = rows
      .filter((r) => (filter?.operator === 'GT' ? r.modified > bound : r.modified >= bound))
      .sort((a, b) => a.modified - b.modified || Number(a.id) - Number(b.id))
    const after = Number(body.after ?? 0)
    if (after >= 10_000) return [400, { status: 'error', message: 'The search API returns at most 10000 results per query.', category: 'VALIDATION_ERROR' }]
    const page = matches.slice(after, after + body.limit)
    return [
      200,
      {
        total: matches.length,
        results: page.map((r) => contact(r.id, Object.fromEntries(body.properties.map((p) => [p, `${p}-${r.id}`])), new Date(r.modified).toISOString())),
        ...(after + body.limit < matches.length ? { paging: { next: { after: String(after + body.limit) } } } : {}),
      },
    ]
  }
}

async function collect(pages: AsyncIterable<ChangePage>): Promise<ChangePage[]> {
  const out: ChangePage[] = []
  for await (const page of pages) out.push(page)
  return out
}

const T0 = Date.parse('2026-03-01T10:00:00.000Z')

describe('readChangesSince', () => {
  it('without a cursor starts from now: one empty page, no call', async () => {
    const { adapter, calls, clock } = makeAdapter()
    expect(await collect(adapter.readChangesSince(undefined, ['email']))).toEqual([{ records: [], nextCursor: new Date(clock.now()).toISOString(), calls: 0 }])
    expect(calls).toEqual([])
  })

  it('pages contacts modified after the cursor, oldest first, and ends at the high-water mark', async () => {
    const { adapter, calls } = makeAdapter()
    const requests: SearchBody[] = []
    const rows = Array.from({ length: 230 }, (_, i) => ({ id: String(3000 + i), modified: T0 + 1_000 * (i + 1) }))
    rows.push({ id: '2999', modified: T0 }) // exactly at the cursor: already seen
    nock(API).post(SEARCH).times(3).reply(searchEngine(rows, requests))

    const pages = await collect(adapter.readChangesSince('2026-03-01T10:00:00.000Z', ['email', 'whatsapp_opt_in']))

    expect(requests[0]).toEqual({
      filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GT', value: String(T0) }] }],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
      properties: ['email', 'whatsapp_opt_in', 'lastmodifieddate'],
      limit: 100,
    })
    expect(requests.slice(1).map((r) => [r.filterGroups[0]?.filters[0]?.operator, r.after])).toEqual([
      ['GTE', '1'],
      ['GTE', '1'],
    ])
    expect(pages.map((p) => [p.records.length, p.calls])).toEqual([
      [100, 1],
      [100, 1],
      [30, 1],
    ])
    expect(calls).toHaveLength(3)
    expect(pages.flatMap((p) => p.records.map((r) => r.id))).toEqual(rows.slice(0, 230).map((r) => r.id))
    expect(pages.at(-1)?.nextCursor).toBe(new Date(T0 + 230_000).toISOString())
    expect(pages[0]?.records[0]).toEqual({ id: '3000', objectType: 'contact', properties: { email: 'email-3000', whatsapp_opt_in: 'whatsapp_opt_in-3000' }, updatedAt: new Date(T0 + 1_000).toISOString() })
  })

  it('steps over ties at a page boundary and pages of one instant without skipping or repeating', async () => {
    const { adapter } = makeAdapter()
    const requests: SearchBody[] = []
    // 97 distinct times, then 250 contacts written in the same millisecond (a bulk update), then 5 more.
    const rows = [
      ...Array.from({ length: 97 }, (_, i) => ({ id: String(5000 + i), modified: T0 + i + 1 })),
      ...Array.from({ length: 250 }, (_, i) => ({ id: String(6000 + i), modified: T0 + 500 })),
      ...Array.from({ length: 5 }, (_, i) => ({ id: String(7000 + i), modified: T0 + 600 + i })),
    ]
    nock(API).post(SEARCH).times(10).reply(searchEngine(rows, requests))
    const pages = await collect(adapter.readChangesSince(String(T0), ['email']))
    const ids = pages.flatMap((p) => p.records.map((r) => r.id))
    expect(ids).toHaveLength(rows.length)
    expect(new Set(ids).size).toBe(rows.length)
    expect(requests.map((r) => r.after ?? '0')).toEqual(['0', '3', '103', '203'])
    expect(pages.at(-1)?.nextCursor).toBe(new Date(T0 + 604).toISOString())
  })

  it('never pages into the 10,000-result cap: each page re-anchors the filter', async () => {
    const { adapter } = makeAdapter()
    const requests: SearchBody[] = []
    const rows = Array.from({ length: 10_150 }, (_, i) => ({ id: String(100_000 + i), modified: T0 + i + 1 }))
    nock(API).post(SEARCH).times(102).reply(searchEngine(rows, requests))
    let count = 0
    for await (const page of adapter.readChangesSince(String(T0), [])) count += page.records.length
    expect(count).toBe(10_150)
    expect(requests).toHaveLength(102)
    expect(Math.max(...requests.map((r) => Number(r.after ?? 0)))).toBe(1)
  })

  it('refuses a cursor that is not a time', async () => {
    const { adapter } = makeAdapter()
    expect(await rejection(collect(adapter.readChangesSince('yesterday', ['email'])))).toMatchObject({ code: 'VALIDATION_ERROR' })
  })
})
