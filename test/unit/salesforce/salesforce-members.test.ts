import nock from 'nock'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { MemberPage } from '../../../crm-adapters/crm-adapter.ts'
import { withFields } from '../../../crm-adapters/salesforce/salesforce-members.ts'
import { API, collect, makeAdapter, queryBody, row, sf, sfId, rejection } from './helpers.ts'

const CAMPAIGN = sfId('701', 7)
const LIST_VIEW = sfId('00B', 3)
const REPORT = sfId('00O', 5)
const STAMP = '2025-03-01T10:00:00.000+0000'
const contact = (n: number) => sfId('003', n)
const lead = (n: number) => sfId('00Q', n)
const locator = (offset: number) => `${API}/query/01gDn0000000001AAA-${offset}`

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())
afterAll(() => nock.enableNetConnect())

function member(n: number, person: { contact?: number; lead?: number }, mobile: string | null) {
  const related = (type: string, id: string) => ({ attributes: { type, url: `${API}/sobjects/${type}/${id}` }, SystemModstamp: STAMP, MobilePhone: mobile, FirstName: `P${n}` })
  return row('CampaignMember', sfId('00v', n), {
    ContactId: person.contact ? contact(person.contact) : null,
    LeadId: person.lead ? lead(person.lead) : null,
    Contact: person.contact ? related('Contact', contact(person.contact)) : null,
    Lead: person.lead && !person.contact ? related('Lead', lead(person.lead)) : null,
  })
}

const campaignSoql = `SELECT Id, ContactId, LeadId, Contact.SystemModstamp, Lead.SystemModstamp, Contact.MobilePhone, Lead.MobilePhone, Contact.FirstName, Lead.FirstName FROM CampaignMember WHERE CampaignId = '${CAMPAIGN}'`

describe('campaign members', () => {
  const pages = [
    queryBody([member(1, { contact: 1 }, '+1 415 555 0101'), member(2, { lead: 2 }, '07700 900123')], locator(2), 5),
    queryBody([member(3, { contact: 3 }, null), member(4, { contact: 4, lead: 9 }, '+49 151 1234567')], locator(4), 5),
    queryBody([member(5, { lead: 5 }, '+52 1 55 1234 5678')], undefined, 5),
  ]

  it('selects the Contact and Lead relationship fields and pages by nextRecordsUrl, one call per page', async () => {
    const { adapter, calls } = makeAdapter()
    const scope = sf()
      .get(`${API}/query`).query({ q: campaignSoql }).reply(200, pages[0])
      .get(locator(2)).reply(200, pages[1])
      .get(locator(4)).reply(200, pages[2])
    const got = await collect(adapter.streamSegmentMembers({ type: 'salesforce_campaign', id: CAMPAIGN }, { properties: ['MobilePhone', 'FirstName'] }))
    scope.done()
    expect(got.map((p) => [p.records.length, p.nextCursor, p.calls])).toEqual([[2, locator(2), 1], [2, locator(4), 1], [1, undefined, 1]])
    expect(calls.map((c) => c.endpoint)).toEqual(['query', 'queryMore', 'queryMore'])
    const records = got.flatMap((p) => p.records)
    // memberKey: the CampaignMember's own id, by which Salesforce reports the membership's removal.
    expect(records[0]).toEqual({ id: contact(1), objectType: 'contact', properties: { MobilePhone: '+1 415 555 0101', FirstName: 'P1' }, updatedAt: '2025-03-01T10:00:00.000Z', memberKey: sfId('00v', 1) })
    expect(records[1]).toEqual({ id: lead(2), objectType: 'lead', properties: { MobilePhone: '07700 900123', FirstName: 'P2' }, updatedAt: '2025-03-01T10:00:00.000Z', memberKey: sfId('00v', 2) })
    expect(records[2]?.properties.MobilePhone).toBeNull()
    // A converted lead's membership carries both ids: it is the Contact now.
    expect(records[3]).toMatchObject({ id: contact(4), objectType: 'contact' })
    expect(records[4]).toMatchObject({ id: lead(5), objectType: 'lead' })
  })

  it('resumes from a cursor with the batch after it, without running the query again', async () => {
    const { adapter, calls } = makeAdapter()
    const scope = sf().get(locator(4)).reply(200, pages[2])
    const got = await collect(adapter.streamSegmentMembers({ type: 'salesforce_campaign', id: CAMPAIGN }, { properties: ['MobilePhone', 'FirstName'], cursor: locator(4) }))
    scope.done()
    expect(got).toHaveLength(1)
    expect(got[0]?.records.map((r) => r.id)).toEqual([lead(5)])
    expect(calls).toEqual([{ endpoint: 'queryMore', status: 200 }])
  })

  it('an expired query locator says to read the source again', async () => {
    const { adapter } = makeAdapter()
    sf().get(locator(4)).reply(400, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }])
    const error = await rejection(collect(adapter.streamSegmentMembers({ type: 'salesforce_campaign', id: CAMPAIGN }, { properties: ['MobilePhone'], cursor: locator(4) })))
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', platformCode: 'INVALID_QUERY_LOCATOR', retryable: false })
    expect(error.message).toMatch(/expired.*from the start/)
  })

  it('refuses a cursor that is not a query locator, before any call', async () => {
    const { adapter, calls } = makeAdapter()
    const error = await rejection(collect(adapter.streamSegmentMembers({ type: 'salesforce_campaign', id: CAMPAIGN }, { properties: ['MobilePhone'], cursor: '//evil.example.com/x' })))
    expect(error.code).toBe('VALIDATION_ERROR')
    expect(calls).toEqual([])
  })

  it('refuses property names that are not field API names, before any call', async () => {
    const { adapter, calls } = makeAdapter()
    const error = await rejection(collect(adapter.streamSegmentMembers({ type: 'salesforce_campaign', id: CAMPAIGN }, { properties: ['MobilePhone FROM User --'] })))
    expect(error.code).toBe('VALIDATION_ERROR')
    expect(calls).toEqual([])
  })
})

