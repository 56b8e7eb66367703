import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SimContext } from './context.ts'
import { SfError, notFound } from './errors.ts'
import { normalizeId } from './ids.ts'
import { rest } from './rest-guard.ts'
import type { FieldValue } from './schema.ts'
import { compileSoql, type ResolvedPath } from './soql.ts'
import type { Org, ReportDef } from './state.ts'

// Reports and Dashboards REST API, tabular reports only: a synchronous run returns at most 2,000
// detail rows in factMap["T!T"] (allData false when more matched); POSTed reportFilters narrow it.

export const REPORT_ROW_LIMIT = 2000

/** Report column names for standard fields; other fields use `<Object>.<Field>`, as custom fields do. */
const COLUMN_NAMES: Record<ReportDef['sobjectType'], Record<string, string>> = {
  Contact: {
    Id: 'CONTACT_ID', FirstName: 'FIRST_NAME', LastName: 'LAST_NAME', Name: 'CONTACT_NAME', Title: 'TITLE', Email: 'EMAIL', Phone: 'PHONE1',
    MobilePhone: 'PHONE3', HasOptedOutOfEmail: 'EMAIL_OPT_OUT', DoNotCall: 'DO_NOT_CALL', MailingCountry: 'MAILING_COUNTRY', CreatedDate: 'CREATED_DATE',
    LastModifiedDate: 'LAST_UPDATE',
  },
  Lead: {
    Id: 'LEAD_ID', FirstName: 'FIRST_NAME', LastName: 'LAST_NAME', Name: 'LEAD_NAME', Title: 'TITLE', Email: 'EMAIL', Phone: 'PHONE', MobilePhone: 'MOBILE_PHONE',
    Company: 'COMPANY', Country: 'COUNTRY', Status: 'STATUS', HasOptedOutOfEmail: 'EMAIL_OPT_OUT', DoNotCall: 'DO_NOT_CALL', CreatedDate: 'CREATED_DATE',
    LastModifiedDate: 'LAST_UPDATE',
  },
  CampaignMember: {
    Id: 'CAMPAIGN_MEMBER_ID', CampaignId: 'CAMPAIGN_ID', 'Campaign.Name': 'CAMPAIGN_NAME', ContactId: 'CONTACT_ID', LeadId: 'LEAD_ID', Status: 'MEMBER_STATUS',
    FirstName: 'FIRST_NAME', LastName: 'LAST_NAME', Email: 'EMAIL', Phone: 'PHONE', MobilePhone: 'MOBILE_PHONE',
  },
}

const REPORT_TYPES: Record<ReportDef['sobjectType'], { type: string; label: string }> = {
  Contact: { type: 'ContactList', label: 'Contacts & Accounts' },
  Lead: { type: 'LeadList', label: 'Leads' },
  CampaignMember: { type: 'CampaignLeadContact', label: 'Campaigns with Contacts and Leads' },
}

const pathName = (p: ResolvedPath) => (p.relationship ? `${p.relationship.name}.${p.field.name}` : p.field.name)

function columnName(report: ReportDef, p: ResolvedPath): string {
  const name = pathName(p)
  return COLUMN_NAMES[report.sobjectType][name] ?? `${report.sobjectType}.${name}`
}

interface ReportFilter {
  column: string
  operator: string
  value: string
}

const OPERATORS: Record<string, string> = { equals: '=', notEqual: '!=', lessThan: '<', greaterThan: '>', lessOrEqual: '<=', greaterOrEqual: '>=' }

const escapeString = (v: string) => v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")
const escapeLike = (v: string) => escapeString(v).replace(/[%_]/g, '\\$&')

function soqlLiteral(p: ResolvedPath, value: string): string {
  switch (p.field.type) {
    case 'boolean': return value === 'true' || value === '1' ? 'true' : 'false'
    case 'int': return String(Number(value))
    case 'date': return value.slice(0, 10)
    case 'datetime': return new Date(value.length === 10 ? `${value}T00:00:00Z` : value).toISOString().replace(/\.\d{3}Z$/, 'Z')
    default: return `'${escapeString(value)}'`
  }
}

