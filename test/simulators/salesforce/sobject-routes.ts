import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SimContext } from './context.ts'
import { describeSObject, sobjectSummary } from './describe.ts'
import { createRecord, deleteRecord, existingRecord, findByExternalId, parseInput, updateRecord, upsertField, upsertRecord, type WriteOptions } from './dml.ts'
import { RecordFailure, SfError, notFound } from './errors.ts'
import { lookupIn, table, type Org } from './state.ts'
import { formatDateTime, renderFullRecord } from './render.ts'
import { rest } from './rest-guard.ts'
import { canonicalSObject, type SObjectDef } from './schema.ts'

// Single-record sObject resources, describe, and the Get Updated / Get Deleted replication resources.

const MINUTE = 60_000
const DAY = 86_400_000
/** Get Updated/Deleted only reach 30 days back and return at most 600,000 ids. */
const REPLICATION_WINDOW_MS = 30 * DAY
const MAX_REPLICATION_IDS = 600_000

export function sobjectDef(org: Org, name: string): SObjectDef {
  const type = canonicalSObject(name)
  const def = type ? org.schema.get(type) : undefined
  if (!def) throw notFound()
  return def
}

/** A per-record failure on a single-record resource is a 400 with the REST error array. */
export function asRequestError(error: unknown): unknown {
  return error instanceof RecordFailure ? new SfError(400, error.error.statusCode, error.error.message, error.error.fields) : error
}

function replicationWindow(ctx: SimContext, request: FastifyRequest): { start: number; end: number; latest: number } {
  const q = request.query as { start?: string; end?: string }
  const parse = (value: string | undefined, name: string): number => {
    const ms = value ? Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : Number.NaN
    if (Number.isNaN(ms)) throw new SfError(400, 'INVALID_REPLICATION_DATE', `${name}: a valid date-time is required`)
    return Math.floor(ms / MINUTE) * MINUTE // seconds are ignored, as documented
  }
  const start = parse(q.start, 'start')
  const end = parse(q.end, 'end')
  const now = ctx.clock.now()
  if (start < now - REPLICATION_WINDOW_MS) throw new SfError(400, 'INVALID_REPLICATION_DATE', 'startDate cannot be more than 30 days ago')
  if (end < start) throw new SfError(400, 'INVALID_REPLICATION_DATE', 'EndDate can not be before StartDate')
  // Covered up to the last whole minute that has passed: later changes show up in the next window.
  return { start, end, latest: Math.min(end, Math.floor(now / MINUTE) * MINUTE) }
}

