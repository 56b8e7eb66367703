// Contacts (/crm/objects/{version}/contacts): batch read/update, search, single get/patch.
import type { FastifyInstance } from 'fastify'
import { ApiError, notFound, validation } from './api-error.ts'
import { applyContactChanges, findContact, readContactProperty, serializeContact, validatedContactProperties } from './contact-store.ts'
import type { SimContext } from './context.ts'
import { DEFAULT_RETURNED_PROPERTIES } from './default-properties.ts'
import { oauthRoute } from './guard.ts'
import { checkBatchSize, isRecord, listParam, optionalStringArray, params, query, requireArray, requireRecord, stringish } from './input.ts'
import { REQUIRES } from './scopes.ts'
import { searchContacts } from './search.ts'
import type { Contact, ContactValidationRule, Portal } from './types.ts'
import { SERVED_VERSIONS, type ServedVersion } from './versions.ts'

const BATCH_MAX = 100
const BATCH_MAX_WITH_HISTORY = 50
const NOT_FOUND_MESSAGE = 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.'

export function registerContactRoutes(server: FastifyInstance, ctx: SimContext): void {
  for (const version of SERVED_VERSIONS) registerContactRoutesAt(server, ctx, version)
}

function registerContactRoutesAt(server: FastifyInstance, ctx: SimContext, version: ServedVersion): void {
  const base = `/crm/objects/${version}/contacts`
  const validating = version >= '2026-09'
  oauthRoute(server, ctx, 'POST', `${base}/batch/read`, REQUIRES.contactsRead, (request, reply, { portal }) => {
    const startedAt = new Date().toISOString()
    const body = requireRecord(request.body, 'request body')
    const inputs = requireArray(body.inputs, 'inputs')
    const withHistory = optionalStringArray(body.propertiesWithHistory, 'propertiesWithHistory') ?? []
    checkBatchSize(inputs, withHistory.length > 0 ? BATCH_MAX_WITH_HISTORY : BATCH_MAX)
    const properties = optionalStringArray(body.properties, 'properties') ?? []
    const lookup = contactLookup(portal, body.idProperty)
    const results: Record<string, unknown>[] = []
    const missing: string[] = []
    const seen = new Set<number>()
    for (const input of inputs) {
      const id = isRecord(input) ? stringish(input.id) : null
      const contact = id === null ? undefined : lookup(id)
      if (!contact) {
        missing.push(id ?? String(input))
        continue
      }
      if (seen.has(contact.id)) continue
      seen.add(contact.id)
      const object = serializeContact(portal, contact, properties)
      if (withHistory.length > 0) object.propertiesWithHistory = history(portal, contact, withHistory)
      results.push(object)
    }
    const batch = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() }
    if (missing.length === 0) return batch
    return reply.code(207).send({
      ...batch,
      numErrors: 1,
      errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: NOT_FOUND_MESSAGE, context: { ids: missing }, links: {}, errors: [] }],
    })
  })

  // From 2026-09 a write that breaks an admin validation rule fails for its own record (207).
  oauthRoute(server, ctx, 'POST', `${base}/batch/update`, REQUIRES.contactsWrite, (request, reply, caller) => {
    const startedAt = new Date().toISOString()
    const { portal, app } = caller
    const body = requireRecord(request.body, 'request body')
    const inputs = requireArray(body.inputs, 'inputs')
    checkBatchSize(inputs, BATCH_MAX)
    const lookup = contactLookup(portal, undefined)
    // Validate everything first: a bad input rejects the whole batch and nothing is written.
    const planned: { contact: Contact; values: Record<string, string>; traceId: string | null }[] = []
    const missing: string[] = []
    const ids = new Set<string>()
    for (const raw of inputs) {
      const input = requireRecord(raw, 'input')
      const id = stringish(input.id)
      if (id === null) throw validation('Each input needs an id.')
      if (ids.has(id)) throw validation(`Duplicate IDs found in batch input: [${id}]. IDs must be unique`)
      ids.add(id)
      const values = validatedContactProperties(portal, input.properties)
      const contact = lookup(id)
      if (contact) planned.push({ contact, values, traceId: stringish(input.objectWriteTraceId) })
      else missing.push(id)
    }
    if (missing.length > 0) throw new ApiError(400, 'OBJECT_NOT_FOUND', NOT_FOUND_MESSAGE, { context: { ids: missing } })
    const results: Record<string, unknown>[] = []
    const errors: Record<string, unknown>[] = []
    for (const { contact, values, traceId } of planned) {
      const broken = validating ? brokenRule(portal, contact, values) : undefined
      if (broken) {
        errors.push({ status: 'error', ...ruleError(broken, contact), context: { ids: [String(contact.id)] }, ...(traceId === null ? {} : { objectWriteTraceId: traceId }) })
        continue
      }
      applyContactChanges(ctx, portal, contact, values, { changeSource: 'INTEGRATION', sourceId: String(app.appId) })
      results.push(serializeContact(portal, contact, Object.keys(values)))
    }
    const batch = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() }
    return errors.length === 0 ? batch : reply.code(207).send({ ...batch, numErrors: errors.length, errors })
  })

  oauthRoute(
    server,
    ctx,
    'POST',
    `${base}/search`,
    REQUIRES.contactsRead,
    (request, _reply, { portal }) => {
      const page = searchContacts(portal, request.body)
      return {
        total: page.total,
        results: page.results.map((c) => serializeContact(portal, c, page.properties, [])),
        ...(page.nextAfter === null ? {} : { paging: { next: { after: page.nextAfter } } }),
      }
    },
    { search: true },
  )

  oauthRoute(server, ctx, 'GET', `${base}/:contactId`, REQUIRES.contactsRead, (request, _reply, { portal }) => {
    const q = query(request)
    const contact = contactLookup(portal, q.idProperty)(params(request).contactId ?? '')
    if (!contact) throw notFound('Object not found.  objectId are usually numeric.', { context: { id: [params(request).contactId] } })
    return serializeContact(portal, contact, listParam(q.properties) ?? DEFAULT_RETURNED_PROPERTIES, [])
  })

  oauthRoute(server, ctx, 'PATCH', `${base}/:contactId`, REQUIRES.contactsWrite, (request, _reply, { portal, app }) => {
    const contact = contactLookup(portal, query(request).idProperty)(params(request).contactId ?? '')
    if (!contact) throw notFound('Object not found.  objectId are usually numeric.', { context: { id: [params(request).contactId] } })
    const values = validatedContactProperties(portal, requireRecord(request.body, 'request body').properties)
    const broken = validating ? brokenRule(portal, contact, values) : undefined
    if (broken) {
      const { category, message } = ruleError(broken, contact)
      throw new ApiError(400, category, message)
    }
    applyContactChanges(ctx, portal, contact, values, { changeSource: 'INTEGRATION', sourceId: String(app.appId) })
    return serializeContact(portal, contact, [...DEFAULT_RETURNED_PROPERTIES, ...Object.keys(values)], [])
  })
}

