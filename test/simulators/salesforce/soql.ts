import { SfError } from './errors.ts'
import { normalizeId } from './ids.ts'
import { fieldValue, recordUrl, toJson } from './render.ts'
import { canonicalSObject, type FieldDef, type FieldValue, type Lookup, type SObjectDef, type SObjectName, type SRecord } from './schema.ts'
import { likeRegExp, soqlError, parseSoql, type Condition, type FieldPath, type Literal, type SoqlQuery } from './soql-parser.ts'
import { lookupIn, table, type Org } from './state.ts'

// Compiles a parsed SOQL query against an org's schema into a predicate, a sort and a projector.
// Matching rows are collected once (cheap: one pass over a Map); JSON is built per page only.

const DAY = 86_400_000

/** Fields available through a polymorphic relationship (the `Name` pseudo-object). */
const NAME_OBJECT_FIELDS = new Set(['id', 'name', 'firstname', 'lastname', 'email', 'phone', 'type'])
const NAME_TYPE_FIELD: FieldDef = {
  name: 'Type', label: 'Type', type: 'string', custom: false, createable: false, updateable: false, nillable: true, required: false, filterable: true,
}

export interface ResolvedPath {
  text: string
  /** The field itself, or the field on the related object. */
  field: FieldDef
  relationship?: { reference: FieldDef; name: string; polymorphic: boolean }
  get(record: SRecord): FieldValue
}

export interface CompiledQuery {
  type: SObjectName
  count: boolean
  selected: ResolvedPath[]
  /** Matching records after ORDER BY, OFFSET and LIMIT. */
  run(): SRecord[]
  project(record: SRecord, version: string): Record<string, unknown>
}

const invalidField = (q: SoqlQuery, pos: number, message: string) => soqlError(q.text, pos, message, 'INVALID_FIELD')

function resolvePath(q: SoqlQuery, org: Org, def: SObjectDef, path: FieldPath, lookup: Lookup): ResolvedPath {
  const noColumn = (name: string, entity: string) =>
    invalidField(q, path.pos, `No such column '${name}' on entity '${entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`)
  const [first, second, ...deeper] = path.parts as [string, ...string[]]
  if (second === undefined) {
    const field = def.byLowerName.get(first.toLowerCase())
    if (!field) throw noColumn(first, def.name)
    return { text: path.text, field, get: (r) => fieldValue(field, r, lookup) }
  }
  const reference = def.byLowerRelationship.get(first.toLowerCase())
  const targets = reference?.referenceTo?.filter((t) => org.schema.has(t)) ?? []
  if (!reference || targets.length === 0 || deeper.length > 0) {
    throw invalidField(q, path.pos, `Didn't understand relationship '${deeper.length > 0 ? path.parts.slice(0, -1).join('.') : first}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`)
  }
  const polymorphic = (reference.referenceTo?.length ?? 0) > 1
  const relationship = { reference, name: reference.relationshipName as string, polymorphic }
  if (polymorphic) {
    const lower = second.toLowerCase()
    if (!NAME_OBJECT_FIELDS.has(lower)) throw noColumn(second, 'Name')
    const field = lower === 'type' ? NAME_TYPE_FIELD : (org.schema.get(targets[0] as SObjectName)?.byLowerName.get(lower) as FieldDef)
    return {
      text: path.text, field, relationship,
      get: (r) => {
        const id = r[reference.name]
        const found = typeof id === 'string' ? lookup(id) : undefined
        if (!found) return null
        if (lower === 'type') return found.type
        const target = org.schema.get(found.type)?.byLowerName.get(lower)
        return target ? fieldValue(target, found.record, lookup) : null
      },
    }
  }
  const targetDef = org.schema.get(targets[0] as SObjectName) as SObjectDef
  const field = targetDef.byLowerName.get(second.toLowerCase())
  if (!field) throw noColumn(second, targetDef.name)
  return {
    text: path.text, field, relationship,
    get: (r) => {
      const id = r[reference.name]
      const found = typeof id === 'string' ? lookup(id) : undefined
      return found ? fieldValue(field, found.record, lookup) : null
    },
  }
}

