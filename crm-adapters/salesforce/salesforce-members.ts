import type { CrmRecord, MemberPage, SegmentChanges, SegmentSourceRef, StreamOptions } from '../crm-adapter.ts'
import { validationError } from './salesforce-errors.ts'
import { query, queryAll, queryMore, type QueryPage, type SoqlRow } from './salesforce-query.ts'
import { readPeople, toCrmRecord } from './salesforce-records.ts'
import type { SalesforceRest } from './salesforce-rest.ts'
import { isoFromSalesforce, personTypeOfId, requireId, soqlDateTime, soqlString, uniqueFields, type PersonType } from './salesforce-soql.ts'
import { parseListViewSourceId } from './salesforce-sources.ts'

// A segment's members page by page. Campaigns and list views are SOQL queries whose pages follow
// nextRecordsUrl, and that URL is the cursor: resuming asks Salesforce for the batch after it,
// which works while the query locator lives (about 15 minutes unused; an expired one is a
// VALIDATION_ERROR with platformCode INVALID_QUERY_LOCATOR: read the source again from the start).
// Reports are read whole, so they have no cursor. A page's `calls` counts the API requests it
// took; retries after a 401 or a 5xx are not in it (the observer's onCall sees every HTTP call).

/**
 * The Reports API returns at most 2,000 detail rows and says `allData: false` when there were more
 * (https://developer.salesforce.com/docs/atlas.en-us.api_analytics.meta/api_analytics/sforce_analytics_rest_api_limits_limitations.htm).
 */
const REPORT_ROW_CAP = 2000

interface ListViewDescribe {
  query: string
}

interface ReportRun {
  allData: boolean
  factMap: Record<string, { rows?: Array<{ dataCells: Array<{ value: unknown }> }> }>
  reportMetadata: { name: string; detailColumns: string[] }
  reportExtendedMetadata: { detailColumnInfo: Record<string, { dataType?: string }> }
}

type ToRecords = (rows: SoqlRow[]) => CrmRecord[]

async function* soqlPages(rest: SalesforceRest, first: () => Promise<QueryPage>, firstCalls: number, toRecords: ToRecords): AsyncGenerator<MemberPage> {
  let page = await first()
  let calls = firstCalls
  for (;;) {
    const nextCursor = !page.done && page.nextRecordsUrl ? page.nextRecordsUrl : undefined
    yield { records: toRecords(page.records), nextCursor, calls }
    if (!nextCursor) return
    page = await queryMore(rest, nextCursor, 'background')
    calls = 1
  }
}

/**
 * A CampaignMember is a Contact or a Lead (a converted lead's member has both; it is the Contact
 * now). Its own Id is the member key: Salesforce reports removals by it.
 */
function campaignRecords(properties: string[]): ToRecords {
  return (rows) => rows.flatMap((row) => {
    for (const type of ['Contact', 'Lead'] as const) {
      const id = row[`${type}Id`]
      if (typeof id === 'string') return [{ ...toCrmRecord(id, type, (row[type] ?? {}) as Record<string, unknown>, properties), memberKey: String(row.Id) }]
    }
    return []
  })
}

function listViewRecords(properties: string[]): ToRecords {
  return (rows) => rows.flatMap((row) => {
    const id = String(row.Id)
    const type = personTypeOfId(id)
    return type ? [toCrmRecord(id, type, row, properties)] : []
  })
}

function campaignSoql(campaignId: string, properties: string[]): string {
  const fields = uniqueFields(['SystemModstamp', ...properties])
  const related = fields.flatMap((f) => [`Contact.${f}`, `Lead.${f}`])
  return `SELECT Id, ContactId, LeadId, ${related.join(', ')} FROM CampaignMember WHERE CampaignId = ${soqlString(campaignId)}`
}

/** The list view's own SOQL with `fields` appended to its select list where missing. */
export function withFields(soql: string, fields: string[]): string {
  const match = /^(\s*SELECT\s+)([\s\S]+?)(\s+FROM\s[\s\S]*)$/i.exec(soql)
  if (!match) throw validationError('The list view describe returned a query this connector does not understand')
  const [, head, list, rest] = match as unknown as [string, string, string, string]
  const present = new Set(list.split(',').map((f) => f.trim().toLowerCase()))
  const missing = fields.filter((f) => !present.has(f.toLowerCase()))
  return missing.length === 0 ? soql : `${head}${list}, ${missing.join(', ')}${rest}`
}

async function* listViewMembers(rest: SalesforceRest, sourceId: string, properties: string[]): AsyncGenerator<MemberPage> {
  const { type, listViewId } = parseListViewSourceId(sourceId)
  const describe = await rest.request<ListViewDescribe>({
    endpoint: 'listview.describe', path: `/sobjects/${type}/listviews/${listViewId}/describe`, priority: 'background',
  })
  const soql = withFields(describe.query, uniqueFields(['Id', 'SystemModstamp', ...properties]))
  yield* soqlPages(rest, () => query(rest, soql, 'background'), 2, listViewRecords(properties))
}

/** Contact and Lead ids in a report's rows, from its id-typed columns (Contact ID, Lead ID, …). */
function reportPeople(run: ReportRun): Map<string, PersonType> {
  const columns = run.reportMetadata.detailColumns
    .map((name, index) => ({ index, dataType: run.reportExtendedMetadata.detailColumnInfo[name]?.dataType }))
    .filter((c) => c.dataType === 'id')
  const people = new Map<string, PersonType>()
  // Tabular reports keep rows under "T!T"; summary and matrix reports under their grouping keys.
  for (const fact of Object.values(run.factMap)) {
    for (const row of fact.rows ?? []) {
      for (const { index } of columns) {
        const value = row.dataCells[index]?.value
        const type = typeof value === 'string' ? personTypeOfId(value) : undefined
        if (type) {
          people.set(value as string, type)
          break
        }
      }
    }
  }
  return people
}

