// Custom workflow actions (/automation/actions/{version}): definitions (developer API key) and callback completion (OAuth).
import type { FastifyInstance } from 'fastify'
import { notFound, validation } from './api-error.ts'
import type { SimContext } from './context.ts'
import { developerRoute, oauthRoute } from './guard.ts'
import { checkBatchSize, firstQueryValue, isRecord, params, query, requireArray, requireRecord, requireString } from './input.ts'
import { REQUIRES } from './scopes.ts'
import type { ActionDefinition, App, Portal, WorkflowCallback } from './types.ts'
import { SERVED_VERSIONS, type ServedVersion } from './versions.ts'

const EXECUTION_STATES = new Set(['SUCCESS', 'FAIL_CONTINUE'])
const CALLBACK_BATCH_MAX = 100

export function registerWorkflowActionRoutes(server: FastifyInstance, ctx: SimContext): void {
  // One id sequence for every version: they all write the same app's definitions.
  const ids = { next: 56789 }
  for (const version of SERVED_VERSIONS) registerWorkflowActionRoutesAt(server, ctx, version, ids)
}

function registerWorkflowActionRoutesAt(server: FastifyInstance, ctx: SimContext, version: ServedVersion, ids: { next: number }): void {
  const base = `/automation/actions/${version}/:appId`

  developerRoute(server, ctx, 'POST', base, (request, reply, { app }) => {
    const definition: ActionDefinition = { id: String(ids.next++), revision: 1, body: validatedDefinition(request.body, true), archivedAt: null }
    app.actionDefinitions.set(definition.id, definition)
    return reply.code(201).send(serializeDefinition(definition))
  })

  developerRoute(server, ctx, 'GET', base, (request, _reply, { app }) => {
    const q = query(request)
    const archived = firstQueryValue(q.archived) === 'true'
    const limit = Number(firstQueryValue(q.limit) ?? 10)
    const after = Number(firstQueryValue(q.after) ?? 0)
    if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(after) || after < 0) throw validation('limit and after must be positive integers.')
    const all = [...app.actionDefinitions.values()].filter((d) => (d.archivedAt !== null) === archived)
    const page = all.slice(after, after + limit)
    return { results: page.map(serializeDefinition), ...(after + limit < all.length ? { paging: { next: { after: String(after + limit) } } } : {}) }
  })

  developerRoute(server, ctx, 'GET', `${base}/:definitionId`, (request, _reply, { app }) =>
    serializeDefinition(requireDefinition(app, params(request).definitionId, firstQueryValue(query(request).archived) === 'true')),
  )

  developerRoute(server, ctx, 'PATCH', `${base}/:definitionId`, (request, _reply, { app }) => {
    const definition = requireDefinition(app, params(request).definitionId, false)
    definition.body = { ...definition.body, ...validatedDefinition(request.body, false) }
    definition.revision++
    return serializeDefinition(definition)
  })

  developerRoute(server, ctx, 'DELETE', `${base}/:definitionId`, (request, reply, { app }) => {
    requireDefinition(app, params(request).definitionId, false).archivedAt = Date.now()
    return reply.code(204).send()
  })

  oauthRoute(server, ctx, 'POST', `/automation/actions/callbacks/${version}/:callbackId/complete`, REQUIRES.automation, (request, reply, { app, portal }) => {
    const callback = requireCallback(ctx, app, portal, params(request).callbackId)
    const outputFields = validatedOutputFields(requireRecord(request.body, 'request body').outputFields)
    callback.completions.push({ outputFields, receivedAt: Date.now() })
    return reply.code(204).send()
  })

  oauthRoute(server, ctx, 'POST', `/automation/actions/callbacks/${version}/complete`, REQUIRES.automation, (request, reply, { app, portal }) => {
    const inputs = requireArray(requireRecord(request.body, 'request body').inputs, 'inputs')
    checkBatchSize(inputs, CALLBACK_BATCH_MAX)
    const completions = inputs.map((raw) => {
      const input = requireRecord(raw, 'input')
      return { callback: requireCallback(ctx, app, portal, requireString(input.callbackId, 'callbackId')), outputFields: validatedOutputFields(input.outputFields) }
    })
    const receivedAt = Date.now()
    for (const { callback, outputFields } of completions) callback.completions.push({ outputFields, receivedAt })
    return reply.code(204).send()
  })
}

function validatedDefinition(raw: unknown, creating: boolean): Record<string, unknown> {
  const body = requireRecord(raw, 'request body')
  if (creating) {
    for (const field of ['actionUrl', 'inputFields', 'functions', 'published', 'objectTypes', 'labels']) {
      if (body[field] === undefined) throw validation(`${field} is required.`)
    }
  }
  if (body.actionUrl !== undefined && !URL.canParse(String(body.actionUrl))) throw validation(`actionUrl ${String(body.actionUrl)} is not a valid URL.`)
  for (const field of ['inputFields', 'functions', 'objectTypes', 'outputFields']) {
    if (body[field] !== undefined) requireArray(body[field], field)
  }
  if (body.published !== undefined && typeof body.published !== 'boolean') throw validation('published must be a boolean.')
  if (body.labels !== undefined) {
    const labels = requireRecord(body.labels, 'labels')
    const ok = Object.values(labels).length > 0 && Object.values(labels).every((l) => isRecord(l) && typeof l.actionName === 'string')
    if (!ok) throw validation('labels must map at least one locale to an object with actionName.')
  }
  return body
}

function requireDefinition(app: App, id: string | undefined, archived: boolean): ActionDefinition {
  const definition = id === undefined ? undefined : app.actionDefinitions.get(id)
  if (!definition || (definition.archivedAt !== null && !archived)) throw notFound(`Action definition ${id} does not exist for app ${app.appId}.`)
  return definition
}

function requireCallback(ctx: SimContext, app: App, portal: Portal, callbackId: string | undefined): WorkflowCallback {
  const callback = callbackId === undefined ? undefined : ctx.state.callbacks.get(callbackId)
  if (!callback || callback.appId !== app.appId || callback.portalId !== portal.portalId) throw notFound(`Callback ${callbackId} does not exist.`)
  return callback
}

function validatedOutputFields(raw: unknown): Record<string, unknown> {
  const outputFields = requireRecord(raw, 'outputFields')
  const state = outputFields.hs_execution_state
  if (typeof state !== 'string' || !EXECUTION_STATES.has(state)) throw validation('outputFields.hs_execution_state must be SUCCESS or FAIL_CONTINUE.')
  return outputFields
}

function serializeDefinition(d: ActionDefinition): Record<string, unknown> {
  return {
    ...d.body,
    id: d.id,
    revisionId: String(d.revision),
    functions: Array.isArray(d.body.functions) ? d.body.functions : [],
    ...(d.archivedAt === null ? {} : { archivedAt: d.archivedAt }),
  }
}