type Test = (value: FieldValue) => boolean

function dateRange(name: string, n: number, now: number): [number, number] {
  const today = Math.floor(now / DAY) * DAY
  switch (name) {
    case 'YESTERDAY': return [today - DAY, today]
    case 'TOMORROW': return [today + DAY, today + 2 * DAY]
    case 'LAST_N_DAYS': return [today - n * DAY, today + DAY]
    case 'NEXT_N_DAYS': return [today + DAY, today + (n + 1) * DAY]
    default: return [today, today + DAY]
  }
}

const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

const STRING_TYPES = new Set(['string', 'email', 'phone', 'picklist', 'textarea'])

/** Checks the literal against the field type the way Salesforce does, and returns a value test. */
function compileTest(q: SoqlQuery, path: ResolvedPath, op: string, lit: Literal, now: number): Test {
  const f = path.field
  const mustBe = (type: string, quoted: boolean) =>
    invalidField(q, lit.pos, `value of filter criterion for field '${path.text}' must be of type ${type} and ${quoted ? 'should be enclosed in quotes' : 'should not be enclosed in quotes'}`)
  if (lit.kind === 'null') {
    if (op === '=') return (v) => v === null
    if (op === '!=') return (v) => v !== null
    return () => false
  }
  if (op === 'like' && !STRING_TYPES.has(f.type) && f.type !== 'id' && f.type !== 'reference') {
    throw invalidField(q, lit.pos, `invalid operator on field '${path.text}'`)
  }
  const ordered = <T extends string | number>(a: T, b: T): boolean => {
    switch (op) {
      case '=': return a === b
      case '!=': return a !== b
      case '<': return a < b
      case '>': return a > b
      case '<=': return a <= b
      default: return a >= b
    }
  }
  const nullResult = op === '!='
  if (STRING_TYPES.has(f.type)) {
    if (lit.kind !== 'string') throw mustBe('string', true)
    if (op === 'like') {
      const re = likeRegExp(lit.raw)
      return (v) => v !== null && re.test(String(v))
    }
    const target = lit.value.toLowerCase()
    return (v) => (v === null ? nullResult : ordered(String(v).toLowerCase(), target))
  }
  if (f.type === 'id' || f.type === 'reference') {
    if (lit.kind !== 'string') throw mustBe('id', true)
    const id = normalizeId(lit.value)
    if (!id) throw soqlError(q.text, lit.pos, `invalid ID field: ${lit.value}`, 'INVALID_QUERY_FILTER_OPERATOR')
    return (v) => (v === null ? nullResult : ordered(String(v), id))
  }
  if (f.type === 'boolean') {
    if (lit.kind !== 'boolean') throw mustBe('boolean', false)
    if (op !== '=' && op !== '!=') throw invalidField(q, lit.pos, `invalid operator on boolean field '${path.text}'`)
    return (v) => ordered(String(v === true), String(lit.value))
  }
  if (f.type === 'int') {
    if (lit.kind !== 'number') throw mustBe('double', false)
    return (v) => (v === null ? nullResult : ordered(Number(v), lit.value))
  }
  // datetime and date
  const isDate = f.type === 'date'
  if (lit.kind === 'dateRange') {
    const [start, end] = dateRange(lit.name, lit.n, now)
    const lo = isDate ? isoDate(start) : start
    const hi = isDate ? isoDate(end) : end
    const inRange = (v: string | number) => v >= lo && v < hi
    switch (op) {
      case '=': return (v) => v !== null && inRange(v as string | number)
      case '!=': return (v) => v === null || !inRange(v as string | number)
      case '<': return (v) => v !== null && (v as string | number) < lo
      case '<=': return (v) => v !== null && (v as string | number) < hi
      case '>': return (v) => v !== null && (v as string | number) >= hi
      default: return (v) => v !== null && (v as string | number) >= lo
    }
  }
  if (isDate) {
    if (lit.kind !== 'date') throw mustBe('date', false)
    return (v) => (v === null ? nullResult : ordered(String(v), lit.value))
  }
  if (lit.kind !== 'datetime') throw mustBe('dateTime', false)
  return (v) => (v === null ? nullResult : ordered(Number(v), lit.value))
}

