import type { CrmRecord } from '../crm-adapter.ts'
import { queryAll, type SoqlRow } from './salesforce-query.ts'
import type { Priority, SalesforceRest } from './salesforce-rest.ts'
import { inLists, isoFromSalesforce, uniqueFields, type PersonType } from './salesforce-soql.ts'

// SOQL rows → CrmRecord: only the asked-for properties, as strings (null when empty). Field names
// in rows keep Salesforce's spelling, so properties are looked up case-insensitively.

function text(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

function field(row: Record<string, unknown>, name: string): unknown {
  if (name in row) return row[name]
  const lower = name.toLowerCase()
  const key = Object.keys(row).find((k) => k.toLowerCase() === lower)
  return key === undefined ? undefined : row[key]
}

/** `source` holds the fields (the row itself, or a related `Contact`/`Lead` object of a CampaignMember row). */
export function toCrmRecord(id: string, type: PersonType, source: Record<string, unknown>, properties: string[]): CrmRecord {
  const stamp = field(source, 'SystemModstamp')
  return {
    id,
    objectType: type === 'Contact' ? 'contact' : 'lead',
    properties: Object.fromEntries(properties.map((p) => [p, text(field(source, p))])),
    ...(typeof stamp === 'string' ? { updatedAt: isoFromSalesforce(stamp) } : {}),
  }
}

/** Contacts or Leads by id, `IN` lists of up to 200 ids per query. */
export async function readPeople(
  rest: SalesforceRest, type: PersonType, ids: string[], properties: string[], priority: Priority,
): Promise<{ records: CrmRecord[]; calls: number }> {
  const select = uniqueFields(['Id', 'SystemModstamp', ...properties]).join(', ')
  const records: CrmRecord[] = []
  let calls = 0
  for (const list of inLists(ids)) {
    const result = await queryAll<SoqlRow>(rest, `SELECT ${select} FROM ${type} WHERE Id IN ${list}`, priority)
    calls += result.calls
    for (const row of result.records) records.push(toCrmRecord(String(row.Id), type, row, properties))
  }
  return { records, calls }
}
