// The app's contact properties (manifest.json hubspot.properties) in an installed portal, created
// idempotently through the date-versioned properties API: the group when it is missing, then the
// missing properties in one batch create. What exists is never changed: a property of the same
// name with another type is a problem to report, not something to overwrite.
import type { ProvisionOutcome } from '../crm-adapter.ts'
import { HubSpotApiError } from './hubspot-errors.ts'
import type { HubSpotHttp } from './hubspot-http.ts'
import { asArray, asRecord, asString, chunks } from './json.ts'

/** Batch create's input maximum. */
const BATCH_CREATE_MAX = 100
/** HubSpot's answers for "that name is taken": the batch-level category and the per-input one. */
const ALREADY_EXISTS = new Set(['CONFLICT', 'OBJECT_ALREADY_EXISTS'])

export interface PropertyGroupDefinition {
  name: string
  label: string
  displayOrder: number
}

export interface ContactPropertyDefinition {
  name: string
  label: string
  description?: string
  type: string
  fieldType: string
  options?: Array<{ label: string; value: string; displayOrder?: number; description?: string }>
}

export interface AppProperties {
  group: PropertyGroupDefinition
  contact: ContactPropertyDefinition[]
}

export async function provisionProperties(http: HubSpotHttp, app: AppProperties): Promise<ProvisionOutcome> {
  const outcome: ProvisionOutcome = { created: [], present: [], problems: [], nothingToDo: false }
  const groupKey = `group:${app.group.name}`

  const groups = await http.request(http.endpoint('GET', 'properties', '/{objectType}/groups'), { params: { objectType: 'contacts' } })
  if (names(groups.body).has(app.group.name)) outcome.present.push(groupKey)
  else if (await createGroup(http, app.group)) outcome.created.push(groupKey)
  else outcome.present.push(groupKey)

  const existing = await readProperties(http)
  const missing: ContactPropertyDefinition[] = []
  for (const wanted of app.contact) {
    const found = existing.get(wanted.name)
    if (!found) missing.push(wanted)
    else classify(outcome, wanted, found)
  }

  for (const batch of chunks(missing, BATCH_CREATE_MAX)) await createProperties(http, app.group.name, batch, outcome)
  return outcome
}

/** True when created, false when it already existed (someone created it since we looked). */
async function createGroup(http: HubSpotHttp, group: PropertyGroupDefinition): Promise<boolean> {
  try {
    await http.request(http.endpoint('POST', 'properties', '/{objectType}/groups'), {
      params: { objectType: 'contacts' },
      body: { name: group.name, label: group.label, displayOrder: group.displayOrder },
      idempotent: false,
    })
    return true
  } catch (error) {
    if (alreadyExists(error)) return false
    throw error
  }
}

async function createProperties(http: HubSpotHttp, groupName: string, batch: ContactPropertyDefinition[], outcome: ProvisionOutcome): Promise<void> {
  let body: unknown
  try {
    const response = await http.request(http.endpoint('POST', 'properties', '/{objectType}/batch/create'), {
      params: { objectType: 'contacts' },
      body: { inputs: batch.map((p) => toInput(groupName, p)) },
      idempotent: false,
    })
    body = response.body
  } catch (error) {
    // The whole batch refused because names are taken: look again and classify each.
    if (!alreadyExists(error)) throw error
    const existing = await readProperties(http)
    for (const wanted of batch) {
      const found = existing.get(wanted.name)
      if (found) classify(outcome, wanted, found)
      else outcome.problems.push({ name: wanted.name, message: `${wanted.name} was not created: ${(error as Error).message}` })
    }
    return
  }

  const created = names(body)
  const failed = new Map<string, { exists: boolean; message: string }>()
  for (const raw of asArray(asRecord(body).errors)) {
    const entry = asRecord(raw)
    const exists = [entry.category, entry.subCategory].some((c) => ALREADY_EXISTS.has(asString(c) ?? ''))
    const detail = { exists, message: asString(entry.message) ?? 'refused' }
    for (const name of Object.values(asRecord(entry.context)).flatMap(asArray).flatMap((n) => asString(n) ?? [])) failed.set(name, detail)
  }
  let reread: Map<string, Json> | undefined
  for (const wanted of batch) {
    if (created.has(wanted.name)) {
      outcome.created.push(wanted.name)
      continue
    }
    const error = failed.get(wanted.name)
    if (error?.exists) {
      // Created by someone else since we looked: check it is what the app needs.
      reread ??= await readProperties(http)
      const found = reread.get(wanted.name)
      if (found) classify(outcome, wanted, found)
      else outcome.present.push(wanted.name)
      continue
    }
    outcome.problems.push({ name: wanted.name, message: `${wanted.name} was not created: ${error?.message ?? 'HubSpot did not say why'}` })
  }
}

type Json = Record<string, unknown>

/** The portal's contact properties by name, in one call whatever their number. */
async function readProperties(http: HubSpotHttp): Promise<Map<string, Json>> {
  const response = await http.request(http.endpoint('GET', 'properties', '/{objectType}'), { params: { objectType: 'contacts' } })
  const byName = new Map<string, Json>()
  for (const raw of asArray(asRecord(response.body).results)) {
    const property = asRecord(raw)
    const name = asString(property.name)
    if (name) byName.set(name, property)
  }
  return byName
}

function classify(outcome: ProvisionOutcome, wanted: ContactPropertyDefinition, found: Json): void {
  const type = asString(found.type)
  if (type === wanted.type) outcome.present.push(wanted.name)
  else outcome.problems.push({ name: wanted.name, message: `${wanted.name} exists as a ${type ?? 'untyped'} property; the app needs ${wanted.type} (left as it is)` })
}

function toInput(groupName: string, p: ContactPropertyDefinition): Json {
  return {
    name: p.name,
    label: p.label,
    type: p.type,
    fieldType: p.fieldType,
    groupName,
    ...(p.description === undefined ? {} : { description: p.description }),
    ...(p.options ? { options: p.options.map((o, i) => ({ label: o.label, value: o.value, displayOrder: o.displayOrder ?? i, ...(o.description === undefined ? {} : { description: o.description }) })) } : {}),
  }
}

/** Names in a `{ results: [{ name }] }` answer. */
function names(body: unknown): Set<string> {
  return new Set(asArray(asRecord(body).results).flatMap((r) => asString(asRecord(r).name) ?? []))
}

function alreadyExists(error: unknown): boolean {
  return error instanceof HubSpotApiError && (error.httpStatus === 409 || ALREADY_EXISTS.has(error.platformCode ?? ''))
}
