import nock from 'nock'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { API, makeAdapter, queryBody, row, sf, sfId, rejection } from './helpers.ts'

const C1 = sfId('701', 1)
const C2 = sfId('701', 2)
const LV_CONTACT = sfId('00B', 1)
const LV_KANBAN = sfId('00B', 2)
const LV_LEAD = sfId('00B', 3)
const REPORT = sfId('00O', 1)

beforeAll(() => nock.disableNetConnect())
afterEach(() => nock.cleanAll())
afterAll(() => nock.enableNetConnect())

const listViews = (type: string, views: Array<{ id: string; label: string; soqlCompatible?: boolean }>) => ({
  done: true, nextRecordsUrl: null, size: views.length, sobjectType: type,
  listviews: views.map((v) => ({
    describeUrl: `${API}/sobjects/${type}/listviews/${v.id}/describe`, developerName: v.label.replace(/\W+/g, '_'), id: v.id, label: v.label,
    resultsUrl: `${API}/sobjects/${type}/listviews/${v.id}/results`, soqlCompatible: v.soqlCompatible ?? true, url: `${API}/sobjects/${type}/listviews/${v.id}`,
  })),
})
const reportList = [{ describeUrl: `${API}/analytics/reports/${REPORT}/describe`, id: REPORT, instancesUrl: `${API}/analytics/reports/${REPORT}/instances`, name: 'Spring WhatsApp', type: 'Report', url: `${API}/analytics/reports/${REPORT}` }]
const campaignSoql = (where = '') => `SELECT Id, Name, NumberOfContacts, NumberOfLeads FROM Campaign${where} ORDER BY Name LIMIT 200`

describe('listSegmentSources', () => {
  it('lists campaigns, Contact and Lead list views (SOQL-compatible ones) and reports', async () => {
    const { adapter, calls } = makeAdapter()
    const scope = sf()
      .get(`${API}/query`).query({ q: campaignSoql() }).reply(200, queryBody([
        row('Campaign', C1, { Name: 'Spring Promo', NumberOfContacts: 1500, NumberOfLeads: 500 }),
        row('Campaign', C2, { Name: 'Webinar', NumberOfContacts: null, NumberOfLeads: null }),
      ]))
      .get(`${API}/sobjects/Contact/listviews`).reply(200, listViews('Contact', [{ id: LV_CONTACT, label: 'Opted in' }, { id: LV_KANBAN, label: 'Recently Viewed', soqlCompatible: false }]))
      .get(`${API}/sobjects/Lead/listviews`).reply(200, listViews('Lead', [{ id: LV_LEAD, label: 'All Open Leads' }]))
      .get(`${API}/analytics/reports`).reply(200, reportList)
    const sources = await adapter.listSegmentSources()
    scope.done()
    expect(sources).toEqual([
      { type: 'salesforce_campaign', id: C1, name: 'Spring Promo', size: 2000 },
      { type: 'salesforce_campaign', id: C2, name: 'Webinar' },
      { type: 'salesforce_list_view', id: `Contact:${LV_CONTACT}`, name: 'Opted in', objectType: 'Contact' },
      { type: 'salesforce_list_view', id: `Lead:${LV_LEAD}`, name: 'All Open Leads', objectType: 'Lead' },
      { type: 'salesforce_report', id: REPORT, name: 'Spring WhatsApp' },
    ])
    expect(calls).toHaveLength(4)
  })

  it('narrows by the search text: a LIKE with wildcards and quotes escaped, and names filtered', async () => {
    const { adapter } = makeAdapter()
    sf()
      .get(`${API}/query`).query({ q: campaignSoql(" WHERE Name LIKE '%50\\% O\\'Neil%'") }).reply(200, queryBody([]))
      .get(`${API}/sobjects/Contact/listviews`).reply(200, listViews('Contact', [{ id: LV_CONTACT, label: "50% O'Neil list" }]))
      .get(`${API}/sobjects/Lead/listviews`).reply(200, listViews('Lead', [{ id: LV_LEAD, label: 'All Open Leads' }]))
      .get(`${API}/analytics/reports`).reply(200, reportList)
    expect((await adapter.listSegmentSources("  50% O'Neil ")).map((s) => s.id)).toEqual([`Contact:${LV_CONTACT}`])
  })

  it('users without report access still get campaigns and list views', async () => {
    const { adapter } = makeAdapter()
    sf()
      .get(`${API}/query`).query({ q: campaignSoql() }).reply(200, queryBody([]))
      .get(`${API}/sobjects/Contact/listviews`).reply(200, listViews('Contact', [{ id: LV_CONTACT, label: 'Opted in' }]))
      .get(`${API}/sobjects/Lead/listviews`).reply(200, listViews('Lead', []))
      .get(`${API}/analytics/reports`).reply(403, [{ message: "You don't have sufficient privileges to perform this operation.", errorCode: 'INSUFFICIENT_ACCESS' }])
    expect(await adapter.listSegmentSources()).toEqual([{ type: 'salesforce_list_view', id: `Contact:${LV_CONTACT}`, name: 'Opted in', objectType: 'Contact' }])
  })

  it('a limit error on reports is not swallowed', async () => {
    const { adapter } = makeAdapter({ retry: { retries: 0 } })
    sf()
      .get(`${API}/query`).query({ q: campaignSoql() }).reply(200, queryBody([]))
      .get(`${API}/sobjects/Contact/listviews`).reply(200, listViews('Contact', []))
      .get(`${API}/sobjects/Lead/listviews`).reply(200, listViews('Lead', []))
      .get(`${API}/analytics/reports`).reply(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }])
    expect((await rejection(adapter.listSegmentSources())).code).toBe('REQUEST_LIMIT_EXCEEDED')
  })
})