/** A report filter as a SOQL condition, so the query engine does the filtering. */
function filterCondition(report: ReportDef, byColumn: Map<string, ResolvedPath>, f: ReportFilter): string {
  const p = byColumn.get(f.column)
  if (!p) throw new SfError(400, 'BAD_REQUEST', `The column ${f.column} is not valid for this report.`)
  const field = pathName(p)
  switch (f.operator) {
    case 'contains': return `${field} LIKE '%${escapeLike(f.value)}%'`
    case 'notContain': return `NOT ${field} LIKE '%${escapeLike(f.value)}%'`
    case 'startsWith': return `${field} LIKE '${escapeLike(f.value)}%'`
    default: {
      const op = OPERATORS[f.operator]
      if (!op) throw new SfError(400, 'BAD_REQUEST', `The operator ${f.operator} is not supported.`)
      const values = f.value.split(',')
      if (op === '=' && values.length > 1) return `${field} IN (${values.map((v) => soqlLiteral(p, v.trim())).join(', ')})`
      return `${field} ${op} ${soqlLiteral(p, f.value)}`
    }
  }
}

function cell(p: ResolvedPath, v: FieldValue): { label: string; value: unknown } {
  if (v === null) return { label: '-', value: null }
  if (p.field.type === 'datetime' && typeof v === 'number') {
    const iso = new Date(v).toISOString()
    return { label: iso, value: iso }
  }
  return { label: String(v), value: v }
}

function metadata(report: ReportDef, columns: { name: string; path: ResolvedPath }[], filters: ReportFilter[]) {
  return {
    aggregates: ['RowCount'], buckets: [], chart: null, crossFilters: [], currency: null, customDetailFormula: {}, customSummaryFormula: {},
    dashboardSetting: null, description: null, detailColumns: columns.map((c) => c.name), developerName: report.developerName, division: null,
    folderId: '00l000000000000AAA', groupingsAcross: [], groupingsDown: [], hasDetailRows: true, hasRecordCount: true, historicalSnapshotDates: [],
    id: report.id, name: report.name, presentationOptions: { hasStackedSummaries: true }, reportBooleanFilter: null,
    reportFilters: filters.map((f) => ({ column: f.column, filterType: 'fieldValue', isRunPageEditable: true, operator: f.operator, value: f.value })),
    reportFormat: 'TABULAR', reportType: REPORT_TYPES[report.sobjectType], scope: 'organization', showGrandTotal: true, showSubtotals: true,
    sortBy: [], standardDateFilter: { column: 'CREATED_DATE', durationValue: 'CUSTOM', endDate: null, startDate: null }, standardFilters: [],
    supportsRoleHierarchy: false, userOrHierarchyFilterId: null,
  }
}

function extendedMetadata(columns: { name: string; path: ResolvedPath }[]) {
  return {
    aggregateColumnInfo: { RowCount: { acrossGroupingContext: null, dataType: 'int', downGroupingContext: null, label: 'Record Count' } },
    detailColumnInfo: Object.fromEntries(columns.map(({ name, path }) => [name, {
      dataType: path.field.type === 'reference' ? 'id' : path.field.type,
      entityColumnName: pathName(path),
      filterValues: (path.field.picklist ?? []).map((v) => ({ label: v, name: v })),
      filterable: path.field.filterable,
      isLookup: path.field.type === 'reference',
      label: path.field.label,
      uniqueCountable: false,
    }])),
    groupingColumnInfo: {},
  }
}