function compileCondition(q: SoqlQuery, org: Org, def: SObjectDef, cond: Condition, lookup: Lookup, now: number): (r: SRecord) => boolean {
  switch (cond.kind) {
    case 'and': {
      const parts = cond.items.map((c) => compileCondition(q, org, def, c, lookup, now))
      return (r) => parts.every((p) => p(r))
    }
    case 'or': {
      const parts = cond.items.map((c) => compileCondition(q, org, def, c, lookup, now))
      return (r) => parts.some((p) => p(r))
    }
    case 'not': {
      const inner = compileCondition(q, org, def, cond.item, lookup, now)
      return (r) => !inner(r)
    }
    case 'compare': {
      const path = filterablePath(q, org, def, cond.field, lookup)
      const test = compileTest(q, path, cond.op, cond.value, now)
      return (r) => test(path.get(r))
    }
    case 'in': {
      const path = filterablePath(q, org, def, cond.field, lookup)
      const tests = cond.values.map((v) => compileTest(q, path, '=', v, now))
      const set = inSet(path.field, cond.values)
      if (set) {
        // Long IN lists (ids of a batch) become one Set lookup instead of N comparisons.
        const lower = STRING_TYPES.has(path.field.type)
        return (r) => {
          const v = path.get(r)
          return (v !== null && set.has(lower ? String(v).toLowerCase() : v)) !== cond.negated
        }
      }
      return (r) => {
        const v = path.get(r)
        return tests.some((t) => t(v)) !== cond.negated
      }
    }
    case 'inQuery': {
      const path = filterablePath(q, org, def, cond.field, lookup)
      if (path.field.type !== 'id' && path.field.type !== 'reference') {
        throw invalidField(q, cond.field.pos, `Semi join sub-selects are only allowed on Id or reference fields: ${cond.field.text}`)
      }
      const sub = compileQuery(org, cond.query, now)
      const selected = sub.selected[0]
      if (sub.selected.length !== 1 || !selected || (selected.field.type !== 'id' && selected.field.type !== 'reference')) {
        throw soqlError(q.text, cond.query.from.pos, 'The selected field in a semi join sub-select must be an Id or a reference field')
      }
      // Evaluated once per query, like Salesforce does for semi-joins.
      let ids: Set<FieldValue> | undefined
      return (r) => {
        ids ??= new Set(sub.run().map((row) => selected.get(row)))
        return ids.has(path.get(r)) !== cond.negated
      }
    }
  }
}

function inSet(field: FieldDef, values: Literal[]): Set<FieldValue> | undefined {
  if (!values.every((v) => v.kind === 'string')) return undefined
  if (STRING_TYPES.has(field.type)) return new Set(values.map((v) => (v as { value: string }).value.toLowerCase()))
  if (field.type === 'id' || field.type === 'reference') return new Set(values.map((v) => normalizeId((v as { value: string }).value) as string))
  return undefined
}

function filterablePath(q: SoqlQuery, org: Org, def: SObjectDef, field: FieldPath, lookup: Lookup): ResolvedPath {
  const path = resolvePath(q, org, def, field, lookup)
  if (!path.field.filterable) throw invalidField(q, field.pos, `field '${path.text}' can not be filtered in a query call`)
  return path
}

function comparator(paths: { path: ResolvedPath; descending: boolean; nullsLast: boolean }[]) {
  return (a: SRecord, b: SRecord): number => {
    for (const { path, descending, nullsLast } of paths) {
      const va = path.get(a)
      const vb = path.get(b)
      if (va === vb) continue
      if (va === null) return nullsLast ? 1 : -1
      if (vb === null) return nullsLast ? -1 : 1
      const x = typeof va === 'string' ? va.toLowerCase() : Number(va)
      const y = typeof vb === 'string' ? vb.toLowerCase() : Number(vb)
      const c = x < y ? -1 : x > y ? 1 : 0
      if (c !== 0) return descending ? -c : c
    }
    return 0
  }
}