export function registerSObjectRoutes(app: FastifyInstance, ctx: SimContext): void {
  const writeOptions = (): WriteOptions => ({ now: ctx.clock.now(), faults: ctx.faults })
  const params = (request: FastifyRequest) => request.params as { type: string; id: string; field: string; value: string }

  app.get('/sobjects', { config: { endpoint: 'sobjects.global' } }, (request) => {
    const { org, version } = rest(request)
    return { encoding: 'UTF-8', maxBatchSize: 200, sobjects: [...org.schema.values()].map((d) => sobjectSummary(d, version)) }
  })

  app.get('/sobjects/:type', { config: { endpoint: 'sobject.info' } }, (request) => {
    const { org, version } = rest(request)
    return { objectDescribe: sobjectSummary(sobjectDef(org, params(request).type), version), recentItems: [] }
  })

  app.get('/sobjects/:type/describe', { config: { endpoint: 'sobject.describe' } }, (request) => {
    const { org, version } = rest(request)
    return describeSObject(sobjectDef(org, params(request).type), org.schema.values(), version)
  })

  app.get('/sobjects/:type/updated', { config: { endpoint: 'sobject.updated' } }, (request) => {
    const { org } = rest(request)
    const def = sobjectDef(org, params(request).type)
    const { start, latest } = replicationWindow(ctx, request)
    const ids: string[] = []
    for (const r of table(org, def.name).records.values()) {
      const stamp = r.SystemModstamp as number
      if (stamp >= start && stamp < latest) ids.push(r.Id)
    }
    if (ids.length > MAX_REPLICATION_IDS) throw new SfError(400, 'EXCEEDED_ID_LIMIT', 'Too many ids: narrow the date range')
    return { ids, latestDateCovered: formatDateTime(latest) }
  })

  app.get('/sobjects/:type/deleted', { config: { endpoint: 'sobject.deleted' } }, (request) => {
    const { org } = rest(request)
    const def = sobjectDef(org, params(request).type)
    const { start, latest } = replicationWindow(ctx, request)
    const tombstones = table(org, def.name).deleted
    const deletedRecords = tombstones
      .filter((t) => t.deletedDate >= start && t.deletedDate < latest)
      .map((t) => ({ id: t.id, deletedDate: formatDateTime(t.deletedDate) }))
    const earliest = Math.min(ctx.clock.now() - 15 * DAY, ...tombstones.map((t) => t.deletedDate))
    return { deletedRecords, earliestDateAvailable: formatDateTime(earliest), latestDateCovered: formatDateTime(latest) }
  })

  app.get('/sobjects/:type/:id', { config: { endpoint: 'sobject.get' } }, (request) => {
    const { org, version } = rest(request)
    const def = sobjectDef(org, params(request).type)
    const record = existingRecord(org, def.name, params(request).id)
    if (!record) throw notFound()
    const wanted = (request.query as { fields?: string }).fields
    const fields = wanted
      ? wanted.split(',').map((name) => {
          const f = def.byLowerName.get(name.trim().toLowerCase())
          if (!f) throw new SfError(400, 'INVALID_FIELD', `No such column '${name.trim()}' on entity '${def.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`)
          return f
        })
      : def.fields
    return renderFullRecord(fields, def.name, record, version, lookupIn(org))
  })

  app.post('/sobjects/:type', { config: { endpoint: 'sobject.create' } }, (request, reply) => {
    const { org } = rest(request)
    const def = sobjectDef(org, params(request).type)
    const { id, values } = parseInput(def, request.body)
    if (id !== undefined) throw new SfError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', ['Id'])
    try {
      const { record } = createRecord(org, def, values, writeOptions())
      return reply.code(201).send({ id: record.Id, success: true, errors: [] })
    } catch (error) {
      throw asRequestError(error)
    }
  })

  app.patch('/sobjects/:type/:id', { config: { endpoint: 'sobject.update' } }, (request, reply) => {
    const { org } = rest(request)
    const def = sobjectDef(org, params(request).type)
    const existing = existingRecord(org, def.name, params(request).id)
    if (!existing) throw notFound()
    const { values } = parseInput(def, request.body)
    try {
      updateRecord(org, def, existing, values, writeOptions())
    } catch (error) {
      throw asRequestError(error)
    }
    return reply.code(204).send()
  })

  app.delete('/sobjects/:type/:id', { config: { endpoint: 'sobject.delete' } }, (request, reply) => {
    const { org } = rest(request)
    const def = sobjectDef(org, params(request).type)
    const existing = existingRecord(org, def.name, params(request).id)
    if (!existing) throw notFound()
    deleteRecord(org, def.name, existing.Id, ctx.clock.now())
    return reply.code(204).send()
  })

  app.get('/sobjects/:type/:field/:value', { config: { endpoint: 'sobject.getByExternalId' } }, (request) => {
    const { org, version } = rest(request)
    const p = params(request)
    const def = sobjectDef(org, p.type)
    const record = findByExternalId(org, def.name, upsertField(def, p.field), p.value)
    if (!record) throw notFound()
    return renderFullRecord(def.fields, def.name, record, version, lookupIn(org))
  })

  app.patch('/sobjects/:type/:field/:value', { config: { endpoint: 'sobject.upsert' } }, (request, reply) => {
    const { org, version } = rest(request)
    const p = params(request)
    const def = sobjectDef(org, p.type)
    const field = upsertField(def, p.field)
    const { id, values } = parseInput(def, request.body)
    if (id !== undefined) throw new SfError(400, 'INVALID_FIELD', 'Id is not allowed in the body of an upsert by external id', ['Id'])
    const inBody = values.get(field)
    if (inBody !== undefined && inBody !== p.value) throw new SfError(400, 'INVALID_FIELD', `The value of ${field.name} in the body does not match the URL`, [field.name])
    try {
      const { record, created } = upsertRecord(org, def, field, p.value, values, writeOptions())
      const body = { id: record.Id, success: true, errors: [], created }
      // Since API 46.0 an update answers 200 with the result; before, 204 with no body.
      if (created) return reply.code(201).send(body)
      return Number(version.slice(1)) >= 46 ? reply.code(200).send(body) : reply.code(204).send()
    } catch (error) {
      throw asRequestError(error)
    }
  })
}
