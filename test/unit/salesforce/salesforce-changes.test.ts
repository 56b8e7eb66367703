import nock from 'nock'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { CrmError } from '../../../crm-adapters/crm-adapter.ts'
import { API, collect, makeAdapter, queryBody, row, sf, sfId } from './helpers.ts'

const contact = (n: number) => sfId('003', n)
const lead = (n: number) => sfId('00Q', n)
const person = (type: 'Contact' | 'Lead', id: string, second: number) =>
  row(type, id, { SystemModstamp: `2025-03-01T10:00:0${second}.000+0000`, MobilePhone: `+1415555010${second}` })
const changed = (type: string, since: string) => ({ q: `SELECT Id, SystemModstamp, MobilePhone FROM ${type} WHERE SystemModstamp > ${since} ORDER BY SystemModstamp, Id` })
const LOCATOR = `${API}/query/01gDn0000000009AAA-2`

beforeAll(() => nock.disableNetConnect())
afterEach(() => {
  nock.cleanAll()
  vi.useRealTimers()
})
afterAll(() => nock.enableNetConnect())

describe('readChangesSince', () => {
  it('merges Contact and Lead changes by SystemModstamp; each page\u2019s cursor has everything before it', async () => {
    const { adapter, calls } = makeAdapter()
    const scope = sf()
      .get(`${API}/query`).query(changed('Contact', '2025-03-01T00:00:00Z'))
      .reply(200, queryBody([person('Contact', contact(1), 1), person('Contact', contact(2), 3)], LOCATOR, 4))
      .get(`${API}/query`).query(changed('Lead', '2025-03-01T00:00:00Z'))
      .reply(200, queryBody([person('Lead', lead(1), 2), person('Lead', lead(2), 5)]))
      .get(LOCATOR).reply(200, queryBody([person('Contact', contact(3), 3), person('Contact', contact(4), 7)], undefined, 4))
    const pages = await collect(adapter.readChangesSince('2025-03-01T00:00:00.000Z', ['MobilePhone']))
    scope.done()
    expect(pages.map((p) => [p.records.map((r) => r.id), p.nextCursor, p.calls])).toEqual([
      [[contact(1), lead(1)], '2025-03-01T10:00:02.000Z', 2],
      // contact(2) shares its stamp with contact(3) on the next batch: it waits for it.
      [[contact(2), contact(3), lead(2), contact(4)], '2025-03-01T10:00:07.000Z', 1],
    ])
    expect(pages[1]?.records[2]).toEqual({ id: lead(2), objectType: 'lead', properties: { MobilePhone: '+14155550105' }, updatedAt: '2025-03-01T10:00:05.000Z' })
    expect(calls.map((c) => c.endpoint)).toEqual(['query', 'query', 'queryMore'])
  })

  it('without changes keeps the cursor; the query mark is rounded down to whole seconds', async () => {
    const { adapter } = makeAdapter()
    sf()
      .get(`${API}/query`).query(changed('Contact', '2025-03-01T10:00:02Z')).reply(200, queryBody([]))
      .get(`${API}/query`).query(changed('Lead', '2025-03-01T10:00:02Z')).reply(200, queryBody([]))
    const pages = await collect(adapter.readChangesSince('2025-03-01T10:00:02.500Z', ['MobilePhone']))
    expect(pages).toEqual([{ records: [], nextCursor: '2025-03-01T10:00:02.500Z', calls: 2 }])
  })

  it('without a cursor starts from now, with no call', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2025-03-04T12:00:00Z') })
    const { adapter, calls } = makeAdapter()
    expect(await collect(adapter.readChangesSince(undefined, ['MobilePhone']))).toEqual([{ records: [], nextCursor: '2025-03-04T12:00:00.000Z', calls: 0 }])
    expect(calls).toEqual([])
  })

  it('refuses a cursor that is not a time, before any call', async () => {
    const { adapter, calls } = makeAdapter()
    const error = await collect(adapter.readChangesSince("2025' OR Id != '", ['MobilePhone'])).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CrmError)
    expect((error as CrmError).code).toBe('VALIDATION_ERROR')
    expect(calls).toEqual([])
  })
})

describe('readRecords', () => {
  it('reads Contacts and Leads separately, 200 ids per query, each id once', async () => {
    const { adapter, calls } = makeAdapter()
    const seen: number[] = []
    const count = (type: string) => (q: { q: string }) => {
      if (!q.q.startsWith(`SELECT Id, SystemModstamp, MobilePhone, WhatsApp_Opt_In__c FROM ${type} WHERE Id IN (`)) return false
      seen.push(q.q.split(',').length - 3)
      return true
    }
    sf()
      .get(`${API}/query`).query(count('Contact')).times(3).reply(200, queryBody([person('Contact', contact(1), 1)]))
      .get(`${API}/query`).query(count('Lead')).reply(200, queryBody([row('Lead', lead(1), { SystemModstamp: '2025-03-01T10:00:00.000+0000', MobilePhone: null, WhatsApp_Opt_In__c: true })]))
    const ids = [
      ...Array.from({ length: 450 }, (_, i) => ({ id: contact(i + 1), objectType: 'contact' as const })),
      { id: contact(1), objectType: 'contact' as const },
      ...Array.from({ length: 3 }, (_, i) => ({ id: lead(i + 1), objectType: 'lead' as const })),
    ]
    const records = await adapter.readRecords(ids, ['MobilePhone', 'WhatsApp_Opt_In__c'])
    expect(seen).toEqual([200, 200, 50, 3])
    expect(calls).toHaveLength(4)
    expect(records.at(-1)).toEqual({ id: lead(1), objectType: 'lead', properties: { MobilePhone: null, WhatsApp_Opt_In__c: 'true' }, updatedAt: '2025-03-01T10:00:00.000Z' })
  })

  it('refuses ids that are not Salesforce ids, before any call', async () => {
    const { adapter, calls } = makeAdapter()
    await expect(adapter.readRecords([{ id: "003') OR Id != ('", objectType: 'contact' }], ['MobilePhone'])).rejects.toMatchObject({ code: 'VALIDATION_ERROR' })
    expect(calls).toEqual([])
  })
})