export function registerReportRoutes(app: FastifyInstance, ctx: SimContext): void {
  const find = (org: Org, request: FastifyRequest): ReportDef => {
    const report = org.reports.get(normalizeId((request.params as { id: string }).id) ?? '')
    if (!report) throw notFound()
    return report
  }
  const attributes = (report: ReportDef, version: string) => {
    const url = `/services/data/${version}/analytics/reports/${report.id}`
    return { describeUrl: `${url}/describe`, instancesUrl: `${url}/instances`, reportId: report.id, reportName: report.name, type: 'Report' }
  }
  const compileReport = (org: Org, report: ReportDef, filters: ReportFilter[]) => {
    const base = compileSoql(org, `SELECT ${report.columns.join(', ')} FROM ${report.sobjectType}`, ctx.clock.now())
    const columns = base.selected.map((path) => ({ name: columnName(report, path), path }))
    const byColumn = new Map(columns.map((c) => [c.name, c.path]))
    const conditions = [...(report.where ? [`(${report.where})`] : []), ...filters.map((f) => `(${filterCondition(report, byColumn, f)})`)]
    const soql = `SELECT ${report.columns.join(', ')} FROM ${report.sobjectType}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY Id`
    return { columns, rows: compileSoql(org, soql, ctx.clock.now()).run() }
  }

  app.get('/analytics/reports', { config: { endpoint: 'reports.list' } }, (request) => {
    const { org, version } = rest(request)
    return [...org.reports.values()].map((r) => {
      const a = attributes(r, version)
      return { describeUrl: a.describeUrl, id: r.id, instancesUrl: a.instancesUrl, name: r.name, type: 'Report', url: `/services/data/${version}/analytics/reports/${r.id}` }
    })
  })

  app.get('/analytics/reports/:id/describe', { config: { endpoint: 'report.describe' } }, (request) => {
    const { org, version } = rest(request)
    const report = find(org, request)
    const { columns } = compileReport(org, report, [])
    const ext = extendedMetadata(columns)
    return {
      attributes: attributes(report, version),
      reportExtendedMetadata: ext,
      reportMetadata: metadata(report, columns, []),
      reportTypeMetadata: {
        categories: [{ label: REPORT_TYPES[report.sobjectType].label, columns: ext.detailColumnInfo }],
        dataTypeFilterOperatorMap: {},
        dateGranularityInfos: [],
        divisionInfo: null,
        scopeInfo: { defaultValue: 'organization', values: [{ allowsDivision: false, label: 'All', value: 'organization' }] },
        standardDateFilterDurationGroups: [],
        standardFilterInfos: null,
        supportsJoinedFormat: true,
      },
    }
  })

  const run = (request: FastifyRequest) => {
    const { org, version } = rest(request)
    const report = find(org, request)
    const body = request.body as { reportMetadata?: { reportFilters?: ReportFilter[] } } | undefined
    const filters = body?.reportMetadata?.reportFilters ?? []
    const includeDetails = (request.query as { includeDetails?: string }).includeDetails === 'true'
    const { columns, rows } = compileReport(org, report, filters)
    const detail = rows.slice(0, REPORT_ROW_LIMIT).map((r) => ({ dataCells: columns.map(({ path }) => cell(path, path.get(r))) }))
    return {
      attributes: attributes(report, version),
      allData: rows.length <= REPORT_ROW_LIMIT,
      factMap: {
        'T!T': {
          aggregates: [{ label: rows.length.toLocaleString('en-US'), value: rows.length }],
          ...(includeDetails ? { rows: detail } : {}),
        },
      },
      groupingsAcross: { groupings: [] },
      groupingsDown: { groupings: [] },
      hasDetailRows: includeDetails,
      picklistColors: {},
      reportExtendedMetadata: extendedMetadata(columns),
      reportMetadata: metadata(report, columns, filters),
    }
  }
  app.get('/analytics/reports/:id', { config: { endpoint: 'report.run' } }, (request) => run(request))
  app.post('/analytics/reports/:id', { config: { endpoint: 'report.run' } }, (request) => run(request))
}
