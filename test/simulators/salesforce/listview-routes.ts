import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SimContext } from './context.ts'
import { notFound } from './errors.ts'
import { normalizeId } from './ids.ts'
import { formatDateTime } from './render.ts'
import { rest } from './rest-guard.ts'
import { canonicalSObject, type FieldValue } from './schema.ts'
import { compileSoql, type ResolvedPath } from './soql.ts'
import { parseSoql, type Condition, type Literal } from './soql-parser.ts'
import type { ListViewDef, Org } from './state.ts'

// List views: list, describe (whose `query` is the SOQL the connector can page with /query) and
// results (limit 1..2,000, default 25; offset from 0).

const AUDIT_COLUMNS = ['Id', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp']
const OPERATORS: Record<string, string> = { '=': 'equals', '!=': 'notEqual', '<': 'lessThan', '>': 'greaterThan', '<=': 'lessOrEqual', '>=': 'greaterOrEqual', like: 'like' }

export function listViewQuery(lv: ListViewDef): string {
  const visible = lv.columns.map((c) => c.toLowerCase())
  const hidden = AUDIT_COLUMNS.filter((c) => !visible.includes(c.toLowerCase()))
  const order = lv.orderBy.field.toLowerCase() === 'id'
    ? `Id ${lv.orderBy.direction} NULLS FIRST`
    : `${lv.orderBy.field} ${lv.orderBy.direction} NULLS FIRST, Id ASC NULLS FIRST`
  return `SELECT ${[...lv.columns, ...hidden].join(', ')} FROM ${lv.sobjectType}${lv.scope === 'mine' ? ' USING SCOPE mine' : ''}${lv.where ? ` WHERE ${lv.where}` : ''} ORDER BY ${order}`
}

const pathName = (p: ResolvedPath) => (p.relationship ? `${p.relationship.name}.${p.field.name}` : p.field.name)

function columns(lv: ListViewDef, selected: ResolvedPath[]) {
  return selected.map((p, i) => {
    const name = pathName(p)
    const isDate = p.field.type === 'datetime' || p.field.type === 'date'
    const sorted = name.toLowerCase() === lv.orderBy.field.toLowerCase()
    return {
      ascendingLabel: isDate ? 'New to Old' : 'Z-A',
      descendingLabel: isDate ? 'Old to New' : 'A-Z',
      fieldNameOrPath: name,
      hidden: i >= lv.columns.length,
      label: p.relationship ? `${p.relationship.reference.label.replace(/ ID$/, '')} ${p.field.label}` : p.field.label,
      searchable: p.field.type !== 'boolean' && !isDate,
      selectListItem: name,
      sortDirection: sorted ? (lv.orderBy.direction === 'ASC' ? 'ascending' : 'descending') : null,
      sortIndex: sorted ? 0 : null,
      sortable: p.field.filterable,
      type: p.field.type,
    }
  })
}

function literalText(lit: Literal): string {
  switch (lit.kind) {
    case 'string': return `'${lit.raw}'`
    case 'null': return 'null'
    case 'datetime': return lit.text
    case 'dateRange': return lit.name.endsWith('_N_DAYS') ? `${lit.name}:${lit.n}` : lit.name
    default: return String(lit.value)
  }
}

function whereCondition(cond: Condition | undefined): unknown {
  if (!cond) return { conditions: [], conjunction: 'and' }
  switch (cond.kind) {
    case 'and':
    case 'or':
      return { conditions: cond.items.map(whereCondition), conjunction: cond.kind }
    case 'not':
      return { conditions: [whereCondition(cond.item)], conjunction: 'not' }
    case 'compare':
      return { field: cond.field.text, operator: OPERATORS[cond.op], values: [literalText(cond.value)] }
    case 'in':
      return { field: cond.field.text, operator: cond.negated ? 'notIn' : 'in', values: cond.values.map(literalText) }
    case 'inQuery':
      return { field: cond.field.text, operator: cond.negated ? 'notIn' : 'in', values: [] }
  }
}

function cellValue(p: ResolvedPath, v: FieldValue): string | null {
  if (v === null) return null
  return p.field.type === 'datetime' && typeof v === 'number' ? formatDateTime(v) : String(v)
}

function summary(lv: ListViewDef, version: string) {
  const url = `/services/data/${version}/sobjects/${lv.sobjectType}/listviews/${lv.id}`
  return { describeUrl: `${url}/describe`, developerName: lv.developerName, id: lv.id, label: lv.label, resultsUrl: `${url}/results`, soqlCompatible: true, url }
}

export function registerListViewRoutes(app: FastifyInstance, ctx: SimContext): void {
  const find = (org: Org, request: FastifyRequest): ListViewDef => {
    const { type, id } = request.params as { type: string; id: string }
    const lv = org.listViews.get(normalizeId(id) ?? '')
    if (!lv || lv.sobjectType.toLowerCase() !== type.toLowerCase()) throw notFound()
    return lv
  }

  app.get('/sobjects/:type/listviews', { config: { endpoint: 'listviews.list' } }, (request) => {
    const { org, version } = rest(request)
    const type = (request.params as { type: string }).type
    const views = [...org.listViews.values()].filter((lv) => lv.sobjectType.toLowerCase() === type.toLowerCase())
    if (!canonicalSObject(type)) throw notFound()
    return { done: true, listviews: views.map((lv) => summary(lv, version)), nextRecordsUrl: null, size: views.length, sobjectType: views[0]?.sobjectType ?? type }
  })

  app.get('/sobjects/:type/listviews/:id', { config: { endpoint: 'listview.get' } }, (request) => {
    const { org, version } = rest(request)
    return summary(find(org, request), version)
  })

  app.get('/sobjects/:type/listviews/:id/describe', { config: { endpoint: 'listview.describe' } }, (request) => {
    const { org } = rest(request)
    const lv = find(org, request)
    const query = listViewQuery(lv)
    const compiled = compileSoql(org, query, ctx.clock.now())
    return {
      columns: columns(lv, compiled.selected),
      id: lv.id,
      orderBy: [
        { fieldNameOrPath: lv.orderBy.field, nullsPosition: 'first', sortDirection: lv.orderBy.direction === 'ASC' ? 'ascending' : 'descending' },
        ...(lv.orderBy.field.toLowerCase() === 'id' ? [] : [{ fieldNameOrPath: 'Id', nullsPosition: 'first', sortDirection: 'ascending' }]),
      ],
      query,
      relatedEntityId: null,
      scope: lv.scope,
      scopeEntityId: null,
      sobjectType: lv.sobjectType,
      whereCondition: whereCondition(parseSoql(query).where),
    }
  })

  app.get('/sobjects/:type/listviews/:id/results', { config: { endpoint: 'listview.results' } }, (request) => {
    const { org } = rest(request)
    const lv = find(org, request)
    const q = request.query as { limit?: string; offset?: string }
    const limit = Math.min(2000, Math.max(1, Number(q.limit ?? 25) || 25))
    const offset = Math.max(0, Number(q.offset ?? 0) || 0)
    const compiled = compileSoql(org, listViewQuery(lv), ctx.clock.now())
    const rows = compiled.run()
    const pageRows = rows.slice(offset, offset + limit)
    return {
      columns: columns(lv, compiled.selected),
      developerName: lv.developerName,
      done: offset + pageRows.length >= rows.length,
      id: lv.id,
      label: lv.label,
      records: pageRows.map((r) => ({
        columns: compiled.selected.map((p) => ({ fieldNameOrPath: pathName(p), value: cellValue(p, p.get(r)) })),
      })),
      size: pageRows.length,
    }
  })
}