/**
 * A report is run once with its detail rows; the people's properties are then read by id, so
 * they come back the same way as from the other sources whatever columns the report shows.
 */
async function* reportMembers(rest: SalesforceRest, reportId: string, properties: string[]): AsyncGenerator<MemberPage> {
  const id = requireId(reportId, 'Report id')
  const run = await rest.request<ReportRun>({ endpoint: 'report.run', path: `/analytics/reports/${id}?includeDetails=true`, priority: 'background' })
  if (!run.allData) {
    throw validationError(
      `Report "${run.reportMetadata.name}" has more than ${REPORT_ROW_CAP.toLocaleString('en-US')} rows and the Salesforce Reports API returns only the first ${REPORT_ROW_CAP.toLocaleString('en-US')}: ` +
        'narrow it with filters, or use a list view or a campaign, rather than sync a partial list',
      'REPORT_ROW_LIMIT',
    )
  }
  const people = reportPeople(run)
  const hasRows = Object.values(run.factMap).some((f) => (f.rows?.length ?? 0) > 0)
  if (people.size === 0 && hasRows) {
    throw validationError(`Report "${run.reportMetadata.name}" has no Contact ID or Lead ID column: add one so its rows can be matched to people`)
  }
  let calls = 1
  const records: CrmRecord[] = []
  for (const type of ['Contact', 'Lead'] as const) {
    const ids = [...people].filter(([, t]) => t === type).map(([personId]) => personId)
    if (ids.length === 0) continue
    const read = await readPeople(rest, type, ids, properties, 'background')
    records.push(...read.records)
    calls += read.calls
  }
  yield { records, nextCursor: undefined, calls }
}

export async function* streamMembers(rest: SalesforceRest, ref: SegmentSourceRef, options: StreamOptions): AsyncGenerator<MemberPage> {
  const properties = uniqueFields(options.properties)
  const cursor = options.cursor
  switch (ref.type) {
    case 'salesforce_campaign': {
      const soql = campaignSoql(requireId(ref.id, 'Campaign id'), properties)
      const first = cursor ? () => queryMore(rest, cursor, 'background') : () => query(rest, soql, 'background')
      return yield* soqlPages(rest, first, 1, campaignRecords(properties))
    }
    case 'salesforce_list_view':
      if (cursor) return yield* soqlPages(rest, () => queryMore(rest, cursor, 'background'), 1, listViewRecords(properties))
      return yield* listViewMembers(rest, ref.id, properties)
    case 'salesforce_report':
      if (cursor) throw validationError('Report sources are read whole and have no cursor to resume from')
      return yield* reportMembers(rest, ref.id, properties)
    default:
      throw validationError(`${ref.type} is not a Salesforce segment source`)
  }
}

/**
 * Get Deleted returns deletions of the last 15 days at most, and its log can be purged sooner
 * (https://developer.salesforce.com/docs/platform/api-rest/guide/resources-getdeleted.md); an
 * older cursor, or a log purged after it (earliestDateAvailable), means a full read.
 */
const DELETED_WINDOW_MS = 14 * 24 * 3600_000

interface DeletedResult {
  deletedRecords: Array<{ id: string }>
  earliestDateAvailable?: string
  latestDateCovered: string
}

/**
 * A campaign's changes since `since`: members added, members whose Contact or Lead changed (one
 * SOQL query over CampaignMember with the relationship timestamps), and members removed (Get
 * Deleted on CampaignMember). Two calls where the full read costs one per 2,000 members.
 */
export async function campaignChanges(rest: SalesforceRest, ref: SegmentSourceRef, options: { properties: string[]; since: string }): Promise<SegmentChanges | undefined> {
  if (ref.type !== 'salesforce_campaign') return undefined
  const since = new Date(options.since)
  if (!Number.isFinite(since.getTime()) || Date.now() - since.getTime() > DELETED_WINDOW_MS) return undefined
  const properties = uniqueFields(options.properties)
  const stamp = soqlDateTime(since)
  const soql = `${campaignSoql(requireId(ref.id, 'Campaign id'), properties)} AND (SystemModstamp > ${stamp} OR Contact.SystemModstamp > ${stamp} OR Lead.SystemModstamp > ${stamp})`
  const changed = await queryAll(rest, soql, 'background')
  // Get Deleted works in whole minutes and says up to when it looked; that time is the next `since`.
  const deleted = await rest.request<DeletedResult>({
    endpoint: 'sobject.deleted',
    path: `/sobjects/CampaignMember/deleted/?start=${encodeURIComponent(stamp)}&end=${encodeURIComponent(soqlDateTime(new Date()))}`,
    priority: 'background',
  })
  if (deleted.earliestDateAvailable && new Date(isoFromSalesforce(deleted.earliestDateAvailable)) > since) return undefined
  const until = deleted.latestDateCovered ? isoFromSalesforce(deleted.latestDateCovered) : since.toISOString()
  return {
    upserted: campaignRecords(properties)(changed.records),
    removedMemberKeys: deleted.deletedRecords.map((d) => d.id),
    until: until < since.toISOString() ? since.toISOString() : until,
    calls: changed.calls + 1,
  }
}
