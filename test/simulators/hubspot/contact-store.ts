// Reading, validating and writing contact properties (shared by the contacts, timeline and control APIs).
import { validation } from './api-error.ts'
import type { SimContext } from './context.ts'
import { ALWAYS_RETURNED_PROPERTIES, COMPUTED_PROPERTIES } from './default-properties.ts'
import { isRecord, stringish } from './input.ts'
import type { ChangeSource } from './webhook-dispatcher.ts'
import type { Contact, Portal, PropertyDefinition } from './types.ts'

export function findContact(portal: Portal, id: unknown): Contact | undefined {
  const text = stringish(id)
  return text !== null && /^\d+$/.test(text) ? portal.contacts.get(Number(text)) : undefined
}

export function readContactProperty(contact: Contact, name: string): string | null {
  switch (name) {
    case 'hs_object_id':
      return String(contact.id)
    case 'createdate':
      return new Date(contact.createdAt).toISOString()
    case 'lastmodifieddate':
    case 'hs_lastmodifieddate':
      return new Date(contact.updatedAt).toISOString()
    default:
      return contact.properties[name] ?? null
  }
}

/**
 * A property value as search compares it: numbers for number/date types (computed dates straight
 * from the record, skipping ISO round trips), lower-case text otherwise; null when unset.
 */
export function comparableProperty(contact: Contact, definition: PropertyDefinition): number | string | null {
  switch (definition.name) {
    case 'hs_object_id':
      return contact.id
    case 'createdate':
      return contact.createdAt
    case 'lastmodifieddate':
    case 'hs_lastmodifieddate':
      return contact.updatedAt
  }
  const value = contact.properties[definition.name]
  if (value === undefined || value === '') return null
  return comparableValue(definition, value)
}

export function comparableValue(definition: PropertyDefinition, value: string): number | string {
  if (definition.type === 'number') return Number(value)
  if (definition.type === 'datetime' || definition.type === 'date') return parseDateValue(value)
  return value.toLowerCase()
}

/** SimplePublicObject with the requested (known) properties; unknown names are silently skipped, as HubSpot does. */
export function serializeContact(portal: Portal, contact: Contact, requested: readonly string[], alwaysInclude = ALWAYS_RETURNED_PROPERTIES): Record<string, unknown> {
  const properties: Record<string, string | null> = {}
  for (const name of [...requested, ...alwaysInclude]) {
    if (portal.properties.has(name)) properties[name] = readContactProperty(contact, name)
  }
  return {
    id: String(contact.id),
    properties,
    createdAt: new Date(contact.createdAt).toISOString(),
    updatedAt: new Date(contact.updatedAt).toISOString(),
    archived: false,
  }
}

interface PropertyError {
  isValid: false
  message: string
  error: string
  name: string
  localizedErrorMessage: string
}

/** Checks a `properties` object and returns it as strings ('' = clear), or throws HubSpot's VALIDATION_ERROR. */
export function validatedContactProperties(portal: Portal, raw: unknown): Record<string, string> {
  if (!isRecord(raw)) throw validation('Invalid input JSON: properties must be an object.')
  const errors: PropertyError[] = []
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw)) {
    const definition = portal.properties.get(name)
    const text = value === null ? '' : stringish(value)
    const problem = !definition
      ? (['PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`] as const)
      : definition.readOnly || COMPUTED_PROPERTIES.has(name)
        ? (['READ_ONLY_VALUE', `"${name}" is a read only property; its value cannot be set.`] as const)
        : text === null
          ? (['INVALID_VALUE', `Property "${name}" must be a string, number or boolean.`] as const)
          : valueProblem(definition, text)
    if (problem) errors.push({ isValid: false, message: problem[1], error: problem[0], name, localizedErrorMessage: problem[1] })
    else if (text !== null) out[name] = text
  }
  if (errors.length > 0) {
    throw validation(`Property values were not valid: ${JSON.stringify(errors)}`, {
      errors: errors.map((e) => ({ message: e.message, code: e.error, context: { propertyName: [e.name] } })),
    })
  }
  return out
}

function valueProblem(definition: PropertyDefinition, value: string): readonly [string, string] | null {
  if (value === '') return null
  if (definition.type === 'enumeration' && definition.options.length > 0) {
    const allowed = new Set(definition.options.map((o) => o.value))
    const values = definition.fieldType === 'checkbox' ? value.split(';') : [value]
    const bad = values.find((v) => !allowed.has(v))
    if (bad !== undefined) return ['INVALID_OPTION', `${bad} was not one of the allowed options: [${[...allowed].join(', ')}]`]
  }
  if (definition.type === 'bool' && value !== 'true' && value !== 'false') return ['INVALID_BOOLEAN', `${value} was not a valid boolean (true or false).`]
  if (definition.type === 'number' && !Number.isFinite(Number(value))) return ['INVALID_LONG', `${value} was not a valid number.`]
  if ((definition.type === 'datetime' || definition.type === 'date') && !Number.isFinite(parseDateValue(value))) {
    return ['INVALID_DATE', `${value} was not a valid date or epoch milliseconds value.`]
  }
  return null
}

/** HubSpot accepts epoch milliseconds or ISO-8601 for date properties and filters. */
export function parseDateValue(value: string): number {
  return /^-?\d+$/.test(value) ? Number(value) : Date.parse(value)
}

/**
 * Applies validated values; bumps the modification date only for real changes and, unless
 * `source` is null, fires propertyChange webhooks for them.
 */
export function applyContactChanges(
  ctx: SimContext,
  portal: Portal,
  contact: Contact,
  values: Record<string, string>,
  source: ChangeSource | null,
): Record<string, string> {
  const changed: Record<string, string> = {}
  for (const [name, value] of Object.entries(values)) {
    if ((contact.properties[name] ?? '') === value) continue
    if (value === '') delete contact.properties[name]
    else contact.properties[name] = value
    changed[name] = value
  }
  if (Object.keys(changed).length > 0) {
    contact.updatedAt = Math.max(Date.now(), contact.updatedAt + 1)
    if (source) ctx.webhooks.contactPropertiesChanged(portal, contact.id, changed, source)
  }
  return changed
}
