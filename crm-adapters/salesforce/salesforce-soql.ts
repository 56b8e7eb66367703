import { validationError } from './salesforce-errors.ts'

// Building SOQL from values we did not write: ids, field names and strings are checked or escaped
// here so nothing from a caller or a CRM record can change a query's meaning.

export type PersonType = 'Contact' | 'Lead'

const RECORD_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/
/** Field API names: `MobilePhone`, `WhatsApp_Opt_In__c`, `ns__WhatsApp_Opt_In__c`. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/
const NAMESPACE = /^[A-Za-z][A-Za-z0-9]{0,14}$/
/** An unprefixed custom field API name, `WhatsApp_Opt_In__c`. */
const CUSTOM_FIELD = /^[A-Za-z][A-Za-z0-9_]*__c$/

/** Standard key prefixes: the first three characters of every Contact and Lead id. */
const PREFIX: Record<PersonType, string> = { Contact: '003', Lead: '00Q' }

export function personTypeOfId(id: string): PersonType | undefined {
  if (!RECORD_ID.test(id)) return undefined
  return id.startsWith(PREFIX.Contact) ? 'Contact' : id.startsWith(PREFIX.Lead) ? 'Lead' : undefined
}

export function personType(objectType: 'contact' | 'lead'): PersonType {
  return objectType === 'contact' ? 'Contact' : 'Lead'
}

export function requireId(id: string, what: string): string {
  if (!RECORD_ID.test(id)) throw validationError(`${what} "${id.slice(0, 40)}" is not a Salesforce id`)
  return id
}

function requireField(name: string): string {
  if (!FIELD_NAME.test(name)) throw validationError(`"${name.slice(0, 80)}" is not a Salesforce field API name`)
  return name
}

/** Field names once each (SOQL rejects a field selected twice), case-insensitively, first spelling kept. */
export function uniqueFields(names: string[]): string[] {
  const seen = new Set<string>()
  return names.map(requireField).filter((name) => {
    const key = name.toLowerCase()
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** A quoted SOQL string literal: backslash escapes, as SOQL wants. */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`
}

/** A LIKE pattern matching `value` anywhere: `%` and `_` stand for themselves. */
export function soqlContains(value: string): string {
  const quoted = soqlString(value)
  return `'%${quoted.slice(1, -1).replace(/[%_]/g, '\\$&')}%'`
}

/** A dateTime literal, whole seconds as the documented formats have them, rounded down so a `>` filter never skips. */
export function soqlDateTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Salesforce datetimes (`2024-01-01T10:00:00.000+0000`) as ISO strings. */
export function isoFromSalesforce(value: string): string {
  return new Date(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')).toISOString()
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Values per `IN (…)` list: at most 200, and few enough that the encoded query URL stays short. */
const IN_LIST_MAX = 200
const IN_LIST_MAX_URL_CHARS = 8_000

/** `IN ('a', 'b')` lists for `values`, split so each query's URL stays well below request-line limits. */
export function inLists(values: string[]): string[] {
  const lists: string[] = []
  let current: string[] = []
  let length = 0
  for (const value of values) {
    const literal = soqlString(value)
    const cost = encodeURIComponent(`${literal}, `).length
    if (current.length > 0 && (current.length >= IN_LIST_MAX || length + cost > IN_LIST_MAX_URL_CHARS)) {
      lists.push(`(${current.join(', ')})`)
      current = []
      length = 0
    }
    current.push(literal)
    length += cost
  }
  if (current.length > 0) lists.push(`(${current.join(', ')})`)
  return lists
}

/** Our packaged custom fields by what they hold (manifest.json `salesforce`). */
export interface PackageFields {
  /** Checkbox on Contact and Lead mirroring WhatsApp consent. */
  optIn: string
  /** DateTime on Contact and Lead: when consent last changed. */
  optInDate: string
  /** External id on Task the connector upserts engagement on. */
  messageId: string
}

/** The package's fields (unprefixed API names) with the managed package's namespace prefix when it has one. */
export function packageFields(fields: PackageFields, namespace?: string): PackageFields {
  if (namespace !== undefined && !NAMESPACE.test(namespace)) throw validationError(`"${namespace}" is not a Salesforce namespace prefix`)
  // They go into SOQL as they are.
  for (const name of Object.values(fields)) if (!CUSTOM_FIELD.test(name)) throw validationError(`"${name}" is not a custom field API name`)
  const prefix = namespace ? `${namespace}__` : ''
  return { optIn: `${prefix}${fields.optIn}`, optInDate: `${prefix}${fields.optInDate}`, messageId: `${prefix}${fields.messageId}` }
}
