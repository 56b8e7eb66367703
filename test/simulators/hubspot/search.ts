// CRM search semantics over a portal's contacts: filterGroups (OR of ANDs), sorts, free-text
// query, offset paging with HubSpot's 100-per-page and 10,000-result limits.
import { validation } from './api-error.ts'
import { comparableProperty, comparableValue, readContactProperty } from './contact-store.ts'
import { DEFAULT_RETURNED_PROPERTIES } from './default-properties.ts'
import { isRecord, optionalStringArray, requireRecord, stringish } from './input.ts'
import type { Contact, Portal } from './types.ts'

const SEARCH_MAX_LIMIT = 100
const SEARCH_RESULT_CAP = 10_000
const MAX_GROUPS = 5
const MAX_FILTERS_PER_GROUP = 10
const MAX_FILTERS_TOTAL = 25
const QUERY_PROPERTIES = ['firstname', 'lastname', 'email', 'phone', 'mobilephone', 'company']

interface SearchPage {
  total: number
  results: Contact[]
  properties: string[]
  nextAfter: string | null
}

type Predicate = (contact: Contact) => boolean

export function searchContacts(portal: Portal, rawBody: unknown): SearchPage {
  const body = requireRecord(rawBody ?? {}, 'request body')
  const limit = body.limit === undefined ? 10 : Number(body.limit)
  if (!Number.isInteger(limit) || limit < 0) throw validation(`limit must be a non-negative integer, got ${String(body.limit)}`)
  if (limit > SEARCH_MAX_LIMIT) throw validation(`Limit must be less than or equal to ${SEARCH_MAX_LIMIT}. Provided value: ${limit}.`)
  const afterText = body.after === undefined || body.after === null || body.after === '' ? '0' : stringish(body.after)
  if (afterText === null || !/^\d+$/.test(afterText)) throw validation(`after must be a numeric offset, got ${String(body.after)}`)
  const after = Number(afterText)
  if (after >= SEARCH_RESULT_CAP) {
    throw validation(`The search API returns at most ${SEARCH_RESULT_CAP} results per query. Requested offset ${after} is beyond that; narrow the query (e.g. hs_object_id GT <last id>).`)
  }

  const matches = filterContacts(portal, buildPredicate(portal, body.filterGroups), queryPredicate(body.query))
  sortContacts(portal, matches, body.sorts)
  const end = Math.min(after + limit, SEARCH_RESULT_CAP, matches.length)
  return {
    total: matches.length,
    results: matches.slice(after, end),
    properties: optionalStringArray(body.properties, 'properties') ?? DEFAULT_RETURNED_PROPERTIES,
    // Like HubSpot, a next cursor is offered even when it points past the 10k cap (and then fails).
    nextAfter: after + limit < matches.length && limit > 0 ? String(after + limit) : null,
  }
}

function filterContacts(portal: Portal, filter: Predicate | null, text: Predicate | null): Contact[] {
  const out: Contact[] = []
  for (const contact of portal.contactOrder) {
    if ((!filter || filter(contact)) && (!text || text(contact))) out.push(contact)
  }
  return out
}

function buildPredicate(portal: Portal, rawGroups: unknown): Predicate | null {
  if (rawGroups === undefined || rawGroups === null) return null
  if (!Array.isArray(rawGroups)) throw validation('filterGroups must be an array.')
  if (rawGroups.length > MAX_GROUPS) throw validation(`Too many filter groups: ${rawGroups.length}. The maximum is ${MAX_GROUPS}.`)
  let total = 0
  const groups = rawGroups.map((group) => {
    const filters = isRecord(group) && Array.isArray(group.filters) ? group.filters : null
    if (!filters) throw validation('Each filter group needs a filters array.')
    if (filters.length > MAX_FILTERS_PER_GROUP) throw validation(`Too many filters in a group: ${filters.length}. The maximum is ${MAX_FILTERS_PER_GROUP}.`)
    total += filters.length
    const predicates = filters.map((f) => buildFilter(portal, f))
    return (c: Contact) => predicates.every((p) => p(c))
  })
  if (total > MAX_FILTERS_TOTAL) throw validation(`Too many filters: ${total}. The maximum across all groups is ${MAX_FILTERS_TOTAL}.`)
  if (groups.length === 0) return null
  return (c) => groups.some((g) => g(c))
}