describe('list view members', () => {
  const describeBody = {
    columns: [],
    id: LIST_VIEW,
    orderBy: [{ fieldNameOrPath: 'Name', nullsPosition: 'first', sortDirection: 'ascending' }],
    query: 'SELECT Name, Email, Phone, MobilePhone, Id, CreatedDate, LastModifiedDate, SystemModstamp FROM Contact WHERE WhatsApp_Opt_In__c = true ORDER BY Name ASC NULLS FIRST, Id ASC NULLS FIRST',
    relatedEntityId: null, scope: 'everything', scopeEntityId: null, sobjectType: 'Contact', whereCondition: { conditions: [], conjunction: 'and' },
  }
  const soql = 'SELECT Name, Email, Phone, MobilePhone, Id, CreatedDate, LastModifiedDate, SystemModstamp, FirstName FROM Contact WHERE WhatsApp_Opt_In__c = true ORDER BY Name ASC NULLS FIRST, Id ASC NULLS FIRST'
  const person = (n: number) => row('Contact', contact(n), { Name: `P ${n}`, Email: null, Phone: null, MobilePhone: `+4477009001${n}`, CreatedDate: STAMP, LastModifiedDate: STAMP, SystemModstamp: STAMP, FirstName: 'P' })

  it('runs the describe query with the missing fields added; the first page costs describe + query', async () => {
    const { adapter, calls } = makeAdapter()
    const scope = sf()
      .get(`${API}/sobjects/Contact/listviews/${LIST_VIEW}/describe`).reply(200, describeBody)
      .get(`${API}/query`).query({ q: soql }).reply(200, queryBody([person(1), person(2)], locator(2), 3))
      .get(locator(2)).reply(200, queryBody([person(3)], undefined, 3))
    const got = await collect(adapter.streamSegmentMembers({ type: 'salesforce_list_view', id: `Contact:${LIST_VIEW}` }, { properties: ['MobilePhone', 'FirstName'] }))
    scope.done()
    expect(got.map((p: MemberPage) => [p.records.length, p.nextCursor, p.calls])).toEqual([[2, locator(2), 2], [1, undefined, 1]])
    expect(got[0]?.records[0]).toEqual({ id: contact(1), objectType: 'contact', properties: { MobilePhone: '+44770090011', FirstName: 'P' }, updatedAt: '2025-03-01T10:00:00.000Z' })
    expect(calls.map((c) => c.endpoint)).toEqual(['listview.describe', 'query', 'queryMore'])
  })

  it('resumes from a cursor without describing again', async () => {
    const { adapter, calls } = makeAdapter()
    sf().get(locator(2)).reply(200, queryBody([person(3)], undefined, 3))
    const got = await collect(adapter.streamSegmentMembers({ type: 'salesforce_list_view', id: `Contact:${LIST_VIEW}` }, { properties: ['MobilePhone'], cursor: locator(2) }))
    expect(got[0]?.records).toEqual([{ id: contact(3), objectType: 'contact', properties: { MobilePhone: '+44770090013' }, updatedAt: '2025-03-01T10:00:00.000Z' }])
    expect(calls.map((c) => c.endpoint)).toEqual(['queryMore'])
  })

  it('withFields keeps the query and adds only absent fields, case-insensitively', () => {
    expect(withFields('SELECT Name, mobilephone FROM Lead USING SCOPE mine WHERE IsConverted = false', ['Id', 'MobilePhone'])).toBe(
      'SELECT Name, mobilephone, Id FROM Lead USING SCOPE mine WHERE IsConverted = false',
    )
    expect(withFields('SELECT Id FROM Contact', ['Id'])).toBe('SELECT Id FROM Contact')
  })
})

