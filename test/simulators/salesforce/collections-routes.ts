import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SimContext } from './context.ts'
import { createRecord, deleteRecord, parseInput, updateRecord, upsertField, upsertRecord, type FieldValues, type Undo, type WriteOptions } from './dml.ts'
import { RecordFailure, SfError, type RecordError } from './errors.ts'
import { normalizeId } from './ids.ts'
import { lookupIn, table, isDeleted, type Org } from './state.ts'
import { renderFullRecord } from './render.ts'
import { rest } from './rest-guard.ts'
import { canonicalSObject, sobjectForId, type SObjectDef } from './schema.ts'
import { sobjectDef } from './sobject-routes.ts'

// sObject Collections: up to 200 records per request, one API call, per-record results in request
// order. allOrNone rolls back every write of the request when any record fails.

export const MAX_COLLECTION_RECORDS = 200

interface Result {
  id?: string
  success: boolean
  errors: RecordError[]
  created?: boolean
}

type Step = () => { result: Result; undo: Undo }

const ROLLED_BACK: RecordError = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
}

function tooMany(): SfError {
  return new SfError(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COLLECTION_RECORDS} records into this call`)
}

function collectionBody(request: FastifyRequest): { allOrNone: boolean; records: unknown[] } {
  const body = request.body as { allOrNone?: unknown; records?: unknown } | undefined
  if (!body || !Array.isArray(body.records)) throw new SfError(400, 'JSON_PARSER_ERROR', 'The request body must contain a records array')
  if (body.records.length > MAX_COLLECTION_RECORDS) throw tooMany()
  return { allOrNone: body.allOrNone === true || body.allOrNone === 'true', records: body.records }
}

function run(steps: (Step | RecordFailure)[], allOrNone: boolean, ids: (string | undefined)[] = []): Result[] {
  const undos: Undo[] = []
  let failed = false
  const results = steps.map((step, i): Result => {
    const id = ids[i]
    try {
      if (step instanceof RecordFailure) throw step
      const { result, undo } = step()
      undos.push(undo)
      return result
    } catch (error) {
      if (!(error instanceof RecordFailure)) throw error
      failed = true
      return { ...(id ? { id } : {}), success: false, errors: [error.error] }
    }
  })
  if (!allOrNone || !failed) return results
  for (const undo of undos.reverse()) undo()
  return results.map((r) => (r.success ? { ...(r.id ? { id: r.id } : {}), success: false, errors: [ROLLED_BACK] } : r))
}

function recordType(org: Org, raw: unknown): SObjectDef | RecordFailure {
  const type = (raw as { attributes?: { type?: unknown } } | null)?.attributes?.type
  if (typeof type !== 'string') return new RecordFailure('INVALID_TYPE', 'Must send a concrete entity type.')
  const name = canonicalSObject(type)
  const def = name ? org.schema.get(name) : undefined
  return def ?? new RecordFailure('INVALID_TYPE', `sObject type '${type}' is not supported.`)
}

export function registerCollectionRoutes(app: FastifyInstance, ctx: SimContext): void {
  const writeOptions = (): WriteOptions => ({ now: ctx.clock.now(), faults: ctx.faults })

  app.post('/composite/sobjects', { config: { endpoint: 'collections.create', minVersion: 42 } }, (request) => {
    const { org } = rest(request)
    const { allOrNone, records } = collectionBody(request)
    // Malformed records (unknown field, wrong JSON type) fail the whole request before any write.
    const steps = records.map((raw): Step | RecordFailure => {
      const def = recordType(org, raw)
      if (def instanceof RecordFailure) return def
      const { id, values } = parseInput(def, raw)
      if (id !== undefined) return new RecordFailure('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id'])
      return () => {
        const { record, undo } = createRecord(org, def, values, writeOptions())
        return { result: { id: record.Id, success: true, errors: [] }, undo }
      }
    })
    return run(steps, allOrNone)
  })

  app.patch('/composite/sobjects', { config: { endpoint: 'collections.update', minVersion: 42 } }, (request) => {
    const { org } = rest(request)
    const { allOrNone, records } = collectionBody(request)
    const ids: (string | undefined)[] = records.map(() => undefined)
    const steps = records.map((raw, i): Step | RecordFailure => {
      const def = recordType(org, raw)
      if (def instanceof RecordFailure) return def
      const { id: rawId, values } = parseInput(def, raw)
      if (rawId === undefined || rawId === null) return new RecordFailure('MISSING_ARGUMENT', 'Id not specified in an update call')
      const id = normalizeId(String(rawId))
      ids[i] = id
      if (!id || sobjectForId(id) !== def.name) return new RecordFailure('MALFORMED_ID', `${def.label} ID: id value of incorrect type: ${String(rawId)}`, ['Id'])
      return () => {
        const existing = table(org, def.name).records.get(id)
        if (!existing) {
          throw isDeleted(org, def.name, id)
            ? new RecordFailure('ENTITY_IS_DELETED', 'entity is deleted')
            : new RecordFailure('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id')
        }
        const { record, undo } = updateRecord(org, def, existing, values, writeOptions())
        return { result: { id: record.Id, success: true, errors: [] }, undo }
      }
    })
    return run(steps, allOrNone, ids)
  })

  app.patch('/composite/sobjects/:type/:field', { config: { endpoint: 'collections.upsert', minVersion: 46 } }, (request) => {
    const { org } = rest(request)
    const p = request.params as { type: string; field: string }
    const def = sobjectDef(org, p.type)
    const extField = upsertField(def, p.field)
    const { allOrNone, records } = collectionBody(request)
    const parsed = records.map((raw) => {
      const typed = recordType(org, raw)
      if (typed instanceof RecordFailure) return typed
      if (typed.name !== def.name) return new RecordFailure('INVALID_TYPE', `Record type ${typed.name} does not match the sObject type of the request: ${def.name}`)
      const { id, values } = parseInput(def, raw)
      if (id !== undefined) return new RecordFailure('INVALID_FIELD', 'Id is not allowed when upserting by an external id', ['Id'])
      const key = values.get(extField)
      if (key === null || key === undefined || key === '') return new RecordFailure('MISSING_ARGUMENT', `${extField.name} not specified`, [extField.name])
      return { key: String(key), values }
    })
    const seen = new Map<string, number>()
    const norm = (key: string) => (extField.caseSensitive ? key : key.toLowerCase())
    for (const item of parsed) if (!(item instanceof RecordFailure)) seen.set(norm(item.key), (seen.get(norm(item.key)) ?? 0) + 1)
    const steps = parsed.map((item): Step | RecordFailure => {
      if (item instanceof RecordFailure) return item
      if ((seen.get(norm(item.key)) ?? 0) > 1) return new RecordFailure('DUPLICATE_EXTERNAL_ID', `Duplicate external id specified: ${item.key}`, [extField.name])
      const values: FieldValues = item.values
      return () => {
        const { record, created, undo } = upsertRecord(org, def, extField, item.key, values, writeOptions())
        return { result: { id: record.Id, success: true, errors: [], created }, undo }
      }
    })
    return run(steps, allOrNone)
  })

  app.delete('/composite/sobjects', { config: { endpoint: 'collections.delete', minVersion: 42 } }, (request) => {
    const { org } = rest(request)
    const q = request.query as { ids?: string; allOrNone?: string }
    const rawIds = (q.ids ?? '').split(',').filter(Boolean)
    if (rawIds.length === 0) throw new SfError(400, 'MISSING_ARGUMENT', 'ids parameter is required')
    if (rawIds.length > MAX_COLLECTION_RECORDS) throw tooMany()
    const steps = rawIds.map((raw): Step | RecordFailure => {
      const id = normalizeId(raw)
      const type = id ? sobjectForId(id) : undefined
      if (!id || !type) return new RecordFailure('MALFORMED_ID', `malformed id ${raw}`)
      return () => {
        if (!table(org, type).records.has(id)) {
          throw isDeleted(org, type, id) ? new RecordFailure('ENTITY_IS_DELETED', 'entity is deleted') : new RecordFailure('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id')
        }
        return { result: { id, success: true, errors: [] }, undo: deleteRecord(org, type, id, ctx.clock.now()) }
      }
    })
    return run(steps, q.allOrNone === 'true', rawIds.map((raw) => normalizeId(raw) ?? raw))
  })

  app.get('/composite/sobjects/:type', { config: { endpoint: 'collections.retrieve', minVersion: 42 } }, (request) => {
    const { org, version } = rest(request)
    const def = sobjectDef(org, (request.params as { type: string }).type)
    const q = request.query as { ids?: string; fields?: string }
    const rawIds = (q.ids ?? '').split(',').filter(Boolean)
    if (rawIds.length > 2000) throw new SfError(400, 'EXCEEDED_ID_LIMIT', 'cannot retrieve more than 2000 records')
    if (!q.fields) throw new SfError(400, 'MISSING_ARGUMENT', 'fields parameter is required')
    const fields = q.fields.split(',').map((name) => {
      const f = def.byLowerName.get(name.trim().toLowerCase())
      if (!f) throw new SfError(400, 'INVALID_FIELD', `No such column '${name.trim()}' on entity '${def.name}'`)
      return f
    })
    const lookup = lookupIn(org)
    return rawIds.map((raw) => {
      const id = normalizeId(raw)
      const record = id ? table(org, def.name).records.get(id) : undefined
      return record ? renderFullRecord(fields, def.name, record, version, lookup) : null
    })
  })
}
