import { countMember } from './campaign-counts.ts'
import { RecordFailure, SfError } from './errors.ts'
import type { Faults } from './faults.ts'
import { normalizeId } from './ids.ts'
import { isClosedTaskStatus, sobjectForId, type FieldDef, type FieldValue, type SObjectDef, type SObjectName, type SRecord } from './schema.ts'
import { isDeleted, nextId, table, type Org } from './state.ts'

// Record writes with Salesforce's validation. Two levels of failure, as in the real API:
// malformed input (unknown field, wrong JSON type) fails the whole request (SfError 400);
// everything else is a per-record error (RecordFailure) that collections report item by item.

export type FieldValues = Map<FieldDef, FieldValue>

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

function jsonError(kind: string, raw: unknown): SfError {
  const token = typeof raw === 'string' ? 'VALUE_STRING' : typeof raw === 'number' ? 'VALUE_NUMBER_INT' : typeof raw === 'boolean' ? `VALUE_${String(raw).toUpperCase()}` : Array.isArray(raw) ? 'START_ARRAY' : 'START_OBJECT'
  const shown = typeof raw === 'object' ? (Array.isArray(raw) ? '[' : '{') : String(raw)
  return new SfError(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of ${kind} from ${token} value ${shown} or request may be missing a required field`)
}

function convert(field: FieldDef, raw: unknown): FieldValue {
  if (raw === null) return field.type === 'boolean' ? false : null
  switch (field.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw
      if (raw === 'true' || raw === 'false') return raw === 'true'
      throw jsonError('boolean', raw)
    case 'int':
      if (typeof raw === 'number' && Number.isInteger(raw)) return raw
      if (typeof raw === 'string' && /^-?\d+$/.test(raw)) return Number(raw)
      throw jsonError('int', raw)
    case 'datetime': {
      const ms = typeof raw === 'string' ? Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : Number.NaN
      if (Number.isNaN(ms)) throw jsonError('datetime', raw)
      return ms
    }
    case 'date':
      if (typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}/.test(raw) && !Number.isNaN(Date.parse(raw.slice(0, 10)))) return raw.slice(0, 10)
      throw jsonError('date', raw)
    default:
      if (typeof raw === 'string') return raw
      if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw)
      throw jsonError('string', raw)
  }
}

/**
 * JSON record → field values (keys are case-insensitive, as in Salesforce). `attributes` is
 * metadata; `Id` is returned apart because only updates may carry it.
 */
export function parseInput(def: SObjectDef, input: unknown): { id: unknown; values: FieldValues } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw jsonError('SObject', input)
  const values: FieldValues = new Map()
  let id: unknown
  for (const [key, raw] of Object.entries(input)) {
    if (key === 'attributes') continue
    const field = def.byLowerName.get(key.toLowerCase())
    if (!field) throw new SfError(400, 'INVALID_FIELD', `No such column '${key}' on sobject of type ${def.name}`)
    if (field.name === 'Id') id = raw
    else values.set(field, convert(field, raw))
  }
  return { id, values }
}

const label = (f: FieldDef) => f.label

function indexKey(field: FieldDef, value: FieldValue): string {
  const text = String(value)
  return field.caseSensitive ? text : text.toLowerCase()
}

function uniqueIndex(org: Org, type: SObjectName, field: FieldDef): Map<string, string> {
  const key = `${type}.${field.name}`
  let index = org.externalIndex.get(key)
  if (!index) {
    index = new Map()
    for (const r of table(org, type).records.values()) {
      const v = r[field.name]
      if (v !== null && v !== undefined) index.set(indexKey(field, v), r.Id)
    }
    org.externalIndex.set(key, index)
  }
  return index
}

export function findByExternalId(org: Org, type: SObjectName, field: FieldDef, value: string): SRecord | undefined {
  const id = uniqueIndex(org, type, field).get(indexKey(field, value))
  return id ? table(org, type).records.get(id) : undefined
}

export interface WriteOptions {
  now: number
  faults: Faults
}

/** Validates the record as it would be after the write; throws RecordFailure. */
function validate(org: Org, def: SObjectDef, next: SRecord, changed: FieldValues, creating: boolean, faults: Faults): void {
  const injected = faults.takeRecordFault()
  if (injected) throw new RecordFailure(injected.statusCode, injected.message)
  const missing = def.fields.filter((f) => (creating ? f.required : !f.nillable && changed.has(f)) && (next[f.name] === null || next[f.name] === undefined))
  if (missing.length > 0) {
    throw new RecordFailure('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.map((f) => f.name).join(', ')}]`, missing.map((f) => f.name))
  }
  for (const [f, v] of changed) {
    if (v === null) continue
    if (f.length !== undefined && typeof v === 'string' && v.length > f.length) {
      throw new RecordFailure('STRING_TOO_LONG', `${label(f)}: data value too large: ${v.slice(0, 80)} (max length=${f.length})`, [f.name])
    }
    if (f.type === 'email' && !EMAIL.test(String(v))) throw new RecordFailure('INVALID_EMAIL_ADDRESS', `${label(f)}: invalid email address: ${v}`, [f.name])
    if (f.restrictedPicklist && !f.picklist?.includes(String(v))) {
      throw new RecordFailure('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${label(f)}: bad value for restricted picklist field: ${v}`, [f.name])
    }
    if (f.type === 'reference') {
      const id = normalizeId(String(v))
      if (!id) throw new RecordFailure('MALFORMED_ID', `${label(f)}: id value of incorrect type: ${v}`, [f.name])
      next[f.name] = id
      const targetType = sobjectForId(id)
      if (f.referenceTo && f.referenceTo.length > 0) {
        if (!targetType || !f.referenceTo.includes(targetType)) {
          throw new RecordFailure('FIELD_INTEGRITY_EXCEPTION', `${label(f)}: id value of incorrect type: ${v}`, [f.name])
        }
        if (!table(org, targetType).records.has(id)) {
          throw isDeleted(org, targetType, id)
            ? new RecordFailure('ENTITY_IS_DELETED', 'entity is deleted', [f.name])
            : new RecordFailure('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [f.name])
        }
      }
    }
    if (f.unique) {
      const owner = uniqueIndex(org, def.name, f).get(indexKey(f, v))
      if (owner && owner !== next.Id) {
        throw new RecordFailure('DUPLICATE_VALUE', `duplicate value found: ${f.name} duplicates value on record with id: ${owner}`, [])
      }
    }
  }
  if (def.name === 'CampaignMember' && creating) {
    const person = next.ContactId ?? next.LeadId
    if (!person) throw new RecordFailure('REQUIRED_FIELD_MISSING', 'Required fields are missing: [ContactId, LeadId]', ['ContactId', 'LeadId'])
    if (org.memberIndex.has(`${next.CampaignId}|${person}`)) throw new RecordFailure('DUPLICATE_VALUE', 'Already a campaign member.', [])
  }
}

function store(org: Org, def: SObjectDef, next: SRecord, previous: SRecord | undefined): void {
  for (const f of def.fields) {
    if (!f.unique) continue
    const index = uniqueIndex(org, def.name, f)
    const before = previous?.[f.name]
    if (before !== null && before !== undefined) index.delete(indexKey(f, before))
    const after = next[f.name]
    if (after !== null && after !== undefined) index.set(indexKey(f, after), next.Id)
  }
  if (def.name === 'CampaignMember' && !previous) {
    org.memberIndex.set(`${next.CampaignId}|${next.ContactId ?? next.LeadId}`, next.Id)
    countMember(org, next, 1)
  }
  table(org, def.name).records.set(next.Id, next)
}

function stamp(org: Org, record: SRecord, now: number): void {
  record.LastModifiedDate = now
  record.SystemModstamp = now
  record.LastModifiedById = org.userId
}

function taskCompletion(def: SObjectDef, next: SRecord, previous: SRecord | undefined, now: number): void {
  if (def.name !== 'Task') return
  const closed = isClosedTaskStatus(next.Status)
  if (closed && !isClosedTaskStatus(previous?.Status)) next.CompletedDateTime = now
  if (!closed) next.CompletedDateTime = null
}

export type Undo = () => void

export function createRecord(org: Org, def: SObjectDef, values: FieldValues, opts: WriteOptions): { record: SRecord; undo: Undo } {
  const notCreateable = [...values.keys()].filter((f) => !f.createable)
  if (notCreateable.length > 0) throw readOnlyFailure(notCreateable)
  const id = nextId(org, def.name)
  const record: SRecord = { Id: id }
  for (const f of def.fields) {
    if (f.derive || f.type === 'id') continue
    record[f.name] = values.has(f) ? (values.get(f) as FieldValue) : (f.defaultValue ?? null)
  }
  if (def.byLowerName.has('ownerid') && !record.OwnerId) record.OwnerId = org.userId
  record.CreatedDate = opts.now
  record.CreatedById = org.userId
  stamp(org, record, opts.now)
  validate(org, def, record, values, true, opts.faults)
  taskCompletion(def, record, undefined, opts.now)
  store(org, def, record, undefined)
  return { record, undo: () => removeFromStore(org, def, record) }
}

/**
 * `skipUnchangedReadOnly`: the update half of an upsert tolerates create-only fields (e.g.
 * TaskSubtype) when they carry the stored value, so the same record can be upserted twice.
 */
export function updateRecord(org: Org, def: SObjectDef, existing: SRecord, values: FieldValues, opts: WriteOptions, skipUnchangedReadOnly = false): { record: SRecord; undo: Undo } {
  const effective: FieldValues = new Map()
  const notUpdateable: FieldDef[] = []
  for (const [f, v] of values) {
    if (f.updateable) effective.set(f, v)
    else if (!(skipUnchangedReadOnly && f.createable && existing[f.name] === v)) notUpdateable.push(f)
  }
  if (notUpdateable.length > 0) throw readOnlyFailure(notUpdateable)
  const next: SRecord = { ...existing }
  for (const [f, v] of effective) next[f.name] = v
  stamp(org, next, opts.now)
  validate(org, def, next, effective, false, opts.faults)
  taskCompletion(def, next, existing, opts.now)
  store(org, def, next, existing)
  return { record: next, undo: () => store(org, def, existing, next) }
}

/** Deletes a record and, like Salesforce, its campaign memberships and activities. */
export function deleteRecord(org: Org, type: SObjectName, id: string, now: number): Undo {
  const t = table(org, type)
  const record = t.records.get(id)
  if (!record) throw new RecordFailure('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id')
  const childUndos: Undo[] = []
  for (const [childType, fields] of CASCADES[type] ?? []) {
    const children = [...table(org, childType).records.values()].filter((c) => fields.some((f) => c[f] === id))
    for (const child of children) childUndos.push(deleteRecord(org, childType, child.Id, now))
  }
  removeFromStore(org, t.def, record)
  const tombstone = { id, deletedDate: now }
  t.deleted.push(tombstone)
  return () => {
    store(org, t.def, record, undefined)
    t.deleted = t.deleted.filter((d) => d !== tombstone)
    for (const undo of childUndos.reverse()) undo()
  }
}

const CASCADES: Partial<Record<SObjectName, [SObjectName, string[]][]>> = {
  Contact: [['CampaignMember', ['ContactId']], ['Task', ['WhoId']]],
  Lead: [['CampaignMember', ['LeadId']], ['Task', ['WhoId']]],
  Campaign: [['CampaignMember', ['CampaignId']]],
}

function removeFromStore(org: Org, def: SObjectDef, record: SRecord): void {
  for (const f of def.fields) {
    const v = record[f.name]
    if (f.unique && v !== null && v !== undefined) uniqueIndex(org, def.name, f).delete(indexKey(f, v))
  }
  if (def.name === 'CampaignMember') {
    org.memberIndex.delete(`${record.CampaignId}|${record.ContactId ?? record.LeadId}`)
    countMember(org, record, -1)
  }
  table(org, def.name).records.delete(record.Id)
}

function readOnlyFailure(fields: FieldDef[]): RecordFailure {
  const names = fields.map((f) => f.name)
  return new RecordFailure(
    'INVALID_FIELD_FOR_INSERT_UPDATE',
    `Unable to create/update fields: ${names.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
    names,
  )
}

/** Resolves `{type}/{id}` path ids: the canonical id when it is an id of that type in the org. */
export function existingRecord(org: Org, type: SObjectName, rawId: string): SRecord | undefined {
  const id = normalizeId(rawId)
  return id && sobjectForId(id) === type ? table(org, type).records.get(id) : undefined
}

export function upsertField(def: SObjectDef, name: string): FieldDef {
  const field = def.byLowerName.get(name.toLowerCase())
  if (!field || !field.externalId) {
    throw new SfError(400, 'INVALID_FIELD', `Field name provided, ${name} is not an External ID or indexed field for ${def.name}`)
  }
  return field
}

/** Upsert by external id: update the record holding `value`, or create one carrying it. */
export function upsertRecord(org: Org, def: SObjectDef, extField: FieldDef, value: string, values: FieldValues, opts: WriteOptions): { record: SRecord; created: boolean; undo: Undo } {
  const existing = findByExternalId(org, def.name, extField, value)
  const withKey: FieldValues = new Map(values)
  withKey.set(extField, value)
  if (existing) return { ...updateRecord(org, def, existing, withKey, opts, true), created: false }
  return { ...createRecord(org, def, withKey, opts), created: true }
}