describe('report members', () => {
  const columns = ['CAMPAIGN_MEMBER_ID', 'CONTACT_ID', 'LEAD_ID', 'FIRST_NAME']
  const info = {
    CAMPAIGN_MEMBER_ID: { dataType: 'id', label: 'Campaign Member ID' },
    CONTACT_ID: { dataType: 'id', label: 'Contact ID' },
    LEAD_ID: { dataType: 'id', label: 'Lead ID' },
    FIRST_NAME: { dataType: 'string', label: 'First Name' },
  }
  const cell = (v: string | null) => (v === null ? { label: '-', value: null } : { label: v, value: v })
  const reportRow = (n: number, person: { contact?: number; lead?: number }) => ({
    dataCells: [cell(sfId('00v', n)), cell(person.contact ? contact(person.contact) : null), cell(person.lead ? lead(person.lead) : null), cell(`P${n}`)],
  })
  const run = (rows: unknown[], allData = true, detailColumns = columns) => ({
    attributes: { reportId: REPORT, reportName: 'Spring WA', type: 'Report' },
    allData,
    factMap: { 'T!T': { aggregates: [{ label: String(rows.length), value: rows.length }], rows } },
    groupingsAcross: { groupings: [] }, groupingsDown: { groupings: [] }, hasDetailRows: true,
    reportExtendedMetadata: { detailColumnInfo: info },
    reportMetadata: { id: REPORT, name: 'Spring WA', detailColumns, reportFormat: 'TABULAR', reportType: { type: 'CampaignLeadContact' } },
  })

  it('runs the report once, then reads its Contacts and Leads by id; one page, nothing to resume', async () => {
    const { adapter, calls } = makeAdapter()
    const scope = sf()
      .get(`${API}/analytics/reports/${REPORT}`).query({ includeDetails: 'true' })
      .reply(200, run([reportRow(1, { contact: 1 }), reportRow(2, { lead: 2 }), reportRow(3, { contact: 3 }), reportRow(4, { contact: 1 })]))
      .get(`${API}/query`).query({ q: `SELECT Id, SystemModstamp, MobilePhone FROM Contact WHERE Id IN ('${contact(1)}', '${contact(3)}')` })
      .reply(200, queryBody([row('Contact', contact(1), { SystemModstamp: STAMP, MobilePhone: '1' }), row('Contact', contact(3), { SystemModstamp: STAMP, MobilePhone: '3' })]))
      .get(`${API}/query`).query({ q: `SELECT Id, SystemModstamp, MobilePhone FROM Lead WHERE Id IN ('${lead(2)}')` })
      .reply(200, queryBody([row('Lead', lead(2), { SystemModstamp: STAMP, MobilePhone: '2' })]))
    const got = await collect(adapter.streamSegmentMembers({ type: 'salesforce_report', id: REPORT }, { properties: ['MobilePhone'] }))
    scope.done()
    expect(got).toHaveLength(1)
    expect(got[0]?.nextCursor).toBeUndefined()
    expect(got[0]?.calls).toBe(3)
    expect(got[0]?.records.map((r) => [r.id, r.objectType, r.properties.MobilePhone])).toEqual([[contact(1), 'contact', '1'], [contact(3), 'contact', '3'], [lead(2), 'lead', '2']])
    expect(calls.map((c) => c.endpoint)).toEqual(['report.run', 'query', 'query'])
  })

  it('a report past the 2,000-row cap is refused, not synced partially', async () => {
    const { adapter, calls } = makeAdapter()
    sf().get(`${API}/analytics/reports/${REPORT}`).query({ includeDetails: 'true' }).reply(200, run([reportRow(1, { contact: 1 })], false))
    const error = await rejection(collect(adapter.streamSegmentMembers({ type: 'salesforce_report', id: REPORT }, { properties: ['MobilePhone'] })))
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', platformCode: 'REPORT_ROW_LIMIT', retryable: false })
    expect(error.message).toContain('2,000')
    expect(calls).toHaveLength(1)
  })

  it('a report without a Contact ID or Lead ID column is refused', async () => {
    const { adapter } = makeAdapter()
    sf().get(`${API}/analytics/reports/${REPORT}`).query({ includeDetails: 'true' }).reply(200, run([{ dataCells: [cell('Ana')] }], true, ['FIRST_NAME']))
    const error = await rejection(collect(adapter.streamSegmentMembers({ type: 'salesforce_report', id: REPORT }, { properties: ['MobilePhone'] })))
    expect(error.message).toMatch(/no Contact ID or Lead ID column/)
  })

  it('has no cursor to resume from', async () => {
    const { adapter, calls } = makeAdapter()
    const error = await rejection(collect(adapter.streamSegmentMembers({ type: 'salesforce_report', id: REPORT }, { properties: ['MobilePhone'], cursor: locator(2) })))
    expect(error.code).toBe('VALIDATION_ERROR')
    expect(calls).toEqual([])
  })
})