function buildFilter(portal: Portal, raw: unknown): Predicate {
  const filter = requireRecord(raw, 'filter')
  const name = typeof filter.propertyName === 'string' ? filter.propertyName : ''
  const definition = portal.properties.get(name)
  if (!definition) throw validation(`There was a problem with the request: property "${name}" does not exist for object type CONTACT.`)
  const norm = (v: string): number | string => comparableValue(definition, v)
  const operator = String(filter.operator ?? 'EQ')
  const value = stringish(filter.value)
  const values = Array.isArray(filter.values) ? filter.values.map((v) => stringish(v) ?? '') : null
  const needValue = (): number | string => {
    if (value === null) throw validation(`Filter on ${name} with operator ${operator} needs a value.`)
    return norm(value)
  }
  const needValues = (): Set<number | string> => {
    if (!values) throw validation(`Filter on ${name} with operator ${operator} needs values.`)
    return new Set(values.map(norm))
  }
  const read = (c: Contact): number | string | null => comparableProperty(c, definition)
  switch (operator) {
    case 'EQ': {
      const target = needValue()
      return (c) => read(c) === target
    }
    case 'NEQ': {
      const target = needValue()
      return (c) => read(c) !== target
    }
    case 'GT':
    case 'GTE':
    case 'LT':
    case 'LTE': {
      const target = needValue()
      return (c) => {
        const v = read(c)
        if (v === null) return false
        return operator === 'GT' ? v > target : operator === 'GTE' ? v >= target : operator === 'LT' ? v < target : v <= target
      }
    }
    case 'BETWEEN': {
      const low = needValue()
      const high = filter.highValue === undefined ? null : stringish(filter.highValue)
      if (high === null) throw validation(`BETWEEN filter on ${name} needs highValue.`)
      const highNorm = norm(high)
      return (c) => {
        const v = read(c)
        return v !== null && v >= low && v <= highNorm
      }
    }
    case 'IN': {
      const set = needValues()
      return (c) => {
        const v = read(c)
        return v !== null && set.has(v)
      }
    }
    case 'NOT_IN': {
      const set = needValues()
      return (c) => {
        const v = read(c)
        return v === null || !set.has(v)
      }
    }
    case 'HAS_PROPERTY':
      return (c) => read(c) !== null
    case 'NOT_HAS_PROPERTY':
      return (c) => read(c) === null
    case 'CONTAINS_TOKEN':
    case 'NOT_CONTAINS_TOKEN': {
      const matcher = tokenMatcher(String(needValue()))
      const positive: Predicate = (c) => {
        const v = readContactProperty(c, name)
        return v !== null && matcher(v)
      }
      return operator === 'CONTAINS_TOKEN' ? positive : (c) => !positive(c)
    }
    default:
      throw validation(`Unknown filter operator ${operator}.`)
  }
}

/** `*` is a wildcard over the whole value; otherwise the value must equal one of its tokens. */
function tokenMatcher(pattern: string): (value: string) => boolean {
  const lower = pattern.toLowerCase()
  if (lower.includes('*')) {
    const regex = new RegExp(`^${lower.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
    return (v) => regex.test(v.toLowerCase())
  }
  return (v) => v.toLowerCase() === lower || v.toLowerCase().split(/[\s,;@.\-_]+/).includes(lower)
}

function queryPredicate(raw: unknown): Predicate | null {
  if (typeof raw !== 'string' || raw.trim() === '') return null
  const terms = raw.toLowerCase().split(/\s+/).filter(Boolean)
  return (c) => {
    const tokens = QUERY_PROPERTIES.flatMap((p) => (c.properties[p] ?? '').toLowerCase().split(/[\s,;@.\-_()+]+/))
    const whole = QUERY_PROPERTIES.map((p) => (c.properties[p] ?? '').toLowerCase())
    return terms.every((t) => tokens.some((tok) => tok.startsWith(t)) || whole.includes(t))
  }
}

function sortContacts(portal: Portal, contacts: Contact[], rawSorts: unknown): void {
  if (rawSorts === undefined || rawSorts === null) return
  if (!Array.isArray(rawSorts)) throw validation('sorts must be an array.')
  const sorts = rawSorts.map((s) => {
    const spec = typeof s === 'string' ? { propertyName: s.replace(/^-/, ''), direction: s.startsWith('-') ? 'DESCENDING' : 'ASCENDING' } : s
    if (!isRecord(spec) || typeof spec.propertyName !== 'string') throw validation('Each sort needs a propertyName.')
    const definition = portal.properties.get(spec.propertyName)
    if (!definition) throw validation(`Cannot sort on unknown property "${spec.propertyName}".`)
    return { definition, sign: spec.direction === 'DESCENDING' ? -1 : 1 }
  })
  const first = sorts[0]
  // Results are already in id order; skip the work for the common "sort by hs_object_id" paging.
  if (!first || (sorts.length === 1 && first.definition.name === 'hs_object_id' && first.sign === 1)) return
  // Keys computed once: sorting 100k contacts must stay well under the search rate-limit interval.
  const keyed = contacts.map((c) => ({
    c,
    keys: sorts.map((s) => comparableProperty(c, s.definition)),
  }))
  const signs = sorts.map((s) => s.sign)
  keyed.sort((a, b) => {
    for (let i = 0; i < signs.length; i++) {
      const x = a.keys[i] ?? null
      const y = b.keys[i] ?? null
      if (x === y) continue
      if (x === null) return 1
      if (y === null) return -1
      return (x < y ? -1 : 1) * (signs[i] ?? 1)
    }
    return a.c.id - b.c.id
  })
  keyed.forEach((k, i) => (contacts[i] = k.c))
}
