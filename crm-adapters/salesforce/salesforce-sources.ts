import { CrmError, type SegmentSource, type SegmentSourceRef } from '../crm-adapter.ts'
import { validationError } from './salesforce-errors.ts'
import { query, type QueryPage } from './salesforce-query.ts'
import type { SalesforceRest } from './salesforce-rest.ts'
import { requireId, soqlContains, soqlString, type PersonType } from './salesforce-soql.ts'

// The segments a user can pick: campaigns (SOQL), Contact and Lead list views (listviews
// resource) and reports (Analytics API). A list view id does not say which object it lists, and
// its resources live under that object, so a list-view source id is `<Contact|Lead>:<listViewId>`.

/** A picker, not an export: at most this many campaigns, narrowed by the search text. */
const CAMPAIGN_LIMIT = 200
const PERSON_TYPES: PersonType[] = ['Contact', 'Lead']

interface CampaignRow {
  Id: string
  Name: string
  NumberOfContacts: number | null
  NumberOfLeads: number | null
}

interface ListViewSummary {
  id: string
  label: string
  soqlCompatible?: boolean
}

interface ListViewsPage {
  listviews: ListViewSummary[]
  done?: boolean
  nextRecordsUrl?: string | null
}

interface ReportSummary {
  id: string
  name: string
}

interface ReportDescribe {
  reportMetadata: { id: string; name: string; reportType?: { type?: string } }
}

/** Standard report types whose rows are one person object; custom report types say nothing we can rely on. */
const REPORT_TYPE_OBJECT = new Map<string, PersonType>([['ContactList', 'Contact'], ['LeadList', 'Lead']])

function listViewSourceId(type: PersonType, listViewId: string): string {
  return `${type}:${listViewId}`
}

export function parseListViewSourceId(id: string): { type: PersonType; listViewId: string } {
  const match = /^(Contact|Lead):(.+)$/.exec(id)
  if (!match) throw validationError(`List view source id "${id.slice(0, 60)}" is not <Contact|Lead>:<listViewId>`)
  return { type: match[1] as PersonType, listViewId: requireId(match[2] as string, 'List view id') }
}

const CAMPAIGN_FIELDS = 'Id, Name, NumberOfContacts, NumberOfLeads'

function campaignSource(row: CampaignRow): SegmentSource {
  const counted = row.NumberOfContacts !== null || row.NumberOfLeads !== null
  return {
    type: 'salesforce_campaign', id: row.Id, name: row.Name,
    ...(counted ? { size: (row.NumberOfContacts ?? 0) + (row.NumberOfLeads ?? 0) } : {}),
  }
}

function matches(name: string, search: string | undefined): boolean {
  return !search || name.toLowerCase().includes(search.toLowerCase())
}

async function campaigns(rest: SalesforceRest, search: string | undefined): Promise<SegmentSource[]> {
  const where = search ? ` WHERE Name LIKE ${soqlContains(search)}` : ''
  const page = await query<CampaignRow>(rest, `SELECT ${CAMPAIGN_FIELDS} FROM Campaign${where} ORDER BY Name LIMIT ${CAMPAIGN_LIMIT}`, 'interactive')
  return page.records.map(campaignSource)
}

async function listViews(rest: SalesforceRest, type: PersonType, search: string | undefined): Promise<SegmentSource[]> {
  const out: SegmentSource[] = []
  let path: string | undefined = `/sobjects/${type}/listviews`
  while (path) {
    const page: ListViewsPage = await rest.request<ListViewsPage>({ endpoint: 'listviews.list', path, priority: 'interactive' })
    // Views that are not SOQL-compatible have no describe query, so their members cannot be read.
    for (const lv of page.listviews) {
      if (lv.soqlCompatible !== false && matches(lv.label, search)) {
        out.push({ type: 'salesforce_list_view', id: listViewSourceId(type, lv.id), name: lv.label, objectType: type })
      }
    }
    path = page.done === false && page.nextRecordsUrl ? page.nextRecordsUrl : undefined
  }
  return out
}

/**
 * `GET /analytics/reports` lists the reports the user viewed recently, up to 200
 * (https://developer.salesforce.com/docs/atlas.en-us.api_analytics.meta/api_analytics/sforce_analytics_rest_api_resource_reference.htm).
 * Users and orgs without report access get no reports rather than an error.
 */
async function reports(rest: SalesforceRest, search: string | undefined): Promise<SegmentSource[]> {
  try {
    const list = await rest.request<ReportSummary[]>({ endpoint: 'reports.list', path: '/analytics/reports', priority: 'interactive' })
    return list.filter((r) => matches(r.name, search)).map((r) => ({ type: 'salesforce_report' as const, id: r.id, name: r.name }))
  } catch (error) {
    if (error instanceof CrmError && (error.code === 'MISSING_SCOPES' || error.code === 'NOT_FOUND')) return []
    throw error
  }
}

export async function listSources(rest: SalesforceRest, search: string | undefined): Promise<SegmentSource[]> {
  const text = search?.trim() || undefined
  const parts = await Promise.all([campaigns(rest, text), ...PERSON_TYPES.map((t) => listViews(rest, t, text)), reports(rest, text)])
  return parts.flat()
}

function notFound(ref: SegmentSourceRef): CrmError {
  return new CrmError({ crm: 'salesforce', code: 'NOT_FOUND', message: `Salesforce ${ref.type.replace('salesforce_', '').replace('_', ' ')} ${ref.id} no longer exists` })
}

export async function getSource(rest: SalesforceRest, ref: SegmentSourceRef): Promise<SegmentSource> {
  try {
    switch (ref.type) {
      case 'salesforce_campaign': {
        const id = requireId(ref.id, 'Campaign id')
        const page: QueryPage<CampaignRow> = await query<CampaignRow>(rest, `SELECT ${CAMPAIGN_FIELDS} FROM Campaign WHERE Id = ${soqlString(id)}`, 'interactive')
        const row = page.records[0]
        if (!row) throw notFound(ref)
        return campaignSource(row)
      }
      case 'salesforce_list_view': {
        const { type, listViewId } = parseListViewSourceId(ref.id)
        const lv = await rest.request<ListViewSummary>({ endpoint: 'listview.get', path: `/sobjects/${type}/listviews/${listViewId}`, priority: 'interactive' })
        return { type: 'salesforce_list_view', id: ref.id, name: lv.label, objectType: type }
      }
      case 'salesforce_report': {
        const id = requireId(ref.id, 'Report id')
        const { reportMetadata } = await rest.request<ReportDescribe>({ endpoint: 'report.describe', path: `/analytics/reports/${id}/describe`, priority: 'interactive' })
        const objectType = REPORT_TYPE_OBJECT.get(reportMetadata.reportType?.type ?? '')
        return { type: 'salesforce_report', id, name: reportMetadata.name, ...(objectType ? { objectType } : {}) }
      }
      default:
        throw validationError(`${ref.type} is not a Salesforce segment source`)
    }
  } catch (error) {
    if (error instanceof CrmError && error.code === 'NOT_FOUND' && error.httpStatus === 404) throw notFound(ref)
    throw error
  }
}