describe('getSegmentSource', () => {
  it('campaign: its name and member count; NOT_FOUND once deleted', async () => {
    const { adapter } = makeAdapter()
    const q = { q: `SELECT Id, Name, NumberOfContacts, NumberOfLeads FROM Campaign WHERE Id = '${C1}'` }
    sf()
      .get(`${API}/query`).query(q).reply(200, queryBody([row('Campaign', C1, { Name: 'Spring Promo', NumberOfContacts: 3, NumberOfLeads: 0 })]))
      .get(`${API}/query`).query(q).reply(200, queryBody([]))
    expect(await adapter.getSegmentSource({ type: 'salesforce_campaign', id: C1 })).toEqual({ type: 'salesforce_campaign', id: C1, name: 'Spring Promo', size: 3 })
    const error = await rejection(adapter.getSegmentSource({ type: 'salesforce_campaign', id: C1 }))
    expect(error.code).toBe('NOT_FOUND')
  })

  it('list view: found under its object; a 404 is NOT_FOUND', async () => {
    const { adapter } = makeAdapter()
    sf()
      .get(`${API}/sobjects/Lead/listviews/${LV_LEAD}`).reply(200, listViews('Lead', [{ id: LV_LEAD, label: 'All Open Leads' }]).listviews[0])
      .get(`${API}/sobjects/Contact/listviews/${LV_CONTACT}`).reply(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }])
    expect(await adapter.getSegmentSource({ type: 'salesforce_list_view', id: `Lead:${LV_LEAD}` })).toEqual({ type: 'salesforce_list_view', id: `Lead:${LV_LEAD}`, name: 'All Open Leads', objectType: 'Lead' })
    const error = await rejection(adapter.getSegmentSource({ type: 'salesforce_list_view', id: `Contact:${LV_CONTACT}` }))
    expect(error).toMatchObject({ code: 'NOT_FOUND', retryable: false })
  })

  it('report: name and row object from the describe; a 404 is NOT_FOUND', async () => {
    const { adapter } = makeAdapter()
    sf()
      .get(`${API}/analytics/reports/${REPORT}/describe`).reply(200, { reportMetadata: { id: REPORT, name: 'Spring WhatsApp', reportType: { type: 'ContactList', label: 'Contacts & Accounts' }, detailColumns: [] } })
      .get(`${API}/analytics/reports/${REPORT}/describe`).reply(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }])
    expect(await adapter.getSegmentSource({ type: 'salesforce_report', id: REPORT })).toEqual({ type: 'salesforce_report', id: REPORT, name: 'Spring WhatsApp', objectType: 'Contact' })
    expect((await rejection(adapter.getSegmentSource({ type: 'salesforce_report', id: REPORT }))).code).toBe('NOT_FOUND')
  })

  it('refuses malformed ids and other CRMs\u2019 sources without a call', async () => {
    const { adapter, calls } = makeAdapter()
    expect((await rejection(adapter.getSegmentSource({ type: 'salesforce_campaign', id: "x' OR Name != '" }))).code).toBe('VALIDATION_ERROR')
    expect((await rejection(adapter.getSegmentSource({ type: 'salesforce_list_view', id: LV_CONTACT }))).code).toBe('VALIDATION_ERROR')
    expect((await rejection(adapter.getSegmentSource({ type: 'hubspot_list', id: '12' }))).code).toBe('VALIDATION_ERROR')
    expect(calls).toEqual([])
  })
})
