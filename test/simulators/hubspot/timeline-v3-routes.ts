// Legacy timeline v3: event templates (developer API key) and events (OAuth), for apps that
// already had templates before app events replaced them.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { ApiError, notFound, validation } from './api-error.ts'
import { applyContactChanges, findContact, validatedContactProperties } from './contact-store.ts'
import type { SimContext } from './context.ts'
import { developerRoute, oauthRoute } from './guard.ts'
import { checkBatchSize, isRecord, params, requireArray, requireRecord, requireString, stringish } from './input.ts'
import { REQUIRES } from './scopes.ts'
import { typeProblem } from './typed-values.ts'
import type { App, Contact, Portal, TimelineEventRecord, TimelineTemplate } from './types.ts'

const TOKEN_TYPES = new Set(['string', 'number', 'date', 'enumeration'])
const MAX_TEMPLATES_PER_APP = 750
const BATCH_MAX = 500

export function registerTimelineV3Routes(server: FastifyInstance, ctx: SimContext): void {
  const templates = '/integrators/timeline/v3/:appId/event-templates'
  let nextTemplateId = 1000001

  developerRoute(server, ctx, 'GET', templates, (_request, _reply, { app }) => ({ results: [...app.timelineTemplates.values()].map(serializeTemplate) }))

  developerRoute(server, ctx, 'POST', templates, (request, reply, { app }) => {
    if (app.timelineTemplates.size >= MAX_TEMPLATES_PER_APP) throw validation(`An app can have at most ${MAX_TEMPLATES_PER_APP} event templates.`)
    const now = Date.now()
    const template: TimelineTemplate = { id: String(nextTemplateId++), ...parseTemplate(request.body), createdAt: now, updatedAt: now }
    app.timelineTemplates.set(template.id, template)
    return reply.code(201).send(serializeTemplate(template))
  })

  developerRoute(server, ctx, 'GET', `${templates}/:eventTemplateId`, (request, _reply, { app }) => serializeTemplate(requireTemplate(app, params(request).eventTemplateId)))

  developerRoute(server, ctx, 'PUT', `${templates}/:eventTemplateId`, (request, _reply, { app }) => {
    const template = requireTemplate(app, params(request).eventTemplateId)
    Object.assign(template, parseTemplate(request.body), { updatedAt: Date.now() })
    return serializeTemplate(template)
  })

  developerRoute(server, ctx, 'DELETE', `${templates}/:eventTemplateId`, (request, reply, { app }) => {
    const template = requireTemplate(app, params(request).eventTemplateId)
    app.timelineTemplates.delete(template.id)
    return reply.code(204).send()
  })

  oauthRoute(server, ctx, 'POST', '/integrators/timeline/v3/events', REQUIRES.timeline, (request, reply, { app, portal }) => {
    const planned = planEvent(app, portal, request.body)
    if (portal.timelineEventKeys.has(keyOf(planned.event))) throw duplicate(planned.event)
    return reply.code(201).send(serializeEvent(commit(ctx, app, portal, planned)))
  })

  oauthRoute(server, ctx, 'POST', '/integrators/timeline/v3/events/batch/create', REQUIRES.timeline, (request, reply, { app, portal }) => {
    const startedAt = new Date().toISOString()
    const inputs = requireArray(requireRecord(request.body, 'request body').inputs, 'inputs')
    checkBatchSize(inputs, BATCH_MAX)
    const planned = inputs.map((input) => planEvent(app, portal, input))
    const results: Record<string, unknown>[] = []
    const errors: Record<string, unknown>[] = []
    for (const p of planned) {
      if (portal.timelineEventKeys.has(keyOf(p.event))) {
        const error = duplicate(p.event)
        errors.push({ status: 'error', category: error.category, message: error.message, context: { id: [p.event.id] } })
      } else {
        results.push(serializeEvent(commit(ctx, app, portal, p)))
      }
    }
    const body = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() }
    return errors.length === 0 ? reply.code(201).send(body) : reply.code(207).send({ ...body, numErrors: errors.length, errors })
  })

  oauthRoute(server, ctx, 'GET', '/integrators/timeline/v3/events/:eventTemplateId/:eventId', REQUIRES.timeline, (request, _reply, { app, portal }) => {
    const { eventTemplateId, eventId } = params(request)
    const event = portal.timelineEvents.find((e) => e.appId === app.appId && e.eventTemplateId === eventTemplateId && e.id === eventId)
    if (!event) throw notFound(`No event ${eventId} for template ${eventTemplateId}.`)
    return serializeEvent(event)
  })
}

function requireTemplate(app: App, id: string | undefined): TimelineTemplate {
  const template = id === undefined ? undefined : app.timelineTemplates.get(id)
  if (!template) throw notFound(`Event template ${id} does not exist for app ${app.appId}.`)
  return template
}

