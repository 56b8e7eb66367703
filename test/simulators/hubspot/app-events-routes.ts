// App events (/integrators/timeline/{version}): occurrences validated against event types declared on the simulator.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { ApiError, validation } from './api-error.ts'
import { findContact } from './contact-store.ts'
import type { SimContext } from './context.ts'
import { oauthRoute } from './guard.ts'
import { checkBatchSize, requireArray, requireRecord, requireString, stringish } from './input.ts'
import { REQUIRES } from './scopes.ts'
import { typeProblem } from './typed-values.ts'
import type { App, AppEventOccurrence, Portal } from './types.ts'
import { SERVED_VERSIONS, type ServedVersion } from './versions.ts'

const BATCH_MAX = 500

export function registerAppEventRoutes(server: FastifyInstance, ctx: SimContext): void {
  for (const version of SERVED_VERSIONS) registerAppEventRoutesAt(server, ctx, version)
}

function registerAppEventRoutesAt(server: FastifyInstance, ctx: SimContext, version: ServedVersion): void {
  oauthRoute(server, ctx, 'POST', `/integrators/timeline/${version}/events`, REQUIRES.timeline, (request, reply, { app, portal }) => {
    const occurrence = parseOccurrence(app, portal, request.body)
    if (portal.appEventKeys.has(keyOf(occurrence))) throw duplicate(occurrence)
    save(portal, occurrence)
    return reply.code(201).send(serialize(occurrence))
  })

  oauthRoute(server, ctx, 'POST', `/integrators/timeline/${version}/events/batch`, REQUIRES.timeline, (request, reply, { app, portal }) => {
    const startedAt = new Date().toISOString()
    const inputs = requireArray(requireRecord(request.body, 'request body').inputs, 'inputs')
    checkBatchSize(inputs, BATCH_MAX)
    // Schema errors reject the whole batch; duplicates only fail their own input (occurrences are immutable).
    const occurrences = inputs.map((input, index) => {
      try {
        return parseOccurrence(app, portal, input)
      } catch (error) {
        if (error instanceof ApiError) throw new ApiError(error.statusCode, error.category, `inputs[${index}]: ${error.message}`, error.extra)
        throw error
      }
    })
    const results: Record<string, unknown>[] = []
    const errors: Record<string, unknown>[] = []
    for (const occurrence of occurrences) {
      if (portal.appEventKeys.has(keyOf(occurrence))) {
        const error = duplicate(occurrence)
        errors.push({ status: 'error', category: error.category, message: error.message, context: { id: [occurrence.id] } })
        continue
      }
      save(portal, occurrence)
      results.push(serialize(occurrence))
    }
    const body = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() }
    return errors.length === 0 ? reply.code(201).send(body) : reply.code(207).send({ ...body, numErrors: errors.length, errors })
  })
}

function parseOccurrence(app: App, portal: Portal, raw: unknown): AppEventOccurrence {
  const input = requireRecord(raw, 'event')
  const eventTypeName = requireString(input.eventTypeName, 'eventTypeName')
  const type = app.eventTypes.get(eventTypeName)
  if (!type) throw validation(`Event type ${eventTypeName} does not exist for app ${app.appId}.`, { context: { eventTypeName: [eventTypeName] } })
  const objectId = stringish(input.objectId)
  if (objectId === null) throw validation('objectId is required.')
  if (!findContact(portal, objectId)) throw validation(`objectId ${objectId} does not match an existing ${type.objectType} record.`, { context: { objectId: [objectId] } })
  const properties = input.properties === undefined ? {} : requireRecord(input.properties, 'properties')
  const declared = new Map(type.properties.map((p) => [p.name, p]))
  const problems: string[] = []
  for (const [name, value] of Object.entries(properties)) {
    const property = declared.get(name)
    if (!property) {
      problems.push(`${name} is not a property of event type ${eventTypeName}`)
      continue
    }
    const problem = typeProblem(property.type, property.options, value)
    if (problem) problems.push(`${name} ${problem}`)
  }
  for (const property of type.properties) {
    if (property.required && properties[property.name] === undefined) problems.push(`${property.name} is required`)
  }
  if (problems.length > 0) throw validation(`Event does not match the schema of ${eventTypeName}: ${problems.join('; ')}.`, { errors: problems.map((message) => ({ message })) })
  const when = stringish(input.timestamp ?? input.occurredAt)
  const at = when === null ? Date.now() : /^\d+$/.test(when) ? Number(when) : Date.parse(when)
  if (!Number.isFinite(at)) throw validation(`timestamp ${when} is not a valid date.`)
  return {
    appId: app.appId,
    eventTypeName,
    id: stringish(input.id) ?? randomUUID(),
    objectId,
    timestamp: new Date(at).toISOString(),
    properties,
    createdAt: Date.now(),
  }
}

function keyOf(o: AppEventOccurrence): string {
  return `${o.appId}:${o.eventTypeName}:${o.id}`
}

function save(portal: Portal, o: AppEventOccurrence): void {
  portal.appEventKeys.add(keyOf(o))
  portal.appEvents.push(o)
}

function duplicate(o: AppEventOccurrence): ApiError {
  return new ApiError(409, 'CONFLICT', `An occurrence with id ${o.id} already exists for event type ${o.eventTypeName}; occurrences are immutable.`)
}

function serialize(o: AppEventOccurrence): Record<string, unknown> {
  return { id: o.id, eventTypeName: o.eventTypeName, objectId: o.objectId, timestamp: o.timestamp, properties: o.properties }
}
