// Communications (WhatsApp / LinkedIn / SMS messages logged on the contact timeline).
import type { FastifyInstance } from 'fastify'
import { ApiError, notFound, validation } from './api-error.ts'
import { findContact, parseDateValue } from './contact-store.ts'
import type { SimContext } from './context.ts'
import { oauthRoute } from './guard.ts'
import { checkBatchSize, isRecord, listParam, params, query, requireArray, requireRecord, stringish } from './input.ts'
import { REQUIRES } from './scopes.ts'
import type { Communication, Portal } from './types.ts'
import { SERVED_VERSIONS, type ServedVersion } from './versions.ts'

const BATCH_MAX = 100
const CHANNELS = new Set(['WHATS_APP', 'LINKEDIN_MESSAGE', 'SMS'])
const WRITABLE = new Set(['hs_communication_channel_type', 'hs_communication_logged_from', 'hs_communication_body', 'hs_timestamp', 'hubspot_owner_id'])
/** HubSpot-defined association type "communication to contact". */
const COMMUNICATION_TO_CONTACT = 81
const NOT_FOUND_MESSAGE = 'Could not get some COMMUNICATION objects, they may be deleted or not exist. Check that ids are valid.'

export function registerCommunicationRoutes(server: FastifyInstance, ctx: SimContext): void {
  for (const version of SERVED_VERSIONS) registerCommunicationRoutesAt(server, ctx, version)
}

function registerCommunicationRoutesAt(server: FastifyInstance, ctx: SimContext, version: ServedVersion): void {
  const base = `/crm/objects/${version}/communications`

  oauthRoute(server, ctx, 'POST', base, REQUIRES.contactsWrite, (request, reply, { portal, app }) =>
    reply.code(201).send(serialize(store(portal, app.appId, plan(portal, request.body)), [])),
  )

  oauthRoute(server, ctx, 'POST', `${base}/batch/create`, REQUIRES.contactsWrite, (request, reply, { portal, app }) => {
    const startedAt = new Date().toISOString()
    const inputs = requireArray(requireRecord(request.body, 'request body').inputs, 'inputs')
    checkBatchSize(inputs, BATCH_MAX)
    // All inputs are checked before any is stored, so a bad one leaves nothing half-written.
    const planned = inputs.map((input) => plan(portal, input))
    const results = planned.map((p) => serialize(store(portal, app.appId, p), []))
    return reply.code(201).send({ status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() })
  })

  oauthRoute(server, ctx, 'POST', `${base}/batch/update`, REQUIRES.contactsWrite, (request, _reply, { portal }) => {
    const startedAt = new Date().toISOString()
    const inputs = requireArray(requireRecord(request.body, 'request body').inputs, 'inputs')
    checkBatchSize(inputs, BATCH_MAX)
    const updates = inputs.map((raw) => {
      const input = requireRecord(raw, 'input')
      const id = stringish(input.id) ?? ''
      const properties = validatedProperties(input.properties, false)
      return { id, communication: portal.communications.get(id), properties }
    })
    const missing = updates.filter((u) => !u.communication).map((u) => u.id)
    if (missing.length > 0) throw new ApiError(400, 'OBJECT_NOT_FOUND', NOT_FOUND_MESSAGE, { context: { ids: missing } })
    const now = Date.now()
    const results = updates.flatMap(({ communication, properties }) => {
      if (!communication) return []
      Object.assign(communication.properties, properties)
      communication.updatedAt = Math.max(now, communication.updatedAt + 1)
      return [serialize(communication, [])]
    })
    return { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() }
  })

  oauthRoute(server, ctx, 'GET', `${base}/:communicationId`, REQUIRES.contactsRead, (request, _reply, { portal }) => {
    const id = params(request).communicationId ?? ''
    const communication = portal.communications.get(id)
    if (!communication) throw notFound('Object not found.  objectId are usually numeric.', { context: { id: [id] } })
    return serialize(communication, listParam(query(request).associations) ?? [])
  })
}

interface Planned {
  properties: Record<string, string>
  contactIds: number[]
}

function plan(portal: Portal, raw: unknown): Planned {
  const input = requireRecord(raw, 'input')
  const properties = validatedProperties(input.properties, true)
  const associations = input.associations === undefined ? [] : requireArray(input.associations, 'associations')
  const contactIds = associations.map((a) => {
    if (!isRecord(a) || !isRecord(a.to)) throw validation('Each association needs a `to` object.')
    const types = Array.isArray(a.types) ? a.types : []
    const ok = types.length > 0 && types.every((t) => isRecord(t) && t.associationCategory === 'HUBSPOT_DEFINED' && Number(t.associationTypeId) === COMMUNICATION_TO_CONTACT)
    if (!ok) throw validation(`Only HUBSPOT_DEFINED association type ${COMMUNICATION_TO_CONTACT} (communication to contact) is supported.`)
    const contact = findContact(portal, a.to.id)
    if (!contact) throw validation(`Association target contact ${String(a.to.id)} does not exist.`, { context: { id: [String(a.to.id)] } })
    return contact.id
  })
  return { properties, contactIds }
}

function store(portal: Portal, appId: number, planned: Planned): Communication {
  const now = Date.now()
  const communication: Communication = {
    id: String(portal.nextCommunicationId++),
    appId,
    createdAt: now,
    updatedAt: now,
    properties: planned.properties,
    contactIds: planned.contactIds,
  }
  portal.communications.set(communication.id, communication)
  return communication
}

function validatedProperties(raw: unknown, creating: boolean): Record<string, string> {
  const input = requireRecord(raw, 'properties')
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(input)) {
    if (!WRITABLE.has(name)) throw validation(`Property values were not valid: [{"isValid":false,"message":"Property \\"${name}\\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"${name}"}]`)
    const text = stringish(value)
    if (text === null) throw validation(`Property ${name} must be a string or number.`)
    out[name] = text
  }
  const channel = out.hs_communication_channel_type
  if (channel !== undefined && !CHANNELS.has(channel)) throw validation(`${channel} was not one of the allowed options: [WHATS_APP, LINKEDIN_MESSAGE, SMS]`)
  const loggedFrom = out.hs_communication_logged_from
  if (loggedFrom !== undefined && loggedFrom !== 'CRM') throw validation('hs_communication_logged_from must be CRM.')
  if (out.hs_timestamp !== undefined) {
    const at = parseDateValue(out.hs_timestamp)
    if (!Number.isFinite(at)) throw validation(`${out.hs_timestamp} was not a valid date or epoch milliseconds value.`)
    out.hs_timestamp = new Date(at).toISOString()
  }
  if (creating) {
    for (const required of ['hs_communication_channel_type', 'hs_communication_logged_from', 'hs_timestamp']) {
      if (out[required] === undefined) throw validation(`Required property ${required} is missing.`)
    }
  }
  return out
}

function serialize(c: Communication, associations: string[]): Record<string, unknown> {
  return {
    id: c.id,
    properties: {
      ...c.properties,
      hs_object_id: c.id,
      hs_createdate: new Date(c.createdAt).toISOString(),
      hs_lastmodifieddate: new Date(c.updatedAt).toISOString(),
    },
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
    archived: false,
    ...(associations.includes('contacts') || associations.includes('contact')
      ? { associations: { contacts: { results: c.contactIds.map((id) => ({ id: String(id), type: 'communication_to_contact' })) } } }
      : {}),
  }
}
