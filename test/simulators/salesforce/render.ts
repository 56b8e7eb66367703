import type { FieldDef, FieldValue, SObjectName, SRecord, Lookup } from './schema.ts'

// Stored values → the JSON Salesforce returns (datetimes as `2024-01-01T00:00:00.000+0000`).

export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000')
}

export function fieldValue(field: FieldDef, record: SRecord, lookup: Lookup): FieldValue {
  return field.derive ? field.derive(record, lookup) : (record[field.name] ?? null)
}

export function toJson(field: FieldDef, value: FieldValue): FieldValue {
  return field.type === 'datetime' && typeof value === 'number' ? formatDateTime(value) : value
}

export function recordUrl(version: string, type: string, id: string): string {
  return `/services/data/${version}/sobjects/${type}/${id}`
}

/** Every field of a record, as GET /sobjects/{type}/{id} returns it. */
export function renderFullRecord(fields: FieldDef[], type: SObjectName, record: SRecord, version: string, lookup: Lookup): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: { type, url: recordUrl(version, type, record.Id) } }
  for (const f of fields) out[f.name] = toJson(f, fieldValue(f, record, lookup))
  return out
}