/** The first admin rule the record would break with `values` written, if any. */
function brokenRule(portal: Portal, contact: Contact, values: Record<string, string>): ContactValidationRule | undefined {
  const after = { ...contact.properties, ...values }
  return portal.validationRules.find((rule) => after[rule.when.property] === rule.when.value && !after[rule.property])
}

/** Shape unconfirmed beyond category and a message (reference hubspot.md §0). */
function ruleError(rule: ContactValidationRule, contact: Contact): { category: string; message: string } {
  return {
    category: 'VALIDATION_ERROR',
    message: `Contact ${contact.id}: property ${rule.property} is required when ${rule.when.property} is ${rule.when.value}.`,
  }
}

/** By record id, or by email when `idProperty=email` (the only other unique contact property here). */
function contactLookup(portal: Portal, idProperty: unknown): (id: string) => Contact | undefined {
  if (idProperty === undefined || idProperty === null || idProperty === 'hs_object_id') return (id) => findContact(portal, id)
  if (idProperty !== 'email') throw validation(`Unable to perform lookups by non-unique 0-1 property ${String(idProperty)}`)
  const byEmail = new Map<string, Contact>()
  for (const contact of portal.contacts.values()) {
    const email = contact.properties.email
    if (email) byEmail.set(email.toLowerCase(), contact)
  }
  return (id) => byEmail.get(id.toLowerCase())
}

function history(portal: Portal, contact: Contact, names: string[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {}
  for (const name of names) {
    if (!portal.properties.has(name)) continue
    const value = readContactProperty(contact, name)
    out[name] = value === null ? [] : [{ value, timestamp: new Date(contact.updatedAt).toISOString(), sourceType: 'API', sourceId: 'sim' }]
  }
  return out
}
