// Properties (/crm/properties/{version}) for contacts: read, create (409 when it exists), batch create, groups.
import type { FastifyInstance } from 'fastify'
import { ApiError, notFound, validation } from './api-error.ts'
import type { SimContext } from './context.ts'
import { oauthRoute } from './guard.ts'
import { checkBatchSize, isRecord, params, requireArray, requireRecord, requireString } from './input.ts'
import { REQUIRES } from './scopes.ts'
import type { Portal, PropertyDefinition } from './types.ts'
import { SERVED_VERSIONS, type ServedVersion } from './versions.ts'

const TYPES = new Set(['string', 'number', 'date', 'datetime', 'enumeration', 'bool'])
const FIELD_TYPES = new Set(['text', 'textarea', 'number', 'date', 'select', 'radio', 'checkbox', 'booleancheckbox', 'phonenumber', 'file', 'html', 'calculation_equation'])
const BATCH_MAX = 100

export function registerPropertyRoutes(server: FastifyInstance, ctx: SimContext): void {
  for (const version of SERVED_VERSIONS) registerPropertyRoutesAt(server, ctx, version)
}

function registerPropertyRoutesAt(server: FastifyInstance, ctx: SimContext, version: ServedVersion): void {
  const base = `/crm/properties/${version}/:objectType`

  oauthRoute(server, ctx, 'GET', base, REQUIRES.propertiesRead, (request, _reply, { portal }) => {
    contactsOnly(params(request).objectType)
    return { results: [...portal.properties.values()].map(serializeProperty) }
  })

  oauthRoute(server, ctx, 'GET', `${base}/groups`, REQUIRES.propertiesRead, (request, _reply, { portal }) => {
    contactsOnly(params(request).objectType)
    return { results: [...portal.propertyGroups.values()].map((g) => ({ ...g, archived: false })) }
  })

  oauthRoute(server, ctx, 'GET', `${base}/:propertyName`, REQUIRES.propertiesRead, (request, _reply, { portal }) => {
    contactsOnly(params(request).objectType)
    const name = params(request).propertyName ?? ''
    const property = portal.properties.get(name)
    if (!property) throw notFound(`Unable to find property with name ${name} for object type 0-1.`)
    return serializeProperty(property)
  })

  oauthRoute(server, ctx, 'POST', base, REQUIRES.propertiesWrite, (request, reply, { portal }) => {
    contactsOnly(params(request).objectType)
    const property = parseProperty(portal, request.body)
    if (portal.properties.has(property.name)) throw alreadyExists(property.name)
    portal.properties.set(property.name, property)
    return reply.code(201).send(serializeProperty(property))
  })

  oauthRoute(server, ctx, 'POST', `${base}/batch/create`, REQUIRES.propertiesWrite, (request, reply, { portal }) => {
    contactsOnly(params(request).objectType)
    const startedAt = new Date().toISOString()
    const inputs = requireArray(requireRecord(request.body, 'request body').inputs, 'inputs')
    checkBatchSize(inputs, BATCH_MAX)
    const parsed = inputs.map((input) => parseProperty(portal, input))
    const results: Record<string, unknown>[] = []
    const errors: Record<string, unknown>[] = []
    for (const property of parsed) {
      if (portal.properties.has(property.name)) {
        const error = alreadyExists(property.name)
        errors.push({ status: 'error', category: error.category, message: error.message, context: { name: [property.name] } })
        continue
      }
      portal.properties.set(property.name, property)
      results.push(serializeProperty(property))
    }
    const body = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() }
    return errors.length === 0 ? reply.code(201).send(body) : reply.code(207).send({ ...body, numErrors: errors.length, errors })
  })

  oauthRoute(server, ctx, 'POST', `${base}/groups`, REQUIRES.propertiesWrite, (request, reply, { portal }) => {
    contactsOnly(params(request).objectType)
    const body = requireRecord(request.body, 'request body')
    const name = requireString(body.name, 'name')
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw validation(`Group name ${name} must be lowercase letters, digits and underscores.`)
    if (portal.propertyGroups.has(name)) {
      throw new ApiError(409, 'OBJECT_ALREADY_EXISTS', `A property group named ${name} already exists.`, { context: { name: [name] } })
    }
    const group = { name, label: requireString(body.label, 'label'), displayOrder: typeof body.displayOrder === 'number' ? body.displayOrder : -1 }
    portal.propertyGroups.set(name, group)
    return reply.code(201).send({ ...group, archived: false })
  })
}

function contactsOnly(objectType: string | undefined): void {
  if (objectType !== 'contacts' && objectType !== 'contact' && objectType !== '0-1') {
    throw validation(`This simulator only serves contact properties; got object type ${String(objectType)}.`)
  }
}

function alreadyExists(name: string): ApiError {
  return new ApiError(409, 'OBJECT_ALREADY_EXISTS', `Property named ${name} already exists.`, { context: { name: [name] } })
}

function parseProperty(portal: Portal, raw: unknown): PropertyDefinition {
  const body = requireRecord(raw, 'property')
  const name = requireString(body.name, 'name')
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw validation(`Property name ${name} must start with a lowercase letter and contain only lowercase letters, digits and underscores.`)
  const type = requireString(body.type, 'type')
  const fieldType = requireString(body.fieldType, 'fieldType')
  const groupName = requireString(body.groupName, 'groupName')
  if (!TYPES.has(type)) throw validation(`${type} is not a valid property type.`)
  if (!FIELD_TYPES.has(fieldType)) throw validation(`${fieldType} is not a valid field type.`)
  if (!portal.propertyGroups.has(groupName)) throw validation(`Property group ${groupName} does not exist.`)
  const rawOptions = body.options === undefined ? [] : requireArray(body.options, 'options')
  const options = rawOptions.map((o, i) => {
    if (!isRecord(o) || typeof o.value !== 'string' || typeof o.label !== 'string') throw validation('Each option needs a label and a value.')
    return {
      label: o.label,
      value: o.value,
      displayOrder: typeof o.displayOrder === 'number' ? o.displayOrder : i,
      hidden: o.hidden === true,
      ...(typeof o.description === 'string' ? { description: o.description } : {}),
    }
  })
  if (type === 'enumeration' && options.length === 0) throw validation(`Enumeration property ${name} needs options.`)
  const now = Date.now()
  return {
    name,
    label: requireString(body.label, 'label'),
    type,
    fieldType,
    groupName,
    description: typeof body.description === 'string' ? body.description : '',
    options,
    hubspotDefined: false,
    readOnly: false,
    hasUniqueValue: body.hasUniqueValue === true,
    displayOrder: typeof body.displayOrder === 'number' ? body.displayOrder : -1,
    formField: body.formField === true,
    createdAt: now,
    updatedAt: now,
  }
}

function serializeProperty(p: PropertyDefinition): Record<string, unknown> {
  return {
    name: p.name,
    label: p.label,
    type: p.type,
    fieldType: p.fieldType,
    groupName: p.groupName,
    description: p.description,
    options: p.options,
    displayOrder: p.displayOrder,
    hasUniqueValue: p.hasUniqueValue,
    hidden: false,
    formField: p.formField,
    calculated: false,
    externalOptions: false,
    hubspotDefined: p.hubspotDefined,
    modificationMetadata: { archivable: !p.hubspotDefined, readOnlyDefinition: p.hubspotDefined, readOnlyValue: p.readOnly },
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.updatedAt).toISOString(),
    archived: false,
  }
}