function parseTemplate(raw: unknown): Pick<TimelineTemplate, 'body' | 'tokens'> {
  const body = requireRecord(raw, 'request body')
  requireString(body.name, 'name')
  if (body.objectType !== 'contacts' && body.objectType !== 'CONTACT') throw validation('objectType must be contacts.')
  const tokens = (body.tokens === undefined ? [] : requireArray(body.tokens, 'tokens')).map((raw) => {
    const token = requireRecord(raw, 'token')
    const name = requireString(token.name, 'token name')
    const type = requireString(token.type, 'token type')
    const label = requireString(token.label, 'token label')
    if (!TOKEN_TYPES.has(type)) throw validation(`Token ${name} has invalid type ${type}.`)
    const options = token.options === undefined ? undefined : requireArray(token.options, 'token options').map((o) => ({ value: String(isRecord(o) ? o.value : o) }))
    if (type === 'enumeration' && !options?.length) throw validation(`Enumeration token ${name} needs options.`)
    return {
      name,
      label,
      type,
      ...(options ? { options } : {}),
      ...(typeof token.objectPropertyName === 'string' ? { objectPropertyName: token.objectPropertyName } : {}),
    }
  })
  return { body, tokens }
}

interface PlannedEvent {
  event: TimelineEventRecord
  contact: Contact
  /** Contact properties written through tokens that carry `objectPropertyName`. */
  propertyValues: Record<string, string>
}

function planEvent(app: App, portal: Portal, raw: unknown): PlannedEvent {
  const input = requireRecord(raw, 'event')
  const eventTemplateId = stringish(input.eventTemplateId) ?? ''
  const template = app.timelineTemplates.get(eventTemplateId)
  if (!template) throw validation(`Event template ${eventTemplateId} does not exist for app ${app.appId}.`)
  const email = typeof input.email === 'string' ? input.email.toLowerCase() : null
  const contact =
    input.objectId !== undefined
      ? findContact(portal, input.objectId)
      : email
        ? [...portal.contacts.values()].find((c) => c.properties.email?.toLowerCase() === email)
        : undefined
  if (!contact) throw validation('The event must reference an existing contact by objectId or email.')
  const tokens = input.tokens === undefined ? {} : requireRecord(input.tokens, 'tokens')
  const declared = new Map(template.tokens.map((t) => [t.name, t]))
  const propertyUpdates: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(tokens)) {
    const token = declared.get(name)
    if (!token) throw validation(`Token ${name} is not defined on event template ${eventTemplateId}.`)
    const problem = typeProblem(token.type, token.options?.map((o) => o.value), value)
    if (problem) throw validation(`Token ${name} ${problem}.`)
    if (token.objectPropertyName) propertyUpdates[token.objectPropertyName] = value
  }
  const at = input.timestamp === undefined ? Date.now() : Date.parse(String(input.timestamp))
  if (!Number.isFinite(at)) throw validation(`timestamp ${String(input.timestamp)} is not a valid date.`)
  return {
    event: {
      appId: app.appId,
      eventTemplateId,
      id: stringish(input.id) ?? randomUUID(),
      objectId: String(contact.id),
      tokens,
      timestamp: new Date(at).toISOString(),
      ...(input.extraData === undefined ? {} : { extraData: input.extraData }),
      ...(input.timelineIFrame === undefined ? {} : { timelineIFrame: input.timelineIFrame }),
      createdAt: Date.now(),
    },
    contact,
    propertyValues: validatedContactProperties(portal, propertyUpdates),
  }
}

function commit(ctx: SimContext, app: App, portal: Portal, planned: PlannedEvent): TimelineEventRecord {
  portal.timelineEventKeys.add(keyOf(planned.event))
  portal.timelineEvents.push(planned.event)
  applyContactChanges(ctx, portal, planned.contact, planned.propertyValues, { changeSource: 'INTEGRATION', sourceId: String(app.appId) })
  return planned.event
}

function keyOf(e: TimelineEventRecord): string {
  return `${e.eventTemplateId}:${e.id}`
}

function duplicate(e: TimelineEventRecord): ApiError {
  return new ApiError(409, 'CONFLICT', `An event with id ${e.id} already exists for event template ${e.eventTemplateId}.`)
}

function serializeTemplate(t: TimelineTemplate): Record<string, unknown> {
  return {
    ...t.body,
    id: t.id,
    tokens: t.tokens.map((token) => ({ ...token, createdAt: new Date(t.createdAt).toISOString(), updatedAt: new Date(t.updatedAt).toISOString() })),
    createdAt: new Date(t.createdAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
  }
}

function serializeEvent(e: TimelineEventRecord): Record<string, unknown> {
  return {
    id: e.id,
    eventTemplateId: e.eventTemplateId,
    objectId: e.objectId,
    objectType: 'contacts',
    tokens: e.tokens,
    timestamp: e.timestamp,
    createdAt: new Date(e.createdAt).toISOString(),
    ...(e.extraData === undefined ? {} : { extraData: e.extraData }),
    ...(e.timelineIFrame === undefined ? {} : { timelineIFrame: e.timelineIFrame }),
  }
}