describe('campaign changes since a time', () => {
  const since = new Date(Date.now() - 3 * 3600_000)
  const stamp = since.toISOString().replace(/\.\d{3}Z$/, 'Z')
  const changesSoql = `${campaignSoql} AND (SystemModstamp > ${stamp} OR Contact.SystemModstamp > ${stamp} OR Lead.SystemModstamp > ${stamp})`

  it('reads changed and added members in one query and removals from Get Deleted: two calls', async () => {
    const { adapter, calls } = makeAdapter()
    const covered = new Date(Date.now() - 60_000).toISOString().replace('Z', '+0000')
    const scope = sf()
      .get(`${API}/query`).query({ q: changesSoql }).reply(200, queryBody([member(1, { contact: 1 }, '+1 415 555 0101')], undefined, 1))
      .get(`${API}/sobjects/CampaignMember/deleted/`).query((q) => q.start === stamp && typeof q.end === 'string')
      .reply(200, { deletedRecords: [{ id: sfId('00v', 8), deletedDate: STAMP }], earliestDateAvailable: '2020-01-01T00:00:00.000+0000', latestDateCovered: covered })
    const changes = await adapter.readSegmentChanges({ type: 'salesforce_campaign', id: CAMPAIGN }, { properties: ['MobilePhone', 'FirstName'], since: since.toISOString() })
    scope.done()
    expect(calls.map((c) => c.endpoint)).toEqual(['query', 'sobject.deleted'])
    expect(changes).toMatchObject({ calls: 2, removedMemberKeys: [sfId('00v', 8)], upserted: [{ id: contact(1), memberKey: sfId('00v', 1) }] })
    expect(changes!.until).toBe(new Date(covered.replace('+0000', 'Z')).toISOString())
  })

  it('says it cannot where Salesforce cannot: other sources, a cursor past the delete log, a purged log', async () => {
    const { adapter, calls } = makeAdapter()
    expect(await adapter.readSegmentChanges({ type: 'salesforce_list_view', id: `Contact:${LIST_VIEW}` }, { properties: [], since: since.toISOString() })).toBeUndefined()
    expect(await adapter.readSegmentChanges({ type: 'salesforce_campaign', id: CAMPAIGN }, { properties: [], since: new Date(Date.now() - 20 * 24 * 3600_000).toISOString() })).toBeUndefined()
    expect(calls).toHaveLength(0)
    sf()
      .get(`${API}/query`).query(true).reply(200, queryBody([], undefined, 0))
      .get(`${API}/sobjects/CampaignMember/deleted/`).query(true)
      .reply(200, { deletedRecords: [], earliestDateAvailable: new Date().toISOString().replace('Z', '+0000'), latestDateCovered: new Date().toISOString().replace('Z', '+0000') })
    expect(await adapter.readSegmentChanges({ type: 'salesforce_campaign', id: CAMPAIGN }, { properties: ['MobilePhone'], since: since.toISOString() })).toBeUndefined()
  })
})