function compileQuery(org: Org, q: SoqlQuery, now: number): CompiledQuery {
  const type = canonicalSObject(q.from.name)
  const def = type ? org.schema.get(type) : undefined
  if (!type || !def) {
    throw soqlError(q.text, q.from.pos, `sObject type '${q.from.name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`, 'INVALID_TYPE')
  }
  const lookup = lookupIn(org)
  const selected: ResolvedPath[] = []
  const seen = new Set<string>()
  for (const path of q.fields) {
    const resolved = resolvePath(q, org, def, path, lookup)
    const key = resolved.relationship ? `${resolved.relationship.name}.${resolved.field.name}` : resolved.field.name
    if (seen.has(key.toLowerCase())) throw invalidField(q, path.pos, `duplicate field selected: ${path.text}`)
    seen.add(key.toLowerCase())
    selected.push(resolved)
  }
  const predicate = q.where ? compileCondition(q, org, def, q.where, lookup, now) : () => true
  const order = q.orderBy.map((o) => {
    const path = resolvePath(q, org, def, o.field, lookup)
    if (!path.field.filterable) throw invalidField(q, o.field.pos, `field '${path.text}' can not be sorted in a query call`)
    return { path, descending: o.descending, nullsLast: o.nullsLast }
  })
  const records = table(org, type).records
  const run = (): SRecord[] => {
    const offset = q.offset ?? 0
    // Without ORDER BY the scan can stop as soon as OFFSET + LIMIT rows are found.
    const stopAt = order.length === 0 && q.limit !== undefined ? offset + q.limit : Infinity
    const rows: SRecord[] = []
    for (const r of records.values()) {
      if (predicate(r)) {
        rows.push(r)
        if (rows.length >= stopAt) break
      }
    }
    if (order.length > 0) rows.sort(comparator(order))
    return offset === 0 && q.limit === undefined ? rows : rows.slice(offset, q.limit === undefined ? undefined : offset + q.limit)
  }
  return { type, count: q.count, selected, run, project: projector(type, selected, lookup) }
}

/** Builds the record JSON in SELECT order; relationship fields nest under one object per relationship. */
function projector(type: SObjectName, selected: ResolvedPath[], lookup: Lookup) {
  const writers: ((out: Record<string, unknown>, r: SRecord, version: string) => void)[] = []
  const groups = new Map<string, ResolvedPath[]>()
  for (const path of selected) {
    const rel = path.relationship
    if (!rel) {
      writers.push((out, r) => {
        out[path.field.name] = toJson(path.field, path.get(r))
      })
      continue
    }
    const group = groups.get(rel.name)
    if (group) {
      group.push(path)
      continue
    }
    const members = [path]
    groups.set(rel.name, members)
    writers.push((out, r, version) => {
      const id = r[rel.reference.name]
      const found = typeof id === 'string' ? lookup(id) : undefined
      if (!found) {
        out[rel.name] = null
        return
      }
      const nested: Record<string, unknown> = {
        attributes: { type: rel.polymorphic ? 'Name' : found.type, url: recordUrl(version, found.type, found.record.Id) },
      }
      for (const m of members) nested[m.field.name] = toJson(m.field, m.get(r))
      out[rel.name] = nested
    })
  }
  return (r: SRecord, version: string): Record<string, unknown> => {
    const out: Record<string, unknown> = { attributes: { type, url: recordUrl(version, type, r.Id) } }
    for (const w of writers) w(out, r, version)
    return out
  }
}

/** Parses and compiles; throws SfError (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE, ...). */
export function compileSoql(org: Org, soql: string, now: number): CompiledQuery {
  if (!soql.trim()) throw new SfError(400, 'MALFORMED_QUERY', 'A query string has to be specified')
  return compileQuery(org, parseSoql(soql), now)
}
